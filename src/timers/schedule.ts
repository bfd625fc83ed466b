import { sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { DB_NOW, insertStatement, RawSql, type Statement } from '../db/batch';
import type { Executor } from '../db/client';
import { timers } from '../db/schema';

/**
 * Scheduling and cancelling timers inside the caller's transaction (ARCHITECTURE.md, "Time is data"):
 * a rolled-back change schedules nothing, a committed one fires unless it is cancelled first.
 *
 * One effect key names one effect, ever. Scheduling a key that already has a row:
 *
 * | existing row                  | mode `keep` (default)  | mode `reschedule`                                  |
 * | ----------------------------- | ---------------------- | -------------------------------------------------- |
 * | `pending` (also in a retry)   | unchanged (first wins) | new due time and payload, attempts and error reset |
 * | `firing`                      | unchanged              | unchanged: the effect is happening now             |
 * | `done`, `cancelled`, `failed` | unchanged, not revived | unchanged, not revived                             |
 *
 * `kind` and `leadId` of an existing row never change.
 *
 * So re-running a domain action cannot move a deadline (`keep`), a follow-up that restarts a clock
 * moves it (`reschedule`), and nothing fires twice under one key. An effect that may legitimately
 * happen again (a cadence reminder, a second claim window after a re-assignment) takes a new key,
 * e.g. with the assignment number or the date in it.
 */
export interface TimerSpec {
  /** Deterministic, unique for the effect: `lead:42:escalate:L2`. At most 191 characters. */
  effectKey: string;
  /** Selects the handler (`sla.escalate`, `pool.recycle`); at most 48 characters. */
  kind: string;
  leadId?: number;
  /**
   * `{ inMs }` counts from the database clock (`NOW(3) + INTERVAL`), which is what decides due-ness,
   * so instances with skewed clocks agree; prefer it. A Date is for absolute deadlines (a business
   * calendar's "next working day 09:00"), computed by the caller from its injected clock.
   */
  dueAt: Date | { inMs: number };
  payload?: Record<string, unknown>;
}

export type ScheduleMode = 'keep' | 'reschedule';

export interface ScheduleOptions {
  mode?: ScheduleMode;
}

/** Which pending timers to cancel: a lead's (all kinds or some), or named effects. */
export type CancelSelector =
  | { leadId: number; kinds?: readonly string[] }
  | { effectKeys: readonly string[] };

/**
 * `VALUES(col)` is the only way both servers name the would-be-inserted value (MySQL 8.0.20+ warns
 * that it is deprecated in favour of a row alias, which MariaDB does not parse). Assignments run left
 * to right and none of them changes `status`, so every `IF` sees the row's status before the upsert.
 */
const ON_DUPLICATE: Record<ScheduleMode, string> = {
  keep: ' ON DUPLICATE KEY UPDATE `effect_key` = `effect_key`',
  reschedule:
    ' ON DUPLICATE KEY UPDATE ' +
    [
      "`payload` = IF(`status` = 'pending', VALUES(`payload`), `payload`)",
      "`attempts` = IF(`status` = 'pending', 0, `attempts`)",
      "`last_error` = IF(`status` = 'pending', NULL, `last_error`)",
      "`due_at` = IF(`status` = 'pending', VALUES(`due_at`), `due_at`)",
    ].join(', '),
};

/** Writes (or, per `mode`, keeps or moves) the timers in the caller's transaction. */
export async function scheduleTimers(
  tx: Executor,
  specs: readonly TimerSpec[],
  options: ScheduleOptions = {},
): Promise<void> {
  if (specs.length === 0) return;
  await tx.execute(sql.raw(formatStatement(scheduleTimersStatement(specs, options))));
}

/** The same upsert for a one-round-trip batch (db/batch.ts `runBatch`). `specs` must not be empty. */
export function scheduleTimersStatement(
  specs: readonly TimerSpec[],
  options: ScheduleOptions = {},
): Statement {
  if (specs.length === 0) throw new Error('scheduleTimersStatement needs at least one timer');
  const rows = specs.map((spec) => ({
    effectKey: spec.effectKey,
    kind: spec.kind,
    leadId: spec.leadId ?? null,
    payload: spec.payload ?? {},
    dueAt: dueValue(spec.dueAt),
    status: 'pending',
    attempts: 0,
    createdAt: DB_NOW,
  }));
  return insertStatement(timers, rows, ON_DUPLICATE[options.mode ?? 'keep']);
}

/**
 * Cancels pending timers (also those waiting for a retry); returns how many. A `firing` timer is left
 * alone: its handler is running and races with this cancel whatever we do, which is why handlers
 * re-check the lead's state in their own transaction. Finished rows stay as they are.
 */
export async function cancelTimers(tx: Executor, selector: CancelSelector): Promise<number> {
  const [result] = (await tx.execute(
    sql.raw(formatStatement(cancelTimersStatement(selector))),
  )) as unknown as [{ affectedRows: number }];
  return result.affectedRows;
}

/** The same UPDATE for a one-round-trip batch; an empty selection is a valid statement that matches nothing. */
export function cancelTimersStatement(selector: CancelSelector): Statement {
  const set =
    "UPDATE `timers` SET `status` = 'cancelled', `lease_token` = NULL, `lease_until` = NULL WHERE `status` = 'pending'";
  if ('effectKeys' in selector) {
    if (selector.effectKeys.length === 0) return { sql: `${set} AND FALSE`, params: [] };
    return { sql: `${set} AND \`effect_key\` IN (?)`, params: [[...selector.effectKeys]] };
  }
  if (selector.kinds === undefined) return { sql: `${set} AND \`lead_id\` = ?`, params: [selector.leadId] };
  if (selector.kinds.length === 0) return { sql: `${set} AND FALSE`, params: [] };
  return {
    sql: `${set} AND \`lead_id\` = ? AND \`kind\` IN (?)`,
    params: [selector.leadId, [...selector.kinds]],
  };
}

function dueValue(dueAt: TimerSpec['dueAt']): Date | RawSql {
  if (dueAt instanceof Date) {
    if (Number.isNaN(dueAt.getTime())) throw new Error('timer dueAt is an invalid Date');
    return dueAt;
  }
  if (!Number.isFinite(dueAt.inMs)) throw new Error(`timer dueAt.inMs must be finite, got ${dueAt.inMs}`);
  // Microseconds, as the outbox does: DATETIME(3) keeps the milliseconds.
  return new RawSql(`NOW(3) + INTERVAL ${Math.round(dueAt.inMs * 1000)} MICROSECOND`);
}

/** Inlines the parameters as `runBatch` does (Dates as UTC), for a single statement on an executor. */
function formatStatement(statement: Statement): string {
  return mysql.format(statement.sql, statement.params as never[], false, 'Z');
}
