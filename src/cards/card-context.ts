/**
 * What a card template may show: the data the caller hands to `renderCard`. Flat on purpose: a
 * template reaches every value with a `{{root.key}}` path, so each new kind of card adds a documented
 * key here instead of a new nesting level. `CONTEXT_FIELDS` below is the list the loader checks
 * template paths against; the compiler keeps the two in step.
 */

/**
 * A point in time. A `Date`, or its ISO string: outbox rows store the context as JSON, so a card
 * rendered at send time gets strings back.
 */
export type CardTime = Date | string;

/** The lead, as far as cards show it. Columns of `leads` (db/schema.ts) plus the source's name. */
export interface CardLead {
  id: number;
  /** Contact person. */
  name?: string | null;
  /** Shown in full only where the template says so; pool and group cards use `maskPhone`. */
  phone?: string | null;
  company?: string | null;
  /** The contact's job title, e.g. 采购经理. */
  title?: string | null;
  province?: string | null;
  city?: string | null;
  industry?: string | null;
  /** What the customer asked for, free text (may itself contain a phone number: see `redact`). */
  need?: string | null;
  /** Display name of the lead source (百度推广, 官网表单), not its id. */
  sourceName?: string | null;
  /** A, B or C. */
  grade: string;
  score: number;
  /** BANT as recorded (detail card): the budget as typed or in yuan, the decision maker, the timeline. */
  budget?: string | null;
  authority?: string | null;
  timeline?: string | null;
  /** The stage's display name (新线索, 商机 …). */
  stage?: string | null;
}

export interface CardContext {
  lead: CardLead;
  /**
   * The member the card is about: the assigned rep (new-lead, reminder), the one who missed a
   * deadline (escalation), the one who claimed or grabbed the lead (claimed).
   */
  member?: { name: string };
  team?: { name: string };
  /** The deadline shown: the claim window's end, the follow-up due time, the missed deadline. */
  deadline?: CardTime;
  /** A length of time in minutes: the claim window (new-lead) or how long overdue (escalation). */
  minutes?: number;
  /** What the rep failed to do in time, in words: 认领, 首次跟进 (escalation). */
  missed?: string;
  /**
   * Why the card was sent or settled, in words: the reminder's text (回电确认报价), why the lead is in
   * the pool (张伟退回：客户暂无预算), why a card is void (已被李娜抢单).
   */
  reason?: string;
  claimedAt?: CardTime;
  /** Recent timeline of the lead, one short line per event, newest first (detail card). */
  recent?: string;
  /** IANA timezone for times on the card, normally the team's (Asia/Shanghai). Not a template value. */
  timezone: string;
}

/** How a value is shown, and which formatters accept it. */
export type FieldKind = 'text' | 'number' | 'time';

type Scalar = string | number | Date;
type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends Scalar
    ? `${Prefix}${K}`
    : LeafPaths<NonNullable<T[K]>, `${Prefix}${K}.`>;
}[keyof T & string];

/** Every `{{path}}` a template may use, e.g. `lead.phone`, `deadline`. */
export type ContextPath = Exclude<LeafPaths<CardContext>, 'timezone'>;

/**
 * The paths templates may use and their kinds. Typed as a full record over `ContextPath`, so adding a
 * key to `CardContext` without listing it here (or the reverse) does not compile.
 */
export const CONTEXT_FIELDS: Readonly<Record<ContextPath, FieldKind>> = Object.freeze({
  'lead.id': 'number',
  'lead.name': 'text',
  'lead.phone': 'text',
  'lead.company': 'text',
  'lead.title': 'text',
  'lead.province': 'text',
  'lead.city': 'text',
  'lead.industry': 'text',
  'lead.need': 'text',
  'lead.sourceName': 'text',
  'lead.grade': 'text',
  'lead.score': 'number',
  'lead.budget': 'text',
  'lead.authority': 'text',
  'lead.timeline': 'text',
  'lead.stage': 'text',
  'member.name': 'text',
  'team.name': 'text',
  deadline: 'time',
  minutes: 'number',
  missed: 'text',
  reason: 'text',
  claimedAt: 'time',
  recent: 'text',
});

/** The first segments of the known paths: `lead`, `member`, `deadline`, … */
export const CONTEXT_ROOTS: readonly string[] = Object.freeze([
  ...new Set(Object.keys(CONTEXT_FIELDS).map((path) => path.split('.')[0]!)),
]);

export function isContextPath(path: string): path is ContextPath {
  return Object.hasOwn(CONTEXT_FIELDS, path);
}
