import type { Executor } from '../db/client';
import { leadEvents } from '../db/schema';
import { applyTimelineRollups, ROLLUP_EVENT_TYPES } from './timeline-rollups';

export type ActorType = 'source' | 'member' | 'system' | 'admin';

export interface LeadEvent {
  leadId: number;
  /** Dotted domain event name: `lead.created`, `lead.duplicate`, `lead.grade_changed`, … */
  type: string;
  actor: { type: ActorType; id: string | null };
  data: Record<string, unknown>;
}

/**
 * Appends events to the lead timeline in one multi-row INSERT, inside the caller's transaction,
 * with the report rollups they change on the lead (timeline-rollups.ts) just before it.
 */
export async function appendEvents(tx: Executor, events: LeadEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  if (events.length > 1 && events.some((e) => ROLLUP_EVENT_TYPES.has(e.type))) {
    // One at a time, so each event's rollups see the events before it (a stay needs the previous change).
    for (const event of events) await appendEvents(tx, [event], now);
    return;
  }
  await applyTimelineRollups(tx, events, now);
  await tx.insert(leadEvents).values(rows(events, now));
}

/**
 * Timeline rows as the table stores them, for one-round-trip batches (intake). Only for events
 * without report rollups (`lead.created`, `lead.duplicate`, …): the others go through
 * `appendEvents`, or the reports would miss them.
 */
export function eventRows(events: LeadEvent[], now: Date) {
  const rolled = events.find((e) => ROLLUP_EVENT_TYPES.has(e.type));
  if (rolled) throw new Error(`${rolled.type} has report rollups: write it with appendEvents`);
  return rows(events, now);
}

function rows(events: LeadEvent[], now: Date) {
  return events.map((e) => ({
    leadId: e.leadId,
    type: e.type,
    actorType: e.actor.type,
    actorId: e.actor.id,
    data: e.data,
    createdAt: now,
  }));
}
