import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { STAGES } from './stages';
import type { LeadEvent } from './timeline';

/**
 * The report rollups (leads.stages_reached, first_* / last_offered_at, the lead_claimers and
 * report_events tables):
 * what the reports need of a lead's timeline, kept beside it so a month's cohort costs one row per
 * lead instead of a walk through its events (bench/digest.ts). `appendEvents` applies them in the
 * caller's transaction, before it inserts the events, so they commit or roll back together.
 *
 * "First" means the lowest event id, as the reports define it. Every domain action updates the lead
 * row before it appends (the row is locked from then to the commit), and these statements lock it
 * too before the events get their ids: whoever writes a lead's events first also sets its firsts.
 * Each first is written once: the `IF(... IS NULL ...)` reads the value from before the statement,
 * whether MariaDB assigns left to right or simultaneously (SIMULTANEOUS_ASSIGNMENT).
 *
 * The same definitions in SQL are the backfill of drizzle/0006_report_rollups.sql, for the rows
 * written before it; test/reports/rollups.test.ts checks that both agree.
 */

/** Event types that change a rollup; any other event costs nothing here. */
export const ROLLUP_EVENT_TYPES: ReadonlySet<string> = new Set([
  'lead.assigned',
  'lead.rerouted',
  'lead.claimed',
  'lead.note_added',
  'lead.followed_up',
  'lead.stage_changed',
  'sla.reminded',
  'sla.escalated',
  'sla.claim_missed',
  'lead.recycled',
]);

/** Events the period figures count: each gets a `report_events` row with its lead's team. */
const PERIOD_EVENTS: ReadonlySet<string> = new Set([
  'lead.stage_changed',
  'sla.reminded',
  'sla.escalated',
  'sla.claim_missed',
  'lead.recycled',
]);

/** Follow-ups that count as a first response when a member makes them. */
const RESPONSES: ReadonlySet<string> = new Set(['lead.note_added', 'lead.followed_up', 'lead.stage_changed']);

/** The bit of a stage in `stages_reached` (STAGES order); 0 for anything that is not a stage. */
export function stageBit(stage: unknown): number {
  const i = typeof stage === 'string' ? (STAGES as readonly string[]).indexOf(stage) : -1;
  return i < 0 ? 0 : 1 << i;
}

export async function applyTimelineRollups(tx: Executor, events: LeadEvent[], now: Date): Promise<void> {
  for (const event of events) {
    if (!ROLLUP_EVENT_TYPES.has(event.type)) continue;
    const set = assignments(event, now);
    if (set.length > 0) {
      await tx.execute(sql`UPDATE leads SET ${sql.join(set, sql`, `)} WHERE id = ${event.leadId}`);
    }
    if (PERIOD_EVENTS.has(event.type)) await insertReportEvent(tx, event, now);
    if (event.type === 'lead.claimed' && event.actor.id !== null) {
      await tx.execute(
        sql`INSERT INTO lead_claimers (lead_id, member_id) VALUES (${event.leadId}, ${event.actor.id})
            ON DUPLICATE KEY UPDATE member_id = member_id`,
      );
    }
  }
}

function assignments(event: LeadEvent, now: Date) {
  const set = [];
  switch (event.type) {
    case 'lead.assigned': {
      const memberId = event.data.memberId;
      const assignee = typeof memberId === 'string' ? memberId : null;
      set.push(
        sql`first_assignee_id = IF(first_assigned_at IS NULL, ${assignee}, first_assignee_id)`,
        sql`first_assigned_at = COALESCE(first_assigned_at, ${now})`,
        sql`last_offered_at = ${now}`,
      );
      break;
    }
    case 'lead.rerouted':
      set.push(sql`last_offered_at = ${now}`);
      break;
    case 'lead.claimed':
      set.push(
        sql`first_claimed_by = IF(first_claimed_at IS NULL, ${event.actor.id}, first_claimed_by)`,
        sql`first_claim_offered_at = IF(first_claimed_at IS NULL, last_offered_at, first_claim_offered_at)`,
        sql`first_claimed_at = COALESCE(first_claimed_at, ${now})`,
      );
      break;
    case 'lead.stage_changed': {
      const bits = stageBit(event.data.from) | stageBit(event.data.to);
      if (bits !== 0) set.push(sql`stages_reached = stages_reached | ${bits}`);
      break;
    }
  }
  if (RESPONSES.has(event.type) && event.actor.type === 'member') {
    set.push(
      sql`first_response_by = IF(first_response_at IS NULL, ${event.actor.id}, first_response_by)`,
      sql`first_response_at = COALESCE(first_response_at, ${now})`,
    );
  }
  return set;
}

/** A JSON string member cut as `LEFT(JSON_UNQUOTE(…), 32)` cuts it; null when it is not a string. */
const text32 = (value: unknown) => (typeof value === 'string' ? [...value].slice(0, 32).join('') : null);

/**
 * The event's `report_events` row, with the lead's team as it is now; a stage change with its stay
 * since the lead's previous stage change (not yet counting this one: the events are inserted after
 * their rollups) or its creation.
 */
async function insertReportEvent(tx: Executor, event: LeadEvent, now: Date): Promise<void> {
  const staged = event.type === 'lead.stage_changed';
  const stay = staged
    ? sql`TIMESTAMPDIFF(MICROSECOND, COALESCE(
        (SELECT p.created_at FROM lead_events p
          WHERE p.lead_id = l.id AND p.type = 'lead.stage_changed' ORDER BY p.id DESC LIMIT 1),
        l.created_at), ${now})`
    : sql`NULL`;
  const ladder =
    event.type === 'sla.reminded' || event.type === 'sla.escalated' ? text32(event.data.ladder) : null;
  await tx.execute(
    sql`INSERT INTO report_events (lead_id, team_id, type, created_at, stage_left, stay_micros, ladder)
        SELECT l.id, l.team_id, ${event.type}, ${now}, ${staged ? text32(event.data.from) : null}, ${stay}, ${ladder}
        FROM leads l WHERE l.id = ${event.leadId}`,
  );
}

/**
 * After a lead's team changed: its `report_events` rows follow (the period figures count a lead's
 * events for the team it is in now).
 */
export async function syncReportEventsTeam(tx: Executor, leadId: number): Promise<void> {
  await tx.execute(
    sql`UPDATE report_events r JOIN leads l ON l.id = r.lead_id
        SET r.team_id = l.team_id
        WHERE r.lead_id = ${leadId} AND NOT (r.team_id <=> l.team_id)`,
  );
}
