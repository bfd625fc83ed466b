import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { isNumericScoringField, isScoringField, SCORING_FIELDS } from '../leads/scoring';
import { parseDuration } from '../lib/duration';
import { ConfigError } from '../lib/errors';
import schema from './org-config.schema.json';
import type { OrgConfig } from './org-types';

/**
 * Loads the org config: JSONC → `${ENV}` interpolation → ajv schema (with defaults) → cross-reference
 * checks ajv cannot express → one ConfigError listing every problem, or a deep-frozen OrgConfig.
 * Problems name a JSON pointer and the broken rule in brackets, so `leadrelay config check` output
 * can be acted on without reading the schema.
 */

export type OrgConfigValidator = ValidateFunction<OrgConfig>;
interface Problem {
  path: string;
  message: string;
}
type Env = Record<string, string | undefined>;
type Loose = Record<string, unknown>;

/** Compile once at start and pass it around: compiling costs milliseconds, validating microseconds. */
export function createOrgConfigValidator(): OrgConfigValidator {
  // verbose: errors carry data and parentSchema, which the messages below quote. Strict mode turns
  // schema mistakes into compile errors; strictRequired is off because the fit-rule oneOf branches
  // are `{required: [key]}` naming properties declared one level up.
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    verbose: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  addFormats(ajv);
  return ajv.compile<OrgConfig>(schema);
}

export function loadOrgConfig(
  path: string,
  env: Env = process.env,
  validator: OrgConfigValidator = createOrgConfigValidator(),
): OrgConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `无法读取配置文件：${(err as Error).message}` }]);
  }
  return parseOrgConfig(text, path, env, validator);
}

export function parseOrgConfig(
  text: string,
  file: string,
  env: Env,
  validator: OrgConfigValidator = createOrgConfigValidator(),
): OrgConfig {
  // Notepad on Windows saves UTF-8 with a BOM, which the JSON grammar does not allow.
  const source = text.replace(/^\uFEFF/, '');
  const parseErrors: ParseError[] = [];
  const tree = parseTree(source, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length > 0 || !tree) {
    const problems = parseErrors.map((e) => ({
      path: lineColumn(source, e.offset),
      message: `JSON 语法错误：${PARSE_ERRORS[printParseErrorCode(e.error)] ?? '无法解析'} [${printParseErrorCode(e.error)}]`,
    }));
    throw new ConfigError(file, problems.length > 0 ? problems : [{ path: '1:1', message: '文件为空' }]);
  }

  const problems: Problem[] = [];
  const data = toValue(tree, '', env, problems);

  const report = (more: Problem[]) => {
    // A later stage must not repeat an earlier complaint about the same value (an unset ${TZ} is
    // not also an unknown timezone; a bad duration pattern is not also an unparseable duration).
    const seen = new Set(problems.map((p) => p.path));
    problems.push(...more.filter((p) => !seen.has(p.path)));
  };
  if (!validator(data)) report(describeAjvErrors(validator.errors ?? []));
  report(checkReferences(data));
  if (problems.length > 0) throw new ConfigError(file, problems);
  return deepFreeze(data as OrgConfig);
}

