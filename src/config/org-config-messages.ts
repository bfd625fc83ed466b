import type { ErrorObject } from 'ajv';
import { type ParseError, printParseErrorCode } from 'jsonc-parser';
import schema from './org-config.schema.json';

/**
 * Plain-words problems for the org config: JSONC syntax errors with a line and column, ajv errors with
 * a JSON pointer and the broken rule in brackets, and "did you mean" hints for misspelt names.
 */

export interface Problem {
  path: string;
  message: string;
}
type Loose = Record<string, unknown>;

/** RFC 6901 escaping of one JSON pointer segment. */
export const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

// ---------------------------------------------------------------------------------------------
// JSONC syntax errors → line:column problems.

const PARSE_ERRORS: Record<string, string> = {
  InvalidSymbol: '无效的符号',
  InvalidNumberFormat: '数字格式错误',
  PropertyNameExpected: '缺少字段名',
  ValueExpected: '缺少值',
  ColonExpected: '缺少冒号',
  CommaExpected: '缺少逗号',
  CloseBraceExpected: '缺少 "}"',
  CloseBracketExpected: '缺少 "]"',
  EndOfFileExpected: '此处应为文件结尾',
  InvalidCommentToken: '无效的注释',
  UnexpectedEndOfComment: '注释未闭合',
  UnexpectedEndOfString: '字符串未闭合',
  UnexpectedEndOfNumber: '数字不完整',
  InvalidUnicode: '无效的 Unicode 转义',
  InvalidEscapeCharacter: '无效的转义字符',
  InvalidCharacter: '无效字符',
};

export function describeParseErrors(source: string, errors: ParseError[]): Problem[] {
  return errors.map((e) => ({
    path: lineColumn(source, e.offset),
    message: `JSON 语法错误：${PARSE_ERRORS[printParseErrorCode(e.error)] ?? '无法解析'} [${printParseErrorCode(e.error)}]`,
  }));
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

// ---------------------------------------------------------------------------------------------
// ajv errors → plain-words problems.

const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  number: '数字',
  integer: '整数',
  boolean: '布尔值',
  object: '对象',
  array: '数组',
  null: 'null',
};
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const PATTERN_HINTS: Record<string, string> = {
  [schema.definitions.id.pattern]:
    '不是合法的 id：只能用小写字母、数字、_ 和 -，以字母或数字开头，最长 64 个字符',
  [schema.definitions.duration.pattern]: '不是合法的时长：应写作 30s、5m、2h、1d、2w，或组合如 1h30m',
};

export function describeAjvErrors(errors: ErrorObject[]): Problem[] {
  // oneOf/anyOf failures come with one sub-error per branch ("must have required property equals",
  // "... in", ...); the composite error alone, described from its branches, is what helps.
  const composites = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const isBranchError = (e: ErrorObject) =>
    composites.some(
      (c) =>
        c !== e &&
        e.schemaPath.startsWith(`${c.schemaPath}/`) &&
        (e.instancePath === c.instancePath || e.instancePath.startsWith(`${c.instancePath}/`)),
    );
  return errors.filter((e) => !isBranchError(e)).map(describeAjvError);
}

function describeAjvError(e: ErrorObject): Problem {
  const path = e.instancePath || '/';
  const p = e.params as Record<string, unknown>; // ajv types params per keyword only loosely
  const say = (message: string, at = path) => ({ path: at, message: `${message} [${e.keyword}]` });
  switch (e.keyword) {
    case 'required':
      return say(`缺少必填字段 "${p.missingProperty}"`);
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const hint = suggest(field, Object.keys(e.parentSchema?.properties ?? {}));
      return {
        path: `${e.instancePath}/${escapePointer(field)}`,
        message: `不允许的字段 "${field}" [additionalProperties]${hint ? `，是否想写 "${hint}"？` : ''}`,
      };
    }
    case 'type': {
      const wanted = String(p.type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t)
        .join('或');
      return say(`类型应为${wanted}，实际为${TYPE_NAMES[typeOf(e.data)] ?? typeOf(e.data)}`);
    }
    case 'minimum':
      return say(`必须 >= ${p.limit}`);
    case 'maximum':
      return say(`必须 <= ${p.limit}`);
    case 'exclusiveMinimum':
      return say(`必须 > ${p.limit}`);
    case 'exclusiveMaximum':
      return say(`必须 < ${p.limit}`);
    case 'minLength':
      return say(p.limit === 1 ? '不能为空' : `长度至少为 ${p.limit}`);
    case 'maxLength':
      return say(`长度不能超过 ${p.limit}`);
    case 'minItems':
      return say(`至少需要 ${p.limit} 项`);
    case 'maxItems':
      return say(`最多 ${p.limit} 项`);
    case 'uniqueItems': {
      // Point at the later copy: that is the one to delete.
      const [first, repeat] = [Number(p.i), Number(p.j)].sort((a, b) => a - b);
      return say(`与 ${e.instancePath}/${first} 重复`, `${e.instancePath}/${repeat}`);
    }
    case 'minProperties': {
      const options = Object.keys(e.parentSchema?.properties ?? {});
      return say(`至少需要 ${p.limit} 个字段${options.length > 0 ? `，可选：${options.join(', ')}` : ''}`);
    }
    case 'pattern':
      return say(`"${String(e.data)}" ${PATTERN_HINTS[String(p.pattern)] ?? `格式不符合 ${p.pattern}`}`);
    case 'enum':
      return say(`必须是以下之一：${(p.allowedValues as unknown[]).join(', ')}`);
    case 'format':
      return say(`格式应为 ${p.format}`);
    case 'oneOf':
    case 'anyOf':
      return say(describeBranches(e));
    default:
      return say(e.message ?? '不符合 schema');
  }
}

/**
 * For a oneOf/anyOf whose branches are `{required: [key]}` (fit-rule conditions, member platforms):
 * which keys are missing or, for oneOf, clash.
 */
function describeBranches(e: ErrorObject): string {
  const branches = (e.parentSchema?.[e.keyword] ?? []) as { required?: string[] }[];
  const keys = branches.map((b) => b.required?.[0]).filter((k): k is string => k !== undefined);
  if (keys.length !== branches.length || typeOf(e.data) !== 'object') return '不符合任何一种允许的写法';
  const present = keys.filter((k) => Object.hasOwn(e.data as Loose, k));
  if (present.length === 0) return `缺少 ${keys.join(' / ')} 之一`;
  return `${present.join(' 和 ')} 只能写一个`;
}

/**
 * A known name differing only in case or by a typo or two ("supervsor"), scaled to the word's length
 * so a short unknown field is not "corrected" into an unrelated short one.
 */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
