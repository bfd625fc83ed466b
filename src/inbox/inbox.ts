import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { inboxEvents } from '../db/schema';
import { ER_DUP_ENTRY, mysqlErrno } from '../db/transaction';
import type { Logger } from '../lib/logger';
import type { InboundEvent } from '../platforms/types';

export type InboundHandler = (event: InboundEvent) => Promise<void>;

export interface Inbox {
  /**
   * Stores a verified event (unique on platform + app + event id) and schedules its processing.
   * Resolves once the row is durable: only then may the platform be answered 200.
   */
  accept(event: InboundEvent, appId: string): Promise<'accepted' | 'duplicate'>;
  /** Processes rows a crash or an error left behind. */
  sweep(): Promise<number>;
  startSweeper(intervalMs?: number): void;
  /** Stops the sweeper and waits for processing in progress. */
  stop(): Promise<void>;
}

const LEASE_MS = 30_000;
const MAX_ATTEMPTS = 8;

/**
 * The inbox (ARCHITECTURE.md "data flow"): verify → store → answer → process. Processing claims the
 * row with a lease, so the fast path right after the answer and the sweeper never run one event
 * twice at the same time; handlers are idempotent besides (conditional updates, outbox keys), so a
 * crash between the effect and `done` repeats nothing visible.
 */
export function createInbox(deps: {
  db: Db;
  logger: Logger;
  handle: InboundHandler;
  now: () => Date;
}): Inbox {
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  async function process(id: number): Promise<void> {
    const leaseToken = randomBytes(12).toString('hex');
    const [claimed] = await deps.db
      .update(inboxEvents)
      .set({
        leaseToken,
        leaseUntil: sql`NOW(3) + INTERVAL ${LEASE_MS * 1000} MICROSECOND`,
        attempts: sql`${inboxEvents.attempts} + 1`,
      })
      .where(
        and(
          eq(inboxEvents.id, id),
          eq(inboxEvents.status, 'received'),
          or(isNull(inboxEvents.leaseUntil), lte(inboxEvents.leaseUntil, sql`NOW(3)`)),
        ),
      );
    if (claimed.affectedRows !== 1) return;
    const [row] = await deps.db.select().from(inboxEvents).where(eq(inboxEvents.id, id));
    if (!row) return;
    const event = reviveEvent(row.event);
    const fence = and(eq(inboxEvents.id, id), eq(inboxEvents.leaseToken, leaseToken));
    try {
      await deps.handle(event);
      await deps.db
        .update(inboxEvents)
        .set({
          status: 'done',
          processedAt: sql`NOW(3)`,
          leaseToken: null,
          leaseUntil: null,
          lastError: null,
        })
        .where(fence);
    } catch (error) {
      const failed = row.attempts + 1 >= MAX_ATTEMPTS;
      deps.logger.error(
        { err: error, inboxId: id, eventKind: event.kind, attempt: row.attempts + 1, giveUp: failed },
        'inbound event processing failed',
      );
      const retryInMs = Math.min(60_000, 1000 * 2 ** row.attempts);
      await deps.db
        .update(inboxEvents)
        .set({
          status: failed ? 'failed' : 'received',
          lastError: String((error as Error).message).slice(0, 512),
          leaseToken: null,
          leaseUntil: failed ? null : sql`NOW(3) + INTERVAL ${retryInMs * 1000} MICROSECOND`,
        })
        .where(fence);
    }
  }

  function schedule(id: number): void {
    const task = process(id)
      .catch((error) => deps.logger.error({ err: error, inboxId: id }, 'inbox processing crashed'))
      .finally(() => running.delete(task));
    running.add(task);
  }

  async function sweep(): Promise<number> {
    const rows = await deps.db
      .select({ id: inboxEvents.id })
      .from(inboxEvents)
      .where(
        and(
          eq(inboxEvents.status, 'received'),
          or(isNull(inboxEvents.leaseUntil), lte(inboxEvents.leaseUntil, sql`NOW(3)`)),
          // Leave fresh rows to the fast path that is processing them right now.
          lte(inboxEvents.receivedAt, sql`NOW(3) - INTERVAL 2 SECOND`),
        ),
      )
      .orderBy(asc(inboxEvents.id))
      .limit(100);
    await Promise.all(rows.map((row) => process(row.id)));
    return rows.length;
  }

  return {
    async accept(event, appId) {
      try {
        const [inserted] = await deps.db
          .insert(inboxEvents)
          .values({
            platform: event.platform,
            appId,
            eventId: event.eventId,
            kind: event.kind,
            event: event as unknown as Record<string, unknown>,
            receivedAt: deps.now(),
          })
          .$returningId();
        // Process after the answer has gone out (the platform's deadline is on the answer).
        setImmediate(() => schedule(inserted!.id));
        return 'accepted';
      } catch (error) {
        if (mysqlErrno(error) === ER_DUP_ENTRY) return 'duplicate';
        throw error;
      }
    },
    sweep: () => {
      sweeping ??= sweep().finally(() => {
        sweeping = undefined;
      });
      return sweeping;
    },
    startSweeper(intervalMs = 2000) {
      timer ??= setInterval(() => {
        this.sweep().catch((error) => deps.logger.error({ err: error }, 'inbox sweep failed'));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
      await Promise.allSettled([...running]);
    },
  };
}

/** JSON turns the event's Date into a string; give it back its type. */
function reviveEvent(stored: Record<string, unknown>): InboundEvent {
  return { ...stored, at: new Date(String(stored.at)) } as unknown as InboundEvent;
}