/** Multi-line report for `leadrelay config check`. */
export function formatConfigError(err: ConfigError): string {
  const count = err.problems.length;
  const lines = err.problems.map((p, i) => `  ${i + 1}. ${p.path ? `${p.path}: ` : ''}${p.message}`);
  return [
    `配置文件 ${err.file} 有 ${count} 个问题 (${count} problem${count === 1 ? '' : 's'}):`,
    ...lines,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// JSONC tree → plain value, with duplicate keys reported and ${ENV} interpolated in string values.

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

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function toValue(node: Node, path: string, env: Env, problems: Problem[]): unknown {
  switch (node.type) {
    case 'object': {
      const out: Loose = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (!keyNode || !valueNode) continue;
        const key = String(keyNode.value);
        const childPath = `${path}/${escapePointer(key)}`;
        if (Object.hasOwn(out, key)) {
          problems.push({
            path: childPath,
            message: `字段 "${key}" 重复出现，后一个会覆盖前一个 [duplicateKey]`,
          });
        }
        // defineProperty, not assignment: a "__proto__" key must stay a plain (rejected) field.
        Object.defineProperty(out, key, {
          value: toValue(valueNode, childPath, env, problems),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((child, i) => toValue(child, `${path}/${i}`, env, problems));
    case 'string':
      return interpolate(node.value as string, path || '/', env, problems);
    default:
      return node.value;
  }
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** `$${...}` (escape) | `${NAME}` | `${...` (unclosed, name runs to the end). */
const ENV_REF = /(\$?)\$\{([^}]*)(\}?)/g;

function interpolate(value: string, path: string, env: Env, problems: Problem[]): string {
  return value.replace(ENV_REF, (match: string, escaped: string, name: string, close: string) => {
    if (escaped) return match.slice(1);
    if (!close || !ENV_NAME.test(name)) {
      problems.push({
        path,
        message: `无效的环境变量引用 "${match}"：应写作 \${NAME}（大写字母、数字、下划线）；字面量请写 $\${...}`,
      });
      return match;
    }
    const resolved = env[name];
    if (resolved === undefined) {
      problems.push({ path, message: `环境变量 ${name} 未设置` });
      return match;
    }
    return resolved;
  });
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

function describeAjvErrors(errors: ErrorObject[]): Problem[] {
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

/** A known name within edit distance 2 (or differing only in case), to catch typos like "supervsor". */
function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
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

// ---------------------------------------------------------------------------------------------
// Cross-reference checks. They run even when the schema failed (so one run lists everything), so
// they read the data defensively instead of trusting the OrgConfig type.

const isRecord = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const records = (v: unknown): [number, Loose][] =>
  Array.isArray(v) ? [...v.entries()].filter((entry): entry is [number, Loose] => isRecord(entry[1])) : [];

/** Intl knows the IANA database; ajv does not. Returns the canonical spelling, or null if unknown. */
function resolveTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

function checkTimeZone(owner: Loose, path: string, problems: Problem[]): void {
  const name = owner.timezone;
  if (typeof name !== 'string') return;
  const resolved = resolveTimeZone(name);
  if (resolved === null) {
    problems.push({ path, message: `无效的时区 "${name}"：应为 IANA 时区名，如 Asia/Shanghai [timezone]` });
  } else if (resolved.toLowerCase() === name.toLowerCase()) {
    // Intl accepts "asia/shanghai"; store the canonical case so later string compares agree. Aliases
    // (Asia/Chongqing → Asia/Shanghai) are left as written: the admin chose that name.
    owner.timezone = resolved;
  }
}

/** First index of each id; a repeat is a problem at the repeat's path. */
function checkUniqueIds(items: [number, Loose][], section: string, problems: Problem[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const [i, item] of items) {
    if (typeof item.id !== 'string') continue;
    const seen = first.get(item.id);
    if (seen === undefined) first.set(item.id, i);
    else
      problems.push({
        path: `/${section}/${i}/id`,
        message: `id "${item.id}" 重复，已用于 /${section}/${seen} [unique]`,
      });
  }
  return first;
}

function checkReferences(data: unknown): Problem[] {
  const problems: Problem[] = [];
  if (!isRecord(data)) return problems;
  checkTimeZone(data, '/timezone', problems);

  const members = records(data.members);
  const memberIndex = checkUniqueIds(members, 'members', problems);
  // WeCom userids are case-insensitive (企业微信 "成员UserID … 不区分大小写",
  // https://developer.work.weixin.qq.com/document/path/90195); DingTalk userIds are compared as-is.
  for (const [platform, label, fold] of [
    ['wecom', '企业微信 userid', true],
    ['dingtalk', '钉钉 userId', false],
  ] as const) {
    const owners = new Map<string, number>();
    for (const [i, member] of members) {
      const userId = isRecord(member.platforms) ? member.platforms[platform] : undefined;
      if (typeof userId !== 'string') continue;
      const key = fold ? userId.toLowerCase() : userId;
      const owner = owners.get(key);
      if (owner === undefined) owners.set(key, i);
      else
        problems.push({
          path: `/members/${i}/platforms/${platform}`,
          message: `${label} "${userId}" 已被 /members/${owner} 使用 [unique]`,
        });
    }
  }

  const teams = records(data.teams);
  checkUniqueIds(teams, 'teams', problems);
  const checkMember = (id: unknown, path: string, role?: string) => {
    if (typeof id !== 'string') return;
    const index = memberIndex.get(id);
    if (index === undefined) {
      problems.push({ path, message: `成员 "${id}" 不存在，请先在 members 中定义 [ref]` });
    } else if (role && (members.find(([i]) => i === index)?.[1].active ?? true) === false) {
      // Escalations go to supervisors and directors; a departed one would swallow them.
      problems.push({ path, message: `成员 "${id}" 已停用 (active: false)，不能担任${role} [ref]` });
    }
  };
  for (const [i, team] of teams) {
    if (team.timezone === undefined && typeof data.timezone === 'string') team.timezone = data.timezone;
    else checkTimeZone(team, `/teams/${i}/timezone`, problems);
    checkMember(team.supervisor, `/teams/${i}/supervisor`, '主管');
    checkMember(team.director, `/teams/${i}/director`, '总监');
    if (Array.isArray(team.members)) {
      for (const [j, id] of team.members.entries()) checkMember(id, `/teams/${i}/members/${j}`);
    }
  }

  checkUniqueIds(records(data.sources), 'sources', problems);
  if (isRecord(data.scoring)) checkScoring(data.scoring, problems);
  return problems;
}

function checkScoring(scoring: Loose, problems: Problem[]): void {
  const grades = scoring.grades;
  if (
    isRecord(grades) &&
    typeof grades.A === 'number' &&
    typeof grades.B === 'number' &&
    grades.A <= grades.B
  ) {
    problems.push({
      path: '/scoring/grades',
      message: `A 档分数线 (${grades.A}) 必须高于 B 档 (${grades.B}) [grades]`,
    });
  }

  for (const [i, rule] of records(scoring.fit)) {
    const path = `/scoring/fit/${i}`;
    if (typeof rule.field === 'string' && !isScoringField(rule.field)) {
      const hint = suggest(rule.field, SCORING_FIELDS);
      problems.push({
        path: `${path}/field`,
        message: `未知的字段 "${rule.field}"${hint ? `（是否想写 "${hint}"？）` : ''}：可用 ${SCORING_FIELDS.join(', ')} 或 custom.<key> [field]`,
      });
    }
    if (!isRecord(rule.range)) continue;
    if (typeof rule.field === 'string' && isScoringField(rule.field) && !isNumericScoringField(rule.field)) {
      problems.push({
        path: `${path}/range`,
        message: `range 只能用于数值字段 (companySize, budget, custom.<key>)，"${rule.field}" 不是 [range]`,
      });
    }
    const { min, max } = rule.range;
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      problems.push({ path: `${path}/range`, message: `min (${min}) 不能大于 max (${max}) [range]` });
    }
  }

  const activities = new Map<string, number>();
  for (const [i, rule] of records(scoring.behaviour)) {
    const path = `/scoring/behaviour/${i}`;
    if (typeof rule.halfLife === 'string') {
      try {
        if (parseDuration(rule.halfLife) === 0) {
          problems.push({ path: `${path}/halfLife`, message: '半衰期必须大于 0 [duration]' });
        }
      } catch (err) {
        problems.push({ path: `${path}/halfLife`, message: `${(err as Error).message} [duration]` });
      }
    }
    if (typeof rule.activity !== 'string') continue;
    const seen = activities.get(rule.activity);
    if (seen === undefined) activities.set(rule.activity, i);
    else
      problems.push({
        path: `${path}/activity`,
        message: `行为 "${rule.activity}" 已在 /scoring/behaviour/${seen} 定义，重复会重复计分 [unique]`,
      });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
