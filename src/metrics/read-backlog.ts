import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';

/** What waits in MySQL right now, as every instance sees it (so any instance may be scraped). */
export interface Backlog {
  /** Outbox rows per status, except `sent` (which only grows). */
  outbox: { pending: number; sending: number; maybeSent: number; dead: number };
  /** Seconds since the oldest pending outbox row was written; 0 when none is pending. */
  outboxOldestPendingSeconds: number;
  /** Pending timers whose due time has passed. */
  timersDue: number;
  /** Seconds the most overdue pending timer is late by the database clock; 0 when none is due. */
  timerLagSeconds: number;
  /** Inbox events stored but not yet processed. */
  inboxUnprocessed: number;
}

/**
 * One statement of index-only subqueries, run at scrape time (never per request):
 *
 * - every `COUNT(*)` is a range on the first column of an index (`outbox_due_idx`,
 *   `timers_due_idx`, `inbox_events_status_idx`), so it reads index entries of the backlog only,
 *   never the `sent`/`done` history;
 * - the oldest pending outbox row is `MIN(id)` over the same range (InnoDB secondary indexes carry
 *   the primary key, so it stays index-only; ids grow with insertion time), then one primary-key
 *   lookup for its `created_at`;
 * - `MIN(due_at)` over `timers_due_idx` with its first column fixed is one index dive.
 *
 * The database clock (`NOW(3)`) measures both ages, as the workers do.
 */
export function backlogQuery(): SQL {
  return sql`SELECT
      (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS outbox_pending,
      (SELECT COUNT(*) FROM outbox WHERE status = 'sending') AS outbox_sending,
      (SELECT COUNT(*) FROM outbox WHERE status = 'maybe_sent') AS outbox_maybe_sent,
      (SELECT COUNT(*) FROM outbox WHERE status = 'dead') AS outbox_dead,
      TIMESTAMPDIFF(MICROSECOND,
        (SELECT created_at FROM outbox WHERE id = (SELECT MIN(id) FROM outbox WHERE status = 'pending')),
        NOW(3)) AS outbox_oldest_us,
      (SELECT COUNT(*) FROM timers WHERE status = 'pending' AND due_at <= NOW(3)) AS timers_due,
      TIMESTAMPDIFF(MICROSECOND, (SELECT MIN(due_at) FROM timers WHERE status = 'pending'), NOW(3))
        AS timer_lag_us,
      (SELECT COUNT(*) FROM inbox_events WHERE status = 'received') AS inbox_unprocessed`;
}

type Num = number | string | null;

export async function readBacklog(db: Executor): Promise<Backlog> {
  const [rows] = (await db.execute(backlogQuery())) as unknown as [Record<string, Num>[]];
  const row = rows[0] ?? {};
  const count = (key: string) => Number(row[key] ?? 0);
  // A negative age means the earliest timer is still in the future: nothing is late.
  const seconds = (key: string) => Math.max(0, Number(row[key] ?? 0) / 1e6);
  return {
    outbox: {
      pending: count('outbox_pending'),
      sending: count('outbox_sending'),
      maybeSent: count('outbox_maybe_sent'),
      dead: count('outbox_dead'),
    },
    outboxOldestPendingSeconds: seconds('outbox_oldest_us'),
    timersDue: count('timers_due'),
    timerLagSeconds: seconds('timer_lag_us'),
    inboxUnprocessed: count('inbox_unprocessed'),
  };
}
