import { sql } from 'drizzle-orm';
import type { BusinessCalendar } from '../calendar/business-calendar';
import { calendarForTeam } from '../calendar/team-clock';
import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import { parseDbTime } from '../db/columns';
import { parseDuration } from '../lib/duration';
import { policyFor } from '../sla/lead-timers';
import { cohortWhere, type FigureScope, num, ratio, selectRows } from './figures-sql';
import type { RepFigures } from './figures-types';

export interface ResponseFigures {
  claimed: number;
  claimedWithinSla: number;
  claimedWithinSlaShare: number | null;
  reps: RepFigures[];
}

interface LeadResponseRow {
  grade: string;
  team_id: string | null;
  created_at: string | Date;
  first_assignee: string | null;
  claimer: string | null;
  claim_at: string | Date | null;
  offer_at: string | Date | null;
  /** From the offer the first claim answered (or the creation) to the claim, ms. */
  claim_wait_ms: number | string | null;
  responder: string | null;
  /** From the creation to the first member follow-up, ms. */
  response_ms: number | string | null;
}

/**
 * Claims and first responses of the cohort, from the report rollups on its lead rows (the first
 * offer, claim and member follow-up of each lead, src/leads/timeline-rollups.ts): one row per cohort
 * lead that has one of them, read with the cohort's range of `leads_team_created_idx`. The tally by
 * rep and the percentiles run here over those rows: they are bounded by the cohort of one period,
 * and the claim window may run on a team's business calendar, which SQL cannot evaluate. Who claimed
 * which leads (`withClaimers`, for the per-rep figures) is a second, small aggregate beside it, over
 * `lead_claimers`.
 */
export async function computeResponses(
  deps: { db: Db; org: OrgConfig },
  scope: FigureScope,
  options: { withClaimers?: boolean } = {},
): Promise<ResponseFigures> {
  const withClaimers = options.withClaimers ?? true;
  const [rows, claims] = await Promise.all([
    leadResponses(deps.db, scope),
    withClaimers ? claimsByMember(deps.db, scope) : [],
  ]);
  const withinSla = claimWindowCheck(deps.org);
  const tallies = new Map<string, Tally>();
  const tally = (memberId: string) => {
    let t = tallies.get(memberId);
    if (!t) {
      t = { assigned: 0, claimed: 0, claimedWithinSla: 0, responses: [] };
      tallies.set(memberId, t);
    }
    return t;
  };
  for (const { member_id, leads } of claims) tally(member_id).claimed += num(leads);
  let claimed = 0;
  let claimedWithinSla = 0;
  for (const row of rows) {
    if (row.first_assignee) tally(row.first_assignee).assigned++;
    const claimAt = row.claim_at;
    if (row.claimer && claimAt) {
      claimed++;
      const claim = {
        waitMs: num(row.claim_wait_ms),
        offeredAt: () => parseDbTime(row.offer_at ?? row.created_at),
        claimedAt: () => parseDbTime(claimAt),
      };
      if (withinSla(row.grade, row.team_id, claim)) {
        claimedWithinSla++;
        tally(row.claimer).claimedWithinSla++;
      }
    }
    if (row.responder && row.response_ms !== null) tally(row.responder).responses.push(num(row.response_ms));
  }
  return {
    claimed,
    claimedWithinSla,
    claimedWithinSlaShare: ratio(claimedWithinSla, claimed),
    reps: repRows(deps.org, scope.teamId, tallies),
  };
}

/**
 * One row per cohort lead that counts for someone (first offered to, first claimed by or first
 * followed up by a member): the firsts of each, all from `leads_team_created_idx` (no row is read).
 */
function leadResponses(db: Db, scope: FigureScope): Promise<LeadResponseRow[]> {
  return selectRows<LeadResponseRow>(
    db,
    sql`
      SELECT l.grade, l.team_id, l.created_at, l.first_assignee_id AS first_assignee,
        l.first_claimed_by AS claimer, l.first_claimed_at AS claim_at, l.first_claim_offered_at AS offer_at,
        TIMESTAMPDIFF(MICROSECOND, COALESCE(l.first_claim_offered_at, l.created_at), l.first_claimed_at) DIV 1000
          AS claim_wait_ms,
        l.first_response_by AS responder,
        TIMESTAMPDIFF(MICROSECOND, l.created_at, l.first_response_at) DIV 1000 AS response_ms
      FROM leads l
      WHERE ${cohortWhere(scope)}
        AND (l.first_assignee_id IS NOT NULL OR l.first_claimed_by IS NOT NULL OR l.first_response_by IS NOT NULL)`,
  );
}

