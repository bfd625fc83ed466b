import type { BehaviourRule, FitRule, Grade, ScoringConfig } from '../config/org-types';
import { parseDuration } from '../lib/duration';
import type { ScoringInput } from './types';

/**
 * Lead scoring: fit points from the lead's fields plus behaviour points from its activities, then a
 * grade. Pure: the caller passes `now`, so re-scoring is reproducible in tests and replays.
 */

type FieldKind = 'text' | 'number' | 'list';

/**
 * Every ScoringInput field a rule may name (plus `custom.<key>`). A Record over the keys, not a list,
 * so adding a field to ScoringInput fails to compile until it is classified here.
 */
const FIELD_KINDS: Record<Exclude<keyof ScoringInput, 'custom'>, FieldKind> = {
  name: 'text',
  phone: 'text',
  email: 'text',
  wechat: 'text',
  company: 'text',
  companyKey: 'text',
  title: 'text',
  province: 'text',
  city: 'text',
  industry: 'text',
  companySize: 'number',
  companySizeText: 'text',
  budget: 'number',
  budgetText: 'text',
  need: 'text',
  campaign: 'text',
  keyword: 'text',
  landingPage: 'text',
  remark: 'text',
  externalId: 'text',
  tags: 'list',
  source: 'text',
};

export const SCORING_FIELDS = Object.keys(FIELD_KINDS) as (keyof typeof FIELD_KINDS)[];
const CUSTOM_FIELD = /^custom\.(.+)$/;

/** A field a fit rule may name: a ScoringInput key (not `custom` itself) or `custom.<key>`. */
export function isScoringField(field: string): boolean {
  return Object.hasOwn(FIELD_KINDS, field) || CUSTOM_FIELD.test(field);
}

/** Fields a `range` rule makes sense on. Custom fields may hold numbers, so they are allowed. */
export function isNumericScoringField(field: string): boolean {
  return CUSTOM_FIELD.test(field) || FIELD_KINDS[field as keyof typeof FIELD_KINDS] === 'number';
}

export interface Activity {
  type: string;
  occurredAt: Date;
}

export interface ScoreBreakdownItem {
  rule: string;
  points: number;
}

export interface LeadScore {
  /** fitScore + behaviourScore, rounded to an integer once at the end; may be negative. */
  score: number;
  /** Sum of matched fit rules' points, rounded to 2 decimals (the breakdown's precision). */
  fitScore: number;
  /** Sum of decayed behaviour points, rounded to 2 decimals. */
  behaviourScore: number;
  grade: Grade;
  /** Matched fit rules, then behaviour rules with at least one counted activity; 2 decimals. */
  breakdown: ScoreBreakdownItem[];
}

export function scoreLead(
  input: ScoringInput,
  activities: readonly Activity[],
  scoring: ScoringConfig,
  now: Date,
): LeadScore {
  const breakdown: ScoreBreakdownItem[] = [];
  let fit = 0;
  for (const rule of scoring.fit) {
    if (!matchesFitRule(rule, lookupField(input, rule.field))) continue;
    fit += rule.points;
    breakdown.push({ rule: rule.label ?? describeFitRule(rule), points: round2(rule.points) });
  }
  let behaviour = 0;
  for (const rule of scoring.behaviour) {
    const points = behaviourPoints(rule, activities, now);
    if (points === null) continue;
    behaviour += points;
    breakdown.push({ rule: rule.label ?? rule.activity, points: round2(points) });
  }
  const score = Math.round(fit + behaviour) + 0; // `+ 0` turns -0 into 0
  return {
    score,
    fitScore: round2(fit),
    behaviourScore: round2(behaviour),
    grade: gradeFor(score, scoring.grades),
    breakdown,
  };
}

export function gradeFor(score: number, grades: ScoringConfig['grades']): Grade {
  if (score >= grades.A) return 'A';
  if (score >= grades.B) return 'B';
  return 'C';
}

function lookupField(input: ScoringInput, field: string): unknown {
  const custom = CUSTOM_FIELD.exec(field);
  if (custom) return input.custom[custom[1]!];
  if (!Object.hasOwn(FIELD_KINDS, field)) return undefined;
  return input[field as keyof typeof FIELD_KINDS];
}

/** Strings compare trimmed and case-insensitively; numbers and booleans strictly; no cross-type match. */
function sameValue(value: unknown, expected: string | number | boolean): boolean {
  if (typeof value === 'string' && typeof expected === 'string') {
    return value.trim().toLowerCase() === expected.trim().toLowerCase();
  }
  return value === expected;
}

/** A list field (tags) matches when any element does; a scalar is a list of one. */
function values(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function matchesFitRule(rule: FitRule, value: unknown): boolean {
  if ('equals' in rule) return values(value).some((v) => sameValue(v, rule.equals));
  if ('in' in rule) return values(value).some((v) => rule.in.some((e) => sameValue(v, e)));
  if ('contains' in rule) {
    const needles = (Array.isArray(rule.contains) ? rule.contains : [rule.contains]).map((n) =>
      n.toLowerCase(),
    );
    return values(value).some(
      (v) => typeof v === 'string' && needles.some((n) => v.toLowerCase().includes(n)),
    );
  }
  if ('range' in rule) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
    const { min, max } = rule.range;
    return (min === undefined || value >= min) && (max === undefined || value <= max);
  }
  return isPresent(value) === rule.exists;
}

function isPresent(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** Null when no activity of the rule's type counts, so the breakdown lists only rules that fired. */
function behaviourPoints(rule: BehaviourRule, activities: readonly Activity[], now: Date): number | null {
  const matching = activities
    .filter((a) => a.type === rule.activity)
    .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime());
  const counted = rule.maxCount === undefined ? matching : matching.slice(0, rule.maxCount);
  if (counted.length === 0) return null;
  const halfLifeMs = rule.halfLife === undefined ? 0 : parseDuration(rule.halfLife);
  let total = 0;
  for (const activity of counted) {
    // A clock-skewed source may report an activity slightly in the future: it counts as brand new.
    const age = Math.max(0, now.getTime() - activity.occurredAt.getTime());
    total += halfLifeMs > 0 ? rule.points * 0.5 ** (age / halfLifeMs) : rule.points;
  }
  return total;
}

function describeFitRule(rule: FitRule): string {
  if ('equals' in rule) return `${rule.field} = ${String(rule.equals)}`;
  if ('in' in rule) return `${rule.field} ∈ [${rule.in.join(', ')}]`;
  if ('contains' in rule) {
    const needles = Array.isArray(rule.contains) ? rule.contains : [rule.contains];
    return `${rule.field} 包含 ${needles.join(' / ')}`;
  }
  if ('range' in rule) return `${rule.field} ${rule.range.min ?? '…'}–${rule.range.max ?? '…'}`;
  return rule.exists ? `${rule.field} 已填写` : `${rule.field} 未填写`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100 + 0;
}
