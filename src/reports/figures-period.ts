import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { type FigureScope, num, round2, selectRows, teamAnd } from './figures-sql';

/**
 * Figures about what happened during the period to any lead of the team, whatever its cohort: SLA
 * events, stage exits, losses. Events come from `report_events` (a report rollup of the timeline
 * with each event's lead's current team, src/leads/timeline-rollups.ts): a team's period is one range
 * of `report_events_team_idx` per event type, the whole organisation's one of `report_events_type_idx`,
 * read from the index alone. Losses from `leads_team_stage_closed_idx` / `leads_stage_closed_idx`.
 */

export interface SlaEventFigures {
  overdueFollowUps: number;
  recycled: number;
  slaBreaches: number;
}

/** `report_events r` of the given types in the period, of the team when one is given. */
function periodEventsWhere(scope: FigureScope, types: readonly string[]) {
  const { from, to } = scope.period;
  const typeIn = sql`r.type IN (${sql.join(
    types.map((t) => sql`${t}`),
    sql`, `,
  )})`;
  const team = scope.teamId === null ? sql`` : sql`r.team_id = ${scope.teamId} AND `;
  return sql`${team}${typeIn} AND r.created_at >= ${from} AND r.created_at < ${to}`;
}

/** SLA events in the period (see `Figures`): follow-up ladders by lead, recycling, breaches. */
export async function computeSlaEvents(db: Db, scope: FigureScope): Promise<SlaEventFigures> {
  const [row] = await selectRows<Record<string, number | string | null>>(
    db,
    sql`
      SELECT
        COUNT(DISTINCT CASE WHEN r.type IN ('sla.reminded', 'sla.escalated') AND r.ladder = 'follow_up'
          THEN r.lead_id END) AS overdue,
        SUM(CASE WHEN r.type = 'lead.recycled' THEN 1 ELSE 0 END) AS recycled,
        SUM(CASE WHEN r.type IN ('sla.escalated', 'sla.claim_missed') THEN 1 ELSE 0 END) AS breaches
      FROM report_events r
      WHERE ${periodEventsWhere(scope, ['sla.reminded', 'sla.escalated', 'sla.claim_missed', 'lead.recycled'])}`,
  );
  return {
    overdueFollowUps: num(row?.overdue),
    recycled: num(row?.recycled),
    slaBreaches: num(row?.breaches),
  };
}

/**
 * Mean days in a stage, by the stage left, over the stage changes made in the period: each change
 * ends a stay that began at the lead's previous stage change, or at its creation (`stay_micros`,
 * measured when the change was written).
 */
export async function computeStageStays(db: Db, scope: FigureScope): Promise<Map<string, number>> {
  const rows = await selectRows<{ stage: string | null; exits: number | string; micros: number | string }>(
    db,
    sql`
      SELECT r.stage_left AS stage, COUNT(*) AS exits, SUM(r.stay_micros) AS micros
      FROM report_events r
      WHERE ${periodEventsWhere(scope, ['lead.stage_changed'])}
      GROUP BY r.stage_left`,
  );
  const days = new Map<string, number>();
  for (const row of rows) {
    if (row.stage === null || num(row.exits) === 0) continue;
    days.set(row.stage, round2(num(row.micros) / num(row.exits) / 86_400_000_000));
  }
  return days;
}

/** Label for a lost lead without a recorded reason (older rows, imports). */
export const NO_REASON = '未填写';

/**
 * Leads lost during the period and still lost, by reason (`leads_stage_closed_idx`: stage, then the
 * closing time, then the team, all read from the index before a row is touched).
 */
export async function computeLosses(
  db: Db,
  scope: FigureScope,
): Promise<{ reason: string; count: number }[]> {
  const { from, to } = scope.period;
  const rows = await selectRows<{ reason: string | null; n: number | string }>(
    db,
    sql`
      SELECT l.lost_reason AS reason, COUNT(*) AS n
      FROM leads l
      WHERE l.stage = 'lost' AND l.closed_at >= ${from} AND l.closed_at < ${to}${teamAnd(scope)}
      GROUP BY l.lost_reason`,
  );
  const counts = new Map<string, number>();
  for (const row of rows) {
    const reason = row.reason?.trim() ? row.reason : NO_REASON;
    counts.set(reason, (counts.get(reason) ?? 0) + num(row.n));
  }
  return [...counts]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason, 'zh'));
}