/** Cohort leads each member claimed at least once (`lead_claimers`: one row per lead and claimer). */
function claimsByMember(
  db: Db,
  scope: FigureScope,
): Promise<{ member_id: string; leads: number | string }[]> {
  return selectRows(
    db,
    sql`
      SELECT c.member_id, COUNT(*) AS leads
      FROM leads l
      JOIN lead_claimers c ON c.lead_id = l.id
      WHERE ${cohortWhere(scope)}
      GROUP BY c.member_id`,
  );
}

interface Tally {
  assigned: number;
  claimed: number;
  claimedWithinSla: number;
  responses: number[];
}

/**
 * Was a claim made within the grade's claim window of the offer it answered? Wall-clock policies add
 * the window; business-clock policies place it on the team's calendar, as the claim-window timer did
 * (sla/assignment-wiring.ts); a team without a calendar counts wall time there too.
 */
function claimWindowCheck(org: OrgConfig) {
  const calendars = new Map<string, BusinessCalendar | undefined>();
  const calendarOf = (teamId: string | null) => {
    if (teamId === null || !org.teams.some((t) => t.id === teamId)) return undefined;
    if (!calendars.has(teamId)) calendars.set(teamId, calendarForTeam(org, teamId));
    return calendars.get(teamId);
  };
  // Once per grade, not per lead: a month's cohort is tens of thousands of rows.
  const windows = new Map<string, { windowMs: number; business: boolean }>();
  const windowOf = (grade: string) => {
    let window = windows.get(grade);
    if (!window) {
      const policy = policyFor(org, grade);
      window = { windowMs: parseDuration(policy.claimWithin), business: policy.clock === 'business' };
      windows.set(grade, window);
    }
    return window;
  };
  // Wall time is the wait the query measured (times in ms, exact); only a calendar needs the instants.
  return (
    grade: string,
    teamId: string | null,
    claim: { waitMs: number; offeredAt: () => Date; claimedAt: () => Date },
  ): boolean => {
    const { windowMs, business } = windowOf(grade);
    const calendar = business ? calendarOf(teamId) : undefined;
    if (!calendar) return claim.waitMs <= windowMs;
    return claim.claimedAt().getTime() <= calendar.addBusinessTime(claim.offeredAt(), windowMs).getTime();
  };
}

/**
 * One row per rep: for a team, its members in config order (with zeros) and then anyone else who
 * worked its cohort; for the whole organisation, everyone with a non-zero figure, in config order.
 */
function repRows(org: OrgConfig, teamId: string | null, tallies: Map<string, Tally>): RepFigures[] {
  const team = teamId === null ? undefined : org.teams.find((t) => t.id === teamId);
  const order = org.members.map((m) => m.id);
  const ids = new Set<string>(team?.members ?? []);
  const others = [...tallies.keys()].filter((id) => !ids.has(id));
  const position = (id: string) => {
    const i = order.indexOf(id);
    return i < 0 ? order.length : i;
  };
  others.sort((a, b) => position(a) - position(b) || a.localeCompare(b));
  return [...ids, ...others].map((memberId) => {
    const t = tallies.get(memberId) ?? { assigned: 0, claimed: 0, claimedWithinSla: 0, responses: [] };
    const sorted = [...t.responses].sort((a, b) => a - b);
    return {
      memberId,
      name: org.members.find((m) => m.id === memberId)?.name ?? memberId,
      assigned: t.assigned,
      claimed: t.claimed,
      claimedWithinSla: t.claimedWithinSla,
      firstResponseMedianMs: median(sorted),
      firstResponseP90Ms: nearestRank(sorted, 0.9),
    };
  });
}

/** The middle value, or the mean of the two middle values (rounded to a whole ms); null when none. */
export function median(sorted: readonly number[]): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Nearest-rank percentile: the value at rank ⌈p·n⌉ of the sorted values; null when none. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  return sorted[Math.min(n, Math.max(1, Math.ceil(p * n))) - 1]!;
}
