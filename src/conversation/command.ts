/**
 * What a member typed to the bot, as a typed command (PRODUCT.md 8). Produced by `parseCommand`
 * (grammar.ts), a pure function: the conversation handler (handle-text.ts) decides what each means for
 * the member's leads.
 */

import type { Stage } from '../leads/stages';

export { STAGES, type Stage } from '../leads/stages';

/** BANT fields filled by `预算：50万`-style lines inside a note (PRODUCT.md 8). */
export interface BantFields {
  /** Yuan, when the budget line reads as an amount. */
  budget?: number;
  /** The budget line as typed (`50万`, `年内不超过80万`). */
  budgetText?: string;
  /** 决策人 / authority. */
  authority?: string;
  /** 需求 / need. */
  need?: string;
  /** 时间 / timeline (`Q3`, `年底前`). */
  timeline?: string;
}

/** Which command a refusal is about, for the reply's "type this instead". */
export type CommandName =
  | 'claim'
  | 'stage'
  | 'won'
  | 'lost'
  | 'remind'
  | 'away'
  | 'show'
  | 'reassign'
  | 'note';

export type Command =
  /** Free text: a follow-up note on `#id`, or on the member's current lead when no id is given. */
  | { kind: 'note'; leadId?: number; text: string; fields: BantFields }
  | { kind: 'claim'; leadId?: number }
  | { kind: 'stage'; leadId?: number; stage: Stage }
  /** `amount` absent: the member typed 赢单 without one; the stage gate says what is missing. */
  | { kind: 'won'; leadId?: number; amount?: number }
  | { kind: 'lost'; leadId?: number; reason?: string }
  | { kind: 'remind'; leadId?: number; at: Date; text: string }
  | { kind: 'mine' }
  | { kind: 'pool' }
  | { kind: 'away'; until: Date }
  | { kind: 'back' }
  | { kind: 'show'; leadId?: number }
  | { kind: 'help' }
  | { kind: 'digest' }
  /** Supervisors: `to` is what was typed (a member's name or id), resolved by the handler. */
  | { kind: 'reassign'; leadId?: number; to: string }
  /** A command keyword with arguments we could not read: the reply says what to type instead. */
  | { kind: 'invalid'; command: CommandName; problem: InvalidProblem; detail?: string };

export type InvalidProblem =
  | 'bad_lead_id'
  | 'bad_stage'
  | 'bad_amount'
  | 'bad_time'
  | 'missing_time'
  | 'time_in_past'
  | 'missing_member'
  | 'bad_duration';

export interface ParseContext {
  /** Now, from the injected clock. */
  now: Date;
  /** IANA timezone of the member's team: natural times (明天下午3点) are read in it. */
  timeZone: string;
}
