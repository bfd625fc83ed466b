import type { ErrorObject } from 'ajv';
import { escapePointer, suggest } from '../config/org-config-messages';

/**
 * ajv errors on a card template → plain-words problems with a JSON pointer and the broken rule in
 * brackets (`/buttons/2/text: 最多 10 个字符 [maxLength]`), so an admin can fix a template without
 * reading the schema.
 */

export interface PathProblem {
  path: string;
  message: string;
}

const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  number: '数字',
  integer: '整数',
  boolean: '布尔值',
  object: '对象',
  array: '数组',
  null: 'null',
};

/** What a too-long list holds, by the list's property name. */
const ITEM_UNITS: Record<string, string> = { buttons: ' 个按钮', fields: ' 行' };

/** True for an error of the `templateText` pattern: placeholder problems the loader words better. */
export const isTemplateTextPatternError = (e: ErrorObject) =>
  e.keyword === 'pattern' && e.schemaPath.includes('/templateText/');

export function describeAjvError(e: ErrorObject): PathProblem {
  const path = e.instancePath || '/';
  const p = e.params as Record<string, unknown>; // ajv types params per keyword only loosely
  const say = (message: string, at = path) => ({ path: at, message: `${message} [${e.keyword}]` });
  switch (e.keyword) {
    case 'required':
      return say(`缺少必填字段 "${p.missingProperty}"`);
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const hint = suggest(field, Object.keys(e.parentSchema?.properties ?? {}));
      return say(
        `不允许的字段 "${field}"${hint ? `，是否想写 "${hint}"？` : ''}`,
        `${e.instancePath}/${escapePointer(field)}`,
      );
    }
    case 'type':
      return say(`类型应为${TYPE_NAMES[String(p.type)] ?? String(p.type)}`);
    case 'minLength':
      return say(p.limit === 1 ? '不能为空' : `至少 ${p.limit} 个字符`);
    case 'maxLength':
      return say(`最多 ${p.limit} 个字符`);
    case 'maxItems': {
      const list = e.instancePath.split('/').pop() ?? '';
      return say(`最多 ${p.limit}${ITEM_UNITS[list] ?? ' 项'}`);
    }
    case 'enum':
      return say(`必须是以下之一：${(p.allowedValues as unknown[]).join(', ')}`);
    case 'pattern':
      return say(describePattern(e));
    default:
      return say(e.message ?? '不符合 schema');
  }
}

function describePattern(e: ErrorObject): string {
  const value = `"${String(e.data)}"`;
  if (e.schemaPath.includes('/plainText/')) return `${value} 不能有占位符或花括号：这里只能写固定文字`;
  if (e.schemaPath.includes('/templateText/')) return `${value} 的占位符写法有误或有单独的花括号`;
  if (e.instancePath.endsWith('/actionId')) {
    return `${value} 不是合法的 actionId：以小写字母开头，只能用小写字母、数字和 _，最长 32 个字符`;
  }
  if (e.instancePath === '/name') {
    return `${value} 不是合法的模板名：以小写字母开头，只能用小写字母、数字和 -`;
  }
  return `${value} 格式不符合 ${String((e.params as { pattern?: unknown }).pattern)}`;
}
