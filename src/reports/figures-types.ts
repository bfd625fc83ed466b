import type { Stage } from '../leads/stages';

/**
 * The figures behind a team's digest and the reports API (PRODUCT.md 10–11), for one period. One
 * shape for both, so the digest and `GET /api/v1/reports/*` always agree for the same period.
 *
 * Definitions (the tests compute these by hand, test/reports/figures.test.ts):
 * - the **cohort** is the leads created in `[from, to)` (of the team, when a team is given; a lead's
 *   team is its current `team_id`); cohort figures are about those leads as they stand when the
 *   figures are computed, so a past period's claims and stages keep filling in;
 * - figures "in the period" count timeline events (or closings) in `[from, to)` on any lead of the
 *   team, whatever its cohort;
 * - "first" event means the lowest event id, the timeline's own order;
 * - time spans are wall-clock milliseconds, except where a claim window runs on business time;
 * - money is rounded to 0.01 yuan, ratios to 4 decimal places, days to 2.
 */
export interface ReportPeriod {
  /** Inclusive start (UTC instant of local midnight in `timeZone`). */
  from: Date;
  /** Exclusive end. */
  to: Date;
  timeZone: string;
}

export interface ChannelFigures {
  /**
   * `sources[].channel` (search_ads, web_form …); a source no longer in the config counts under its
   * own id. Rows: channels with cohort leads, and for the whole organisation also channels with a
   * cost entered for the period; most leads first, then by name.
   */
  channel: string;
  /** Cohort leads from sources of this channel. */
  leads: number;
  /** Of those, won (stage won now). */
  won: number;
  /** Sum of won amounts (yuan). */
  wonAmount: number;
  /**
   * Entered channel cost for the period (yuan): each `channel_costs` entry overlapping the period,
   * prorated by the days they share; null when none overlaps. For one team, the team's share of it:
   * cost × the team's cohort leads of the channel / all teams' cohort leads of the channel (0 when
   * the channel has none), so the teams' costs add up to the channel's.
   */
  cost: number | null;
  /** cost / leads; null without cost or leads. */
  costPerLead: number | null;
  /** cost / won; null without cost or wins. */
  costPerWon: number | null;
  /** (wonAmount − cost) / cost; null without cost (or with a cost of 0). */
  roi: number | null;
}

export interface RepFigures {
  memberId: string;
  name: string;
  /** Cohort leads first offered to this rep (`data.memberId` of the lead's first `lead.assigned`). */
  assigned: number;
  /** Cohort leads this rep claimed (at least one `lead.claimed` event by them). */
  claimed: number;
  /**
   * Of those, the leads whose first claim was this rep's and was within the SLA (see
   * `Figures.claimedWithinSla`); the reps' numbers add up to the team's.
   */
  claimedWithinSla: number;
  /**
   * From a cohort lead's creation to its first follow-up by a member (`lead.note_added`,
   * `lead.followed_up`, `lead.stage_changed` with a member actor; admin and system events are not
   * responses), counted for the member who made it. Leads without one are left out. Median: the
   * middle value, or the mean of the two middle ones; p90: nearest rank (the ⌈0.9·n⌉-th smallest).
   * Null when the rep has no such lead.
   */
  firstResponseMedianMs: number | null;
  firstResponseP90Ms: number | null;
}

export interface FunnelStage {
  /** All seven stages in order: the chain new → contacted → qualified → opportunity → won, then lost, nurture. */
  stage: Stage;
  /**
   * Cohort leads that are, or have been, in this stage: the current stage and every `data.from` /
   * `data.to` of their `lead.stage_changed` events; on the chain a later stage implies the earlier
   * ones (a won lead has reached them all), and every lead has reached `new`.
   */
  reached: number;
  /** Cohort leads in this stage now. */
  current: number;
  /**
   * reached / reached of the previous chain stage; null for `new`, for lost and nurture (beside the
   * chain), or when the previous is 0.
   */
  conversion: number | null;
  /**
   * Mean days a lead spent in this stage, over the stage changes in the period that left it (any
   * lead of the team): each stay runs from the lead's previous stage change, or its creation, to the
   * change. Null when none left it.
   */
  avgDays: number | null;
}

export interface Figures {
  teamId: string | null;
  period: ReportPeriod;
  newLeads: number;
  channels: ChannelFigures[];
  /**
   * Cohort leads claimed by anyone (a `lead.claimed` event); and of those, the leads whose first claim
   * came within the grade's `claimWithin` (`policyFor`) of the offer it answered: the latest
   * `lead.assigned` / `lead.rerouted` before the claim, or the lead's creation when it was never
   * offered to a rep (a pool grab). On a business-time policy the window is placed on the team's
   * calendar, as the claim-window timer placed it.
   */
  claimed: number;
  claimedWithinSla: number;
  /** claimedWithinSla / claimed; null when nothing was claimed. */
  claimedWithinSlaShare: number | null;
  reps: RepFigures[];
  funnel: FunnelStage[];
  /**
   * Leads lost during the period (any cohort): stage lost now and `closed_at` in the period, by
   * `leads.lost_reason` ('未填写' when empty), most first, then by reason.
   */
  lossesByReason: { reason: string; count: number }[];
  /**
   * Leads with a follow-up reminder or escalation (`sla.reminded` / `sla.escalated`, ladder follow_up)
   * in the period, each lead once (one overdue follow-up reminds the rep, then escalates up to twice).
   */
  overdueFollowUps: number;
  /** `lead.recycled` events in the period. */
  recycled: number;
  /** SLA breaches in the period: `sla.escalated` (any ladder) and `sla.claim_missed` events. */
  slaBreaches: number;
  /**
   * Weekly only: the team's open pipeline now (new, contacted, qualified, opportunity, nurture; any
   * cohort) weighted by each stage's historical win rate: among the team's leads closed (won or lost)
   * in the 90 days before the period's end that had reached the stage, the share won (0 without
   * such leads).
   */
  forecast?: {
    openLeads: number;
    /** Sum over open leads of (budget or 0) × win rate of their stage. */
    weightedAmount: number;
    /** The five open stages in order; `amount` is the stage's budgets unweighted. */
    byStage: { stage: Stage; leads: number; amount: number; winRate: number }[];
  };
}
