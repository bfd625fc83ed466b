import { type core, z } from 'zod';
import type { FieldIssue } from '../lib/errors';

/**
 * zod issues rendered for the people who integrate lead sources: Chinese, with the field's Chinese
 * label, and a hint when an unknown field looks like a known one under another name.
 */
const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  number: '数字',
  int: '整数',
  boolean: '布尔值',
  array: '数组',
  object: '对象',
  null: 'null',
  undefined: '空',
  date: '日期',
};

const typeName = (t: string) => TYPE_NAMES[t] ?? t;

function zhMessage(issue: core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? '必填' : `应为${typeName(issue.expected)}`;
    case 'too_big':
      if (issue.origin === 'string') return `最多 ${issue.maximum} 个字符`;
      if (issue.origin === 'array') return `最多 ${issue.maximum} 项`;
      return `不能大于 ${issue.maximum}`;
    case 'too_small':
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1 ? '不能为空' : `至少 ${issue.minimum} 个字符`;
      if (issue.origin === 'array') return `至少 ${issue.minimum} 项`;
      return `不能小于 ${issue.minimum}`;
    case 'invalid_format':
      if (issue.format === 'url') return '应为以 http:// 或 https:// 开头的网址';
      if (issue.format === 'datetime') return '应为 ISO 8601 时间，例如 2026-11-21T09:30:00+08:00';
      if (issue.format === 'regex') return '格式不正确';
      return `格式不正确（${issue.format}）`;
    case 'invalid_value':
      return `应为以下之一：${issue.values.map(String).join('、')}`;
    case 'invalid_union':
      return '类型不正确';
    case 'unrecognized_keys':
      return `未知字段 ${issue.keys.map((k) => `"${k}"`).join('、')}`;
    case 'invalid_key':
      return '字段名不正确';
    default:
      return undefined;
  }
}

export const zhErrorMap: core.$ZodErrorMap = (issue) =>
  zhMessage(issue) ?? z.locales.zhCN().localeError(issue);

/** Turns zod issues into `{ path, message }` with Chinese labels (`手机号：必填`). */
export function toFieldIssues(
  issues: readonly core.$ZodIssue[],
  labels: Record<string, string> = {},
  aliases: Record<string, string> = {},
): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // One issue per unknown key, at that key's path, with a "did you mean" when we know the alias.
      for (const key of issue.keys) {
        const path = [...issue.path, key].join('.');
        const hint = aliases[key.toLowerCase()];
        out.push({
          path,
          message: hint ? `未知字段，应为 "${hint}"（${labels[hint] ?? hint}）` : '未知字段',
        });
      }
      continue;
    }
    const path = issue.path.map(String).join('.');
    const label = labels[String(issue.path[0] ?? '')];
    out.push({ path, message: label ? `${label}：${issue.message}` : issue.message });
  }
  return out;
}
