import { CronExpressionParser } from 'cron-parser';
import { isNumericScoringField, isScoringField, SCORING_FIELDS } from '../leads/scoring';
import { DURATION_PATTERN, parseDuration } from '../lib/duration';
import { type Problem, suggest } from './org-config-messages';

/**
 * Cross-reference checks ajv cannot express: unique ids and platform user ids, member references
 * from teams, IANA timezones (canonicalised and inherited in place), and scoring rules that contradict
 * each other. They run even when the schema failed (so one run lists everything), so they read the
 * data defensively instead of trusting the OrgConfig type.
 */

type Loose = Record<string, unknown>;

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

export function checkReferences(data: unknown): Problem[] {
  const problems: Problem[] = [];
  if (!isRecord(data)) return problems;
  checkTimeZone(data, '/timezone', problems);
  for (const section of ['sla', 'pool', 'stages', 'conversation'])
    checkDurations(data[section], `/${section}`, problems);

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
    } else if (role && (data.members as Loose[])[index]!.active === false) {
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
    if (isRecord(team.digest)) {
      for (const key of ['cron', 'weeklyCron'] as const) {
        const expression = team.digest[key];
        if (typeof expression !== 'string') continue;
        const problem = cronProblem(expression);
        if (problem) problems.push({ path: `/teams/${i}/digest/${key}`, message: problem });
      }
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

const DURATION = new RegExp(DURATION_PATTERN);

/**
 * The schemas check a duration's spelling (`2h`), not its size: `99999999999d` passes them and would
 * make every timer of its policy an invalid date at the first lead. Every duration-shaped value of the
 * time sections is parsed here, so an absurd one stops the start instead (found by fuzzing).
 */
function checkDurations(value: unknown, path: string, problems: Problem[]): void {
  if (typeof value === 'string') {
    if (!DURATION.test(value)) return;
    try {
      parseDuration(value);
    } catch (err) {
      problems.push({ path, message: `${(err as Error).message} [duration]` });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkDurations(item, `${path}/${i}`, problems);
    });
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) checkDurations(item, `${path}/${key}`, problems);
  }
}

/** Why a five-field cron expression is unusable, in words, or null. */
function cronProblem(expression: string): string | null {
  if (expression.trim().split(/\s+/).length !== 5)
    return `"${expression}" 不是五段式 cron（分 时 日 月 周），例如 "5 9 * * *" 表示每天 09:05 [cron]`;
  try {
    CronExpressionParser.parse(expression);
    return null;
  } catch (error) {
    return `"${expression}" 不是有效的 cron：${(error as Error).message} [cron]`;
  }
}
