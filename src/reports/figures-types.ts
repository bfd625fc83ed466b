import type { Stage } from '../leads/stages';

/**
 * The figures behind a team's digest and the reports API (PRODUCT.md 10–11), for one period. One
 * shape for both, so the digest and `GET /api/v1/reports/*` always agree for the same period.
 *
 * Definitions (the tests compute these by hand):
 * - the **cohort** is the leads created in `[from, to)` (of the team, when a team is given);
 * - time spans are wall-clock milliseconds.
 */
export interface ReportPeriod {
  /** Inclusive start (UTC instant of local midnight in `timeZone`). */
  from: Date;
  /** Exclusive end. */
  to: Date;
  timeZone: string;
}

export interface ChannelFigures {
  /** `sources[].channel` (search_ads, web_form …). */
  channel: string;
  /** Cohort leads from sources of this channel. */
  leads: number;
  /** Of those, won (stage won now). */
  won: number;
  /** Sum of won amounts (yuan). */
  wonAmount: number;
  /** Entered channel cost for the period (yuan), prorated by days; null when none entered. */
  cost: number | null;
  costPerLead: number | null;
  costPerWon: number | null;
  /** (wonAmount − cost) / cost; null without cost. */
  roi: number | null;
}

export interface RepFigures {
  memberId: string;
  name: string;
  /** Cohort leads first offered to this rep (first `lead.assigned` event). */
  assigned: number;
  /** Cohort leads this rep claimed (a `lead.claimed` event by them). */
  claimed: number;
  /** Of those, claimed within the grade's `claimWithin` of assignment. */
  claimedWithinSla: number;
  /** From a cohort lead's creation to the owner's first follow-up (note, 已跟进, stage change). */
  firstResponseMedianMs: number | null;
  firstResponseP90Ms: number | null;
}

export interface FunnelStage {
  stage: Stage;
  /** Cohort leads that are, or have been, in this stage (a later stage of the chain implies it). */
  reached: number;
  /** Cohort leads in this stage now. */
  current: number;
  /** reached / reached of the previous chain stage; null for `new` or when the previous is 0. */
  conversion: number | null;
  /** Mean days a lead spent in this stage, over stage exits in the period; null when none. */
  avgDays: number | null;
}

export interface Figures {
  teamId: string | null;
  period: ReportPeriod;
  newLeads: number;
  channels: ChannelFigures[];
  /** Cohort leads claimed by anyone; and of those within the claim window. */
  claimed: number;
  claimedWithinSla: number;
  /** claimedWithinSla / claimed; null when nothing was claimed. */
  claimedWithinSlaShare: number | null;
  reps: RepFigures[];
  funnel: FunnelStage[];
  /** Leads lost during the period (any cohort), by `leads.lost_reason`, most first. */
  lossesByReason: { reason: string; count: number }[];
  /** Follow-up reminders and escalations (`sla.reminded` / `sla.escalated`, ladder follow_up) in the period. */
  overdueFollowUps: number;
  /** `lead.recycled` events in the period. */
  recycled: number;
  /** SLA breaches in the period: `sla.escalated` and `sla.claim_missed` events. */
  slaBreaches: number;
  /** Weekly only: open pipeline weighted by each stage's historical win rate. */
  forecast?: {
    openLeads: number;
    /** Sum over open leads of (budget or 0) × win rate of their stage. */
    weightedAmount: number;
    byStage: { stage: Stage; leads: number; amount: number; winRate: number }[];
  };
}
