import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { outbox } from '../db/schema';
import type { OutboundMessage, PlatformName } from '../platforms/types';

export interface OutboxItem {
  /** Deterministic effect key, e.g. `lead:42:card:new:wang_lei`. The same key is sent once, ever. */
  dedupeKey: string;
  platform: PlatformName;
  message: OutboundMessage;
  leadId?: number;
  cardId?: string;
}

/**
 * Writes outbox rows inside the caller's transaction (ARCHITECTURE.md: a rolled-back change sends
 * nothing, a committed one is always sent). A key that already exists is left as it is: re-running a
 * domain action cannot queue its message twice.
 */
export async function enqueueOutbox(tx: Executor, items: OutboxItem[], now: Date): Promise<void> {
  if (items.length === 0) return;
  await tx
    .insert(outbox)
    .values(items.map((item) => ({ ...outboxRow(item, now), nextAttemptAt: sql`NOW(3)` })))
    .onDuplicateKeyUpdate({ set: { dedupeKey: sql`${outbox.dedupeKey}` } });
}

/** Due-ness is decided by the database clock (instances may disagree about the time): callers set it. */
function outboxRow(item: OutboxItem, now: Date) {
  return {
    dedupeKey: item.dedupeKey,
    platform: item.platform,
    kind: item.message.kind,
    message: item.message as unknown as Record<string, unknown>,
    leadId: item.leadId ?? null,
    cardId: item.cardId ?? null,
    status: 'pending',
    createdAt: now,
  };
}
