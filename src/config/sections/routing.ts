import { escapePointer, type Problem, suggest } from '../org-config-messages';
import type { Grade, OrgConfig } from '../org-types';

/**
 * The `routing` section of the org config as written (schema: routing.schema.json, which fills
 * `rules: []` and `stickyOwner: true`): ordered rules that pick a team for a new lead, a fallback
 * team, and the sticky-owner switch. Inside the team the rep is chosen by
 * src/routing/choose-assignee.ts.
 */
export interface RoutingSection {
  /** Tried in order; the first rule whose every condition matches wins. */
  rules?: RoutingRule[];
  /** Default: the first team. */
  fallbackTeam?: string;
  /** Default true: a lead from a company with an owner goes to that owner. */
  stickyOwner?: boolean;
  /** Sticky-owner look-back in hours (earlier leads of the company updated within it); unset = no limit. */
  windowHours?: number;
}

/** The section with its defaults applied: what routing code reads. */
export interface RoutingConfig extends RoutingSection {
  rules: RoutingRule[];
  fallbackTeam: string;
  stickyOwner: boolean;
}

export interface RoutingRule {
  name?: string;
  match: RoutingMatch;
  team: string;
}

/** Every condition given must match; inside one, any listed value does. */
export interface RoutingMatch {
  province?: string[];
  city?: string[];
  industry?: string[];
  /** Source ids. */
  source?: string[];
  campaign?: string[];
  campaignPrefix?: string[];
  grade?: Grade[];
  custom?: Record<string, (string | number | boolean)[]>;
}

/**
 * The routing section with its defaults; without one every lead goes to the first team, sticky owner
 * on. Read through a widened type so this works before OrgConfig declares `routing`.
 */
export function routingOf(org: OrgConfig): RoutingConfig {
  const routing = (org as OrgConfig & { routing?: RoutingSection }).routing ?? {};
  return {
    ...routing,
    rules: routing.rules ?? [],
    fallbackTeam: routing.fallbackTeam ?? org.teams[0]!.id,
    stickyOwner: routing.stickyOwner ?? true,
  };
}

/** How a rule is named in the timeline and in problems: its name, or its position. */
export const ruleLabel = (rule: RoutingRule, index: number) => rule.name ?? `rules[${index}]`;

type Loose = Record<string, unknown>;
const isRecord = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const idsOf = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter(isRecord).flatMap((item) => (typeof item.id === 'string' ? [item.id] : []))
    : [];

/**
 * Cross-reference checks of the routing section, run after the schema (and also when it failed, so
 * the data is read defensively): rules and the fallback name existing teams, sources named in a
 * match exist (a typo would make the rule silently never match), no rule matches everything, and
 * rule names are unique (they identify the rule in the timeline and reports).
 */
export function checkRouting(config: Record<string, unknown>): Problem[] {
  const routing = config.routing;
  if (!isRecord(routing)) return [];
  const problems: Problem[] = [];
  const teams = idsOf(config.teams);
  const sources = idsOf(config.sources);

  const checkTeam = (value: unknown, path: string) => {
    if (typeof value !== 'string' || teams.includes(value)) return;
    const hint = suggest(value, teams);
    problems.push({
      path,
      message: `团队 "${value}" 不存在${hint ? `（是否想写 "${hint}"？）` : ''}，请先在 teams 中定义 [ref]`,
    });
  };
  checkTeam(routing.fallbackTeam, '/routing/fallbackTeam');

  const names = new Map<string, number>();
  const rules = Array.isArray(routing.rules) ? routing.rules : [];
  for (const [i, rule] of rules.entries()) {
    if (!isRecord(rule)) continue;
    const path = `/routing/rules/${i}`;
    checkTeam(rule.team, `${path}/team`);
    if (typeof rule.name === 'string') {
      const seen = names.get(rule.name);
      if (seen === undefined) names.set(rule.name, i);
      else
        problems.push({
          path: `${path}/name`,
          message: `规则名 "${rule.name}" 已用于 /routing/rules/${seen}，时间线和报表将无法区分 [unique]`,
        });
    }
    if (!isRecord(rule.match)) continue;
    if (!hasCondition(rule.match)) {
      problems.push({
        path: `${path}/match`,
        message: '匹配条件为空，会匹配所有线索并使后面的规则失效；兜底请用 fallbackTeam [match]',
      });
    }
    const named = rule.match.source;
    if (Array.isArray(named)) {
      for (const [j, source] of named.entries()) {
        if (typeof source !== 'string' || sources.includes(source)) continue;
        const hint = suggest(source, sources);
        problems.push({
          path: `${path}/match/source/${j}`,
          message: `来源 "${source}" 不存在${hint ? `（是否想写 "${hint}"？）` : ''}，可用：${sources.join(', ')} [ref]`,
        });
      }
    }
    if (isRecord(rule.match.custom)) {
      for (const [key, values] of Object.entries(rule.match.custom)) {
        if (Array.isArray(values) && values.length === 0) {
          problems.push({
            path: `${path}/match/custom/${escapePointer(key)}`,
            message: `自定义字段 "${key}" 没有列出任何值，该规则永远不会匹配 [match]`,
          });
        }
      }
    }
  }
  return problems;
}

/** A match with at least one non-empty condition. */
function hasCondition(match: Loose): boolean {
  return Object.entries(match).some(([key, value]) =>
    key === 'custom'
      ? isRecord(value) && Object.keys(value).length > 0
      : Array.isArray(value) && value.length > 0,
  );
}
