import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Stage } from '../leads/stages';
import type { ReportPeriod } from './figures-types';

/**
 * SQL pieces the figure queries share. Everything here runs on MySQL 8 and MariaDB 10.6+: plain
 * GROUP BY with CASE, JSON_EXTRACT/JSON_UNQUOTE (MariaDB keeps JSON as text, both accept the same
 * functions), correlated subqueries, no window functions, no RETURNING.
 */

/** Which leads a report is about: one team's, or every team's (teamId null). */
export interface FigureScope {
  teamId: string | null;
  period: ReportPeriod;
}

/** The forward chain the funnel walks; lost and nurture sit beside it. */
export const CHAIN: readonly Stage[] = ['new', 'contacted', 'qualified', 'opportunity', 'won'];
export const OPEN_STAGES: readonly Stage[] = ['new', 'contacted', 'qualified', 'opportunity', 'nurture'];

/** A JSON string member of a timeline event's `data` (`$.to`, `$.ladder`, …), as text. */
export const jsonText = (column: SQL, path: string) => sql`JSON_UNQUOTE(JSON_EXTRACT(${column}, ${path}))`;

/** The position of a stage on the chain (new 0 … won 4); lost, nurture and unknown values are 0. */
export function chainRank(stage: SQL): SQL {
  return sql`(CASE ${stage} WHEN 'contacted' THEN 1 WHEN 'qualified' THEN 2 WHEN 'opportunity' THEN 3 WHEN 'won' THEN 4 ELSE 0 END)`;
}

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

/**
 * Per lead, the furthest chain stage it has been in and whether it has been lost or nurtured: its
 * current stage and every `from`/`to` of its stage changes (a lead created in a later stage by an
 * import has only `from` to show it). One row per lead matching `where` (on `leads l`). The stage
 * changes come from `lead_events_type_lead_idx` alone (`stage_from`/`stage_to` are the virtual
 * columns of `data.from`/`data.to` it holds): reading each event's JSON instead cost a random read
 * per event once the table outgrew the buffer pool (bench/digest.ts).
 */
export function stageHistorySql(where: SQL, extraColumns: SQL = sql``): SQL {
  const to = sql`e.stage_to`;
  const from = sql`e.stage_from`;
  return sql`
    SELECT l.id, l.stage${extraColumns},
      GREATEST(${chainRank(sql`l.stage`)}, COALESCE(MAX(${chainRank(to)}), 0), COALESCE(MAX(${chainRank(from)}), 0)) AS max_rank,
      GREATEST(l.stage = 'lost', COALESCE(MAX(${to} = 'lost' OR ${from} = 'lost'), 0)) AS was_lost,
      GREATEST(l.stage = 'nurture', COALESCE(MAX(${to} = 'nurture' OR ${from} = 'nurture'), 0)) AS was_nurture
    FROM leads l
    LEFT JOIN lead_events e ON e.lead_id = l.id AND e.type = 'lead.stage_changed'
    WHERE ${where}
    GROUP BY l.id, l.stage${extraColumns}`;
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
