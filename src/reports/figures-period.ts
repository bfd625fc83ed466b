import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { type FigureScope, jsonText, num, round2, selectRows, teamAnd } from './figures-sql';

/**
 * Figures about what happened during the period to any lead of the team, whatever its cohort: SLA
 * events, stage exits, losses. Each starts from a range on `created_at` / `closed_at` in an index
 * that leads with the event type or the stage, so one day costs one day's events.
 */

export interface SlaEventFigures {
  overdueFollowUps: number;
  recycled: number;
  slaBreaches: number;
}

/** SLA events in the period (`lead_events_type_created_idx`), the lead's team checked by primary key. */
export async function computeSlaEvents(db: Db, scope: FigureScope): Promise<SlaEventFigures> {
  const { from, to } = scope.period;
  const ladder = jsonText(sql`e.data`, '$.ladder');
  const [row] = await selectRows<Record<string, number | string | null>>(
    db,
    sql`
      SELECT
        COUNT(DISTINCT CASE WHEN e.type IN ('sla.reminded', 'sla.escalated') AND ${ladder} = 'follow_up'
          THEN e.lead_id END) AS overdue,
        SUM(CASE WHEN e.type = 'lead.recycled' THEN 1 ELSE 0 END) AS recycled,
        SUM(CASE WHEN e.type IN ('sla.escalated', 'sla.claim_missed') THEN 1 ELSE 0 END) AS breaches
      FROM lead_events e
      JOIN leads l ON l.id = e.lead_id
      WHERE e.type IN ('sla.reminded', 'sla.escalated', 'sla.claim_missed', 'lead.recycled')
        AND e.created_at >= ${from} AND e.created_at < ${to}${teamAnd(scope)}`,
  );
  return {
    overdueFollowUps: num(row?.overdue),
    recycled: num(row?.recycled),
    slaBreaches: num(row?.breaches),
  };
}

/**
 * Mean days in a stage, by the stage left, over the stage changes made in the period: each change
 * ends a stay that began at the lead's previous stage change, or at its creation. The previous change
 * is one step back along `lead_events_type_lead_idx` (type, lead, id) from the change itself.
 *
 * For one team the changes are found from the team's side: a lead that changed stage in the period
 * has `stage_changed_at` (its last change) at or after the period's start, so the team's leads in
 * `leads_team_stage_changed_idx` from that moment on, and their stage changes in the period, are read
 * from the two indexes alone. STRAIGHT_JOIN keeps that order: started from the period's changes of
 * every team instead, each needs a random read of its lead to learn the team (about 4× slower for a
 * week at 1M leads, bench/digest.ts). For the whole organisation, the period's changes through
 * `lead_events_type_created_idx`.
 */
export async function computeStageStays(db: Db, scope: FigureScope): Promise<Map<string, number>> {
  const { from, to } = scope.period;
  const stay = sql`e.stage_from AS stage,
          TIMESTAMPDIFF(MICROSECOND,
            COALESCE(
              (SELECT p.created_at FROM lead_events p
                WHERE p.lead_id = e.lead_id AND p.type = 'lead.stage_changed' AND p.id < e.id
                ORDER BY p.id DESC LIMIT 1),
              l.created_at),
            e.created_at) AS micros`;
  const changes =
    scope.teamId === null
      ? sql`SELECT ${stay}
        FROM lead_events e
        JOIN leads l ON l.id = e.lead_id
        WHERE e.type = 'lead.stage_changed' AND e.created_at >= ${from} AND e.created_at < ${to}`
      : sql`SELECT ${stay}
        FROM leads l
        STRAIGHT_JOIN lead_events e ON e.lead_id = l.id AND e.type = 'lead.stage_changed'
          AND e.created_at >= ${from} AND e.created_at < ${to}
        WHERE l.team_id = ${scope.teamId} AND l.stage_changed_at >= ${from}`;
  const rows = await selectRows<{ stage: string | null; exits: number | string; micros: number | string }>(
    db,
    sql`
      SELECT s.stage, COUNT(*) AS exits, SUM(s.micros) AS micros
      FROM (${changes}) s
      GROUP BY s.stage`,
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
