import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { timers } from '../db/schema';
import { backoffDelayMs } from '../outbox/backoff';
import type { DueTimer } from './claim-due-timers';

export interface TimerPolicy {
  /** Runs (claims) per timer before it is marked failed. */
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  random?: () => number;
}

export type TimerFailure = 'retry' | 'failed' | 'lease_lost';

/**
 * Marks fired timers done, fenced by their lease token: a worker that stalled past its lease (and
 * whose row another worker has re-claimed since) changes nothing. One UPDATE per claim token, so a
 * burst of fired timers costs a few statements instead of one each. Returns the ids marked done; the
 * others had lost their lease.
 *
 * The token stays on a done row (only the lease end is cleared): it records which claim fired it, and
 * lets a partial match be told apart here without a second round trip per row.
 */
export async function completeTimers(
  db: Executor,
  fired: readonly Pick<DueTimer, 'id' | 'leaseToken'>[],
): Promise<Set<number>> {
  const byToken = new Map<string, number[]>();
  for (const timer of fired) {
    const ids = byToken.get(timer.leaseToken) ?? [];
    ids.push(timer.id);
    byToken.set(timer.leaseToken, ids);
  }
  const done = new Set<number>();
  for (const [token, ids] of byToken) {
    const mine = and(eq(timers.leaseToken, token), inArray(timers.id, ids));
    const [result] = await db
      .update(timers)
      .set({ status: 'done', firedAt: sql`NOW(3)`, leaseUntil: null, lastError: null })
      .where(and(mine, eq(timers.status, 'firing')));
    if (result.affectedRows === ids.length) {
      for (const id of ids) done.add(id);
      continue;
    }
    const rows = await db
      .select({ id: timers.id })
      .from(timers)
      .where(and(mine, eq(timers.status, 'done')));
    for (const row of rows) done.add(row.id);
  }
  return done;
}

/**
 * Records a failed run: back to `pending` with the due time pushed by exponential backoff (database
 * clock), or `failed` once the attempts are used up or the error is permanent. Fenced like
 * `completeTimers`.
 */
export async function failTimer(
  db: Executor,
  timer: DueTimer,
  error: string,
  policy: TimerPolicy,
  options: { permanent?: boolean } = {},
): Promise<TimerFailure> {
  const final = options.permanent === true || timer.attempt >= policy.maxAttempts;
  const delayMs = backoffDelayMs(timer.attempt, policy.backoff, policy.random);
  const [result] = await db
    .update(timers)
    .set({
      status: final ? 'failed' : 'pending',
      lastError: error.slice(0, 512),
      leaseToken: null,
      leaseUntil: null,
      ...(final ? {} : { dueAt: sql`NOW(3) + INTERVAL ${delayMs * 1000} MICROSECOND` }),
    })
    .where(
      and(eq(timers.id, timer.id), eq(timers.leaseToken, timer.leaseToken), eq(timers.status, 'firing')),
    );
  if (result.affectedRows !== 1) return 'lease_lost';
  return final ? 'failed' : 'retry';
}

/**
 * Gives a claimed timer back without having run it (it waited too long for a handler slot): pending
 * again at once, for any instance with room, and that claim does not count as an attempt. Fenced like
 * `completeTimers`. Without this, a timer left waiting kept its lease until it expired and every such
 * claim counted as a run, so under a slow database timers that had never run were marked failed after
 * `maxAttempts` claims, and their leads were never assigned or escalated (found by
 * `npm run test:chaos`).
 */
export async function releaseTimer(
  db: Executor,
  timer: Pick<DueTimer, 'id' | 'leaseToken'>,
): Promise<boolean> {
  const [result] = await db
    .update(timers)
    .set({
      status: 'pending',
      attempts: sql`GREATEST(${timers.attempts} - 1, 0)`,
      leaseToken: null,
      leaseUntil: null,
    })
    .where(
      and(eq(timers.id, timer.id), eq(timers.leaseToken, timer.leaseToken), eq(timers.status, 'firing')),
    );
  return result.affectedRows === 1;
}
