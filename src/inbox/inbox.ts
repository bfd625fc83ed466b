import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Pool, ResultSetHeader } from 'mysql2/promise';
import type { Db } from '../db/client';
import { inboxEvents } from '../db/schema';
import { ER_DUP_ENTRY, mysqlErrno } from '../db/transaction';
import { describeError } from '../lib/error-text';
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

const INSERT_SQL =
  'INSERT INTO inbox_events (platform, app_id, event_id, kind, event, status, attempts, lease_token, lease_until, received_at) ' +
  `VALUES (?, ?, ?, ?, ?, 'received', 1, ?, NOW(3) + INTERVAL ${LEASE_MS * 1000} MICROSECOND, ?)`;
const DONE_SQL =
  "UPDATE inbox_events SET status = 'done', processed_at = NOW(3), lease_token = NULL, lease_until = NULL, last_error = NULL " +
  'WHERE id = ? AND lease_token = ?';

/**
 * The inbox (ARCHITECTURE.md "data flow"): verify → store → answer → process. Processing claims the
 * row with a lease, so the fast path right after the answer and the sweeper never run one event
 * twice at the same time; handlers are idempotent besides (conditional updates, outbox keys), so a
 * crash between the effect and `done` repeats nothing visible.
 */
export function createInbox(deps: {
  db: Db;
  /** The plain pool: the hot path (store, finish) is two plain statements, no query builder. */
  pool: Pool;
  logger: Logger;
  handle: InboundHandler;
  now: () => Date;
}): Inbox {
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  /** The sweeper's way in: claim an abandoned row with a fresh lease, load it, run it. */
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
    await run(id, reviveEvent(row.event), leaseToken, row.attempts);
  }

  /** Runs the handler and records the outcome, fenced by the lease token. */
  async function run(id: number, event: InboundEvent, leaseToken: string, attempts: number): Promise<void> {
    try {
      await deps.handle(event);
      await deps.pool.query(DONE_SQL, [id, leaseToken]);
    } catch (error) {
      const failed = attempts >= MAX_ATTEMPTS;
      deps.logger.error(
        { err: error, inboxId: id, eventKind: event.kind, attempt: attempts, giveUp: failed },
        'inbound event processing failed',
      );
      const retryInMs = Math.min(60_000, 1000 * 2 ** (attempts - 1));
      await deps.db
        .update(inboxEvents)
        .set({
          status: failed ? 'failed' : 'received',
          // Without the statement's values: a failed note insert would keep the note's text here.
          lastError: describeError(error, false).slice(0, 512),
          leaseToken: null,
          leaseUntil: failed ? null : sql`NOW(3) + INTERVAL ${retryInMs * 1000} MICROSECOND`,
        })
        .where(and(eq(inboxEvents.id, id), eq(inboxEvents.leaseToken, leaseToken)));
    }
  }

  /**
   * Runs the event after the current turn (the answer goes out first), tracked from now on so that
   * stop() waits for it even before it has started.
   */
  function schedule(id: number, event: InboundEvent, leaseToken: string): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => run(id, event, leaseToken, 1))
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
      // The row is born leased to this process's fast path: no claim statement, no re-read.
      const leaseToken = randomBytes(12).toString('hex');
      try {
        const [result] = await deps.pool.query<ResultSetHeader>(INSERT_SQL, [
          event.platform,
          appId,
          event.eventId,
          event.kind,
          JSON.stringify(event),
          leaseToken,
          deps.now(),
        ]);
        schedule(result.insertId, event, leaseToken);
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
