import type { Executor } from '../db/client';
import { leadEvents } from '../db/schema';

export type ActorType = 'source' | 'member' | 'system' | 'admin';

export interface LeadEvent {
  leadId: number;
  /** Dotted domain event name: `lead.created`, `lead.duplicate`, `lead.grade_changed`, … */
  type: string;
  actor: { type: ActorType; id: string | null };
  data: Record<string, unknown>;
}

/** Appends events to the lead timeline in one multi-row INSERT, inside the caller's transaction. */
export async function appendEvents(tx: Executor, events: LeadEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  await tx.insert(leadEvents).values(eventRows(events, now));
}

/** Timeline rows as the table stores them (also used by one-round-trip batches). */
export function eventRows(events: LeadEvent[], now: Date) {
  return events.map((e) => ({
    leadId: e.leadId,
    type: e.type,
    actorType: e.actor.type,
    actorId: e.actor.id,
    data: e.data,
    createdAt: now,
  }));
}
