import { sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import type { Executor } from '../db/client';
import { dueTimersQuery } from './claim-due-timers';

/** One row of `EXPLAIN` (the columns both servers print; MySQL adds `partitions` and `filtered`). */
export interface ExplainRow {
  id: number | string;
  select_type: string;
  table: string | null;
  type: string | null;
  possible_keys: string | null;
  key: string | null;
  key_len: string | null;
  ref: string | null;
  rows: number | string | null;
  Extra: string | null;
  [column: string]: unknown;
}

/**
 * `EXPLAIN` of exactly the due query the worker runs (same builder, same SQL), for the test that keeps
 * it an index range and for bench/timers, which prints it.
 */
export async function explainDueQuery(db: Executor, limit = 64): Promise<ExplainRow[]> {
  const query = dueTimersQuery(db, limit).toSQL();
  const [rows] = (await db.execute(
    sql.raw(mysql.format(`EXPLAIN ${query.sql}`, query.params as never[], false, 'Z')),
  )) as unknown as [ExplainRow[]];
  return rows;
}

/**
 * The plan is what we want: a range over both columns of `timers_due_idx`. Not a scan of the table,
 * and not a `ref` on `status` alone either, which reads every pending timer when few are due.
 */
export function usesDueIndexRange(plan: readonly ExplainRow[]): boolean {
  const row = plan.find((r) => r.table === 'timers');
  return row !== undefined && row.key === 'timers_due_idx' && row.type === 'range';
}
