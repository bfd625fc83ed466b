import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Stage } from '../leads/stages';
import { stageBit } from '../leads/timeline-rollups';
import type { ReportPeriod } from './figures-types';

/**
 * SQL pieces the figure queries share. Everything here runs on MySQL 8 and MariaDB 10.6+: plain
 * GROUP BY with CASE, JSON_EXTRACT/JSON_UNQUOTE (MariaDB keeps JSON as text, both accept the same
 * functions), correlated subqueries, no window functions, no RETURNING. What a cohort needs of its
 * leads' timelines comes from the report rollups on the lead rows (src/leads/timeline-rollups.ts).
 */

/** Which leads a report is about: one team's, or every team's (teamId null). */
export interface FigureScope {
  teamId: string | null;
  period: ReportPeriod;
}

/** The forward chain the funnel walks; lost and nurture sit beside it. */
export const CHAIN: readonly Stage[] = ['new', 'contacted', 'qualified', 'opportunity', 'won'];
export const OPEN_STAGES: readonly Stage[] = ['new', 'contacted', 'qualified', 'opportunity', 'nurture'];

/** The cohort predicate on `leads l`: created in the period, of the team when one is given. */
export function cohortWhere(scope: FigureScope): SQL {
  const { from, to } = scope.period;
  const created = sql`l.created_at >= ${from} AND l.created_at < ${to}`;
  // (team_id, created_at) for one team; created_at alone for the whole organisation.
  return scope.teamId === null ? created : sql`l.team_id = ${scope.teamId} AND ${created}`;
}

/** `AND l.team_id = ?` when the report is about one team. */
export function teamAnd(scope: Pick<FigureScope, 'teamId'>): SQL {
  return scope.teamId === null ? sql`` : sql` AND l.team_id = ${scope.teamId}`;
}

/** What a lead's stage history says for the funnel: the furthest chain stage, lost or nurtured ever. */
export interface StageHistory {
  /** Position on the chain (new 0 … won 4) of the furthest chain stage it has been in. */
  maxRank: number;
  wasLost: boolean;
  wasNurture: boolean;
}

/**
 * A lead's stage history from its current stage and `leads.stages_reached` (every stage its stage
 * changes named, `data.from` and `data.to`, one bit per stage in STAGES order; kept by appendEvents,
 * src/leads/timeline-rollups.ts). A lead created in a later stage by an import has only `from` to
 * show it; every lead has been `new`. The queries group by (stage, stages_reached), so this runs
 * once per group, not per lead.
 */
export function stageHistoryOf(stage: string, stagesReached: number | string): StageHistory {
  const reached = num(stagesReached) | stageBit(stage);
  let maxRank = 0;
  CHAIN.forEach((s, rank) => {
    if (reached & stageBit(s)) maxRank = rank;
  });
  return {
    maxRank,
    wasLost: (reached & stageBit('lost')) !== 0,
    wasNurture: (reached & stageBit('nurture')) !== 0,
  };
}

/** Rows of a raw query (drizzle's mysql2 driver answers `[rows, fields]`). */
export async function selectRows<T>(db: Db, query: SQL): Promise<T[]> {
  const [rows] = (await db.execute(query)) as unknown as [T[]];
  return rows;
}

/** COUNT and SUM arrive as numbers, or as strings for DECIMAL sums; NULL stays null. */
export function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export const round2 = (x: number) => Math.round(x * 100) / 100;
export const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** a / b rounded to 4 places; null when b is 0. */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : round4(a / b);
}
