import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';

/** The statement itself, exported so bench/timers can EXPLAIN it. */
export function nextDueQuery(): SQL {
  return sql`SELECT
      TIMESTAMPDIFF(MICROSECOND, NOW(3), (SELECT MIN(due_at) FROM timers WHERE status = 'pending')) AS due_us,
      TIMESTAMPDIFF(MICROSECOND, NOW(3), (SELECT MIN(lease_until) FROM timers WHERE status = 'firing')) AS lease_us`;
}

/**
 * Milliseconds until something may need claiming, by the database clock: the earliest pending due
 * time or the earliest lease expiry of a firing row, whichever comes first; `null` when there is
 * neither. ≤ 0 means now. Both are `MIN` over the second column of an index whose first column is
 * fixed (`timers_due_idx`, `timers_lease_idx`): one index dive each, "Select tables optimized
 * away", so an idle worker can ask every second for the price of one cheap statement.
 */
export async function findNextDueDelay(db: Executor): Promise<number | null> {
  const [rows] = (await db.execute(nextDueQuery())) as unknown as [
    { due_us: number | string | null; lease_us: number | string | null }[],
  ];
  const row = rows[0];
  const waits = [row?.due_us, row?.lease_us].filter((v) => v !== null && v !== undefined).map(Number);
  return waits.length === 0 ? null : Math.min(...waits) / 1000;
}
