/**
 * The timer loop (ARCHITECTURE.md "Time is data", RELIABILITY.md "Time and concurrency").
 *
 * Contract with handlers: AT-LEAST-ONCE runs, EXACTLY-ONCE effects.
 *
 * A handler may run more than once for the same timer: its worker stalls past the lease and another
 * instance re-claims the row, the process dies after the handler committed but before `done` was
 * recorded, or recording `done` fails. The loop cannot prevent that (the effect and the `done` mark
 * are separate transactions, on purpose: a handler's domain action must not be rolled back by, or
 * wait for, the bookkeeping of the timer). So every handler:
 *
 * 1. runs its domain action itself, in its own transaction (`withTransaction`), through the same
 *    domain functions an HTTP request or a chat command would call;
 * 2. makes the effect idempotent with a unique key derived from `timer.effectKey` (the escalation
 *    row, the outbox `dedupeKey`, the timeline event): a second run hits the unique index and does
 *    nothing, and a duplicate-key error there means "already done" and is a success;
 * 3. re-checks the state it acts on inside that transaction (the lead may have been claimed or
 *    followed up since the timer was scheduled; a cancel can race with a fire) and returns without
 *    acting when the reason for the timer is gone;
 * 4. throws to have the timer retried with backoff (`attempts` + 1, due time pushed, database
 *    clock), up to `policy.maxAttempts`, then the row is `failed` (logged at error, counted); throws
 *    `PermanentTimerError` to fail at once. A kind without a handler fails at once.
 *
 * Due-ness is decided by the database clock only (`NOW(3)` in every comparison); this process's clock
 * only measures how long to sleep. Missed timers need no catch-up code: after a restart, rows that
 * fell due meanwhile are simply due, and rows a dead worker held are re-claimed when their lease ends.
 */
import type { Db } from '../db/client';
import { describeError } from '../lib/error-text';
import type { Logger } from '../lib/logger';
import { createWakeableSleep } from '../lib/wakeable-sleep';
import { claimDueTimers, type DueTimer } from './claim-due-timers';
import {
  completeTimers,
  failTimer,
  releaseTimer,
  type TimerFailure,
  type TimerPolicy,
} from './complete-timer';
import { findNextDueDelay } from './find-next-due';

export type TimerHandler = (timer: DueTimer) => Promise<void>;
/** Handlers by timer kind. */
export type TimerHandlers = Readonly<Record<string, TimerHandler>>;

/** Thrown by a handler when retrying cannot help (the payload is malformed, the kind is retired). */
export class PermanentTimerError extends Error {
  override name = 'PermanentTimerError';
}

export interface TimerWorkerOptions {
  /**
   * Handlers running at once per instance. Each holds a pool connection while its transaction runs,
   * and the pool is shared with request handling: keep it below the pool size.
   */
  concurrency: number;
  /**
   * Most timers one claim takes; those without a free handler slot wait in this process under their
   * lease. Larger than `concurrency` so a burst costs one claim transaction per many timers
   * (bench/timers, 10k due: 1.6 statements per timer when claims were capped at the free slots and
   * every done mark was its own UPDATE, 1.1 with claims of up to 64 and shared done marks, and the
   * time to fire all of them fell from 5.9 s to 2.5 s). A timer that waited here for half the lease
   * is not run (the lease could end mid-handler); it is given back at once, uncounted.
   */
  batchSize: number;
  /** How long a claim owns its rows; a batch must be through its handlers well within it. */
  leaseMs: number;
  /**
   * Longest idle sleep: timers written by other instances (which cannot notify this one) are seen
   * within it. The sleep is shorter when the next due time is nearer.
   */
  maxIdleMs: number;
  /** Pause when rows are due but another claimer holds them, so the loop never spins. */
  minIdleMs: number;
  policy: TimerPolicy;
}

/** Longest a fired timer's `done` mark waits for others to share its UPDATE. */
const DONE_COALESCE_MS = 20;

export const DEFAULT_TIMER_OPTIONS: TimerWorkerOptions = {
  concurrency: 8,
  batchSize: 64,
  leaseMs: 30_000,
  maxIdleMs: 1_000,
  minIdleMs: 20,
  policy: { maxAttempts: 5, backoff: { baseMs: 5_000, maxMs: 10 * 60_000 } },
};

export interface TimerCounters {
  claimed: number;
  /** Handler succeeded and the row was marked done. */
  fired: number;
  retried: number;
  /** Out of attempts, permanent error, unknown kind, or abandoned on its last lease. */
  failed: number;
  /**
   * The lease had passed to another worker before the outcome was recorded (the handler ran), or
   * half the lease went by before a handler slot was free (it did not run; the row is re-claimed).
   */
  leaseLost: number;
}

export interface TimerWorker {
  start(): void;
  /** Wakes the worker now (after a transaction in this process scheduled timers and committed). */
  notify(): void;
  /**
   * Stops claiming, runs the timers already claimed (at most `batchSize`) and records their outcomes:
   * no lease is left held.
   */
  stop(): Promise<void>;
  /** One claim-and-fire round; resolves when its outcomes are recorded. For tests and the CLI. */
  runOnce(): Promise<number>;
  readonly counters: TimerCounters;
}

function logFields(timer: DueTimer) {
  return { timerId: timer.id, effectKey: timer.effectKey, kind: timer.kind, attempt: timer.attempt };
}

export function createTimerWorker(deps: {
  db: Db;
  handlers: TimerHandlers;
  logger: Logger;
  options?: Partial<TimerWorkerOptions>;
}): TimerWorker {
  const options = { ...DEFAULT_TIMER_OPTIONS, ...deps.options };
  if (!(options.concurrency >= 1 && options.batchSize >= 1)) {
    throw new Error('timer worker needs concurrency ≥ 1 and batchSize ≥ 1');
  }
  const counters: TimerCounters = { claimed: 0, fired: 0, retried: 0, failed: 0, leaseLost: 0 };
  /** Handlers running: what `concurrency` limits. */
  const inFlight = new Set<Promise<void>>();
  /** Outcomes being recorded after their handler returned. */
  const recording = new Set<Promise<void>>();
  /** Claimed, waiting for a handler slot, with the moment (monotonic) their claim committed. */
  const queue: { timer: DueTimer; claimedAt: number }[] = [];
  const held = () => queue.length + inFlight.size;
  // Claim again once the held timers are down to half the handler slots: the next batch is there
  // before the slots run dry, and a claim is never spent on a handful of rows under load.
  const refillAt = Math.floor(options.concurrency / 2);
  let running = false;
  let loop: Promise<void> | undefined;
  let notified = false;
  let waitingForRoom = false;
  // Woken early by notify, a free slot or stop.
  const { sleep, wake } = createWakeableSleep();

  // Done marks wait here and go out together: one UPDATE per `batchSize` fired timers or per
  // DONE_COALESCE_MS, whichever comes first, and one flush at a time. Only bookkeeping waits: the
  // effect has committed already, and the lease is far longer than the delay.
  const doneQueue: { timer: DueTimer; resolve(done: boolean): void; reject(error: unknown): void }[] = [];
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  function scheduleFlush(): void {
    if (flushing || doneQueue.length === 0) return;
    if (doneQueue.length < options.batchSize) {
      flushTimer ??= setTimeout(() => {
        flushTimer = undefined;
        scheduleFlushNow();
      }, DONE_COALESCE_MS);
      return;
    }
    scheduleFlushNow();
  }
  function scheduleFlushNow(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (!flushing && doneQueue.length > 0) flushing = flushDone();
  }
  async function flushDone(): Promise<void> {
    const batch = doneQueue.splice(0);
    try {
      const done = await completeTimers(
        deps.db,
        batch.map((b) => b.timer),
      );
      for (const b of batch) b.resolve(done.has(b.timer.id));
    } catch (error) {
      for (const b of batch) b.reject(error);
    } finally {
      flushing = undefined;
      scheduleFlush();
    }
  }
  const markDone = (timer: DueTimer) =>
    new Promise<boolean>((resolve, reject) => {
      doneQueue.push({ timer, resolve, reject });
      scheduleFlush();
    });

  type Run = { ok: true } | { ok: false; error: string; permanent: boolean };

  /** Runs the handler; this is what occupies a slot. `null`: not run (the lease is too far gone). */
  async function runHandler(timer: DueTimer, claimedAt: number): Promise<Run | null> {
    if (performance.now() - claimedAt > options.leaseMs / 2) {
      // Another instance may take the row over before the handler ends: give it back unrun, at once
      // and without counting the claim as an attempt (complete-timer.ts `releaseTimer`).
      counters.leaseLost++;
      deps.logger.warn(logFields(timer), 'timer waited too long for a handler slot; given back unrun');
      await releaseTimer(deps.db, timer).catch((error: unknown) =>
        deps.logger.error(
          { err: error, ...logFields(timer) },
          'could not give a timer back; its lease will end',
        ),
      );
      return null;
    }
    // Own properties only: a kind named `constructor` must not find Object.prototype's.
    const handler = Object.hasOwn(deps.handlers, timer.kind) ? deps.handlers[timer.kind] : undefined;
    if (!handler) return { ok: false, error: `no handler for kind ${timer.kind}`, permanent: true };
    try {
      await handler(timer);
      return { ok: true };
    } catch (error) {
      return {
        ok: false,
        // Stored in timers.last_error: without the values a failed statement carried.
        error: describeError(error),
        permanent: error instanceof PermanentTimerError,
      };
    }
  }

  /** Records how a run ended, after its slot is free again (the done mark may wait for company). */
  async function record(timer: DueTimer, run: Run): Promise<void> {
    const log = logFields(timer);
    try {
      if (run.ok) {
        if (await markDone(timer)) {
          counters.fired++;
          deps.logger.debug(log, 'timer fired');
        } else {
          counters.leaseLost++;
          deps.logger.warn(log, 'timer lease lost before recording; another worker owns the row');
        }
        return;
      }
      const outcome: TimerFailure = await failTimer(deps.db, timer, run.error, options.policy, {
        permanent: run.permanent,
      });
      switch (outcome) {
        case 'retry':
          counters.retried++;
          deps.logger.warn({ ...log, error: run.error }, 'timer handler failed, will retry');
          break;
        case 'failed':
          counters.failed++;
          deps.logger.error({ ...log, error: run.error }, 'timer failed');
          break;
        case 'lease_lost':
          counters.leaseLost++;
          deps.logger.warn(log, 'timer lease lost before recording; another worker owns the row');
          break;
      }
    } catch (error) {
      // The lease will expire and a claim will take the row again (at-least-once).
      deps.logger.error({ err: error, ...log }, 'could not record timer outcome');
    }
  }

  function dispatch(): void {
    while (inFlight.size < options.concurrency && queue.length > 0) {
      const { timer, claimedAt } = queue.shift()!;
      const task = runHandler(timer, claimedAt).then((run) => {
        inFlight.delete(task);
        if (run) {
          const recorded = record(timer, run).finally(() => recording.delete(recorded));
          recording.add(recorded);
        }
        dispatch();
        if (waitingForRoom && held() <= refillAt) wake();
      });
      inFlight.add(task);
    }
  }

  async function claimAndDispatch(): Promise<{ claimed: number; limit: number }> {
    const limit = options.batchSize - held();
    if (limit <= 0) return { claimed: 0, limit };
    const report = await claimDueTimers(deps.db, {
      limit,
      leaseMs: options.leaseMs,
      maxAttempts: options.policy.maxAttempts,
    });
    const claimedAt = performance.now();
    for (const row of report.abandoned) {
      counters.failed++;
      deps.logger.error(
        { timerId: row.id, effectKey: row.effectKey, kind: row.kind, attempt: row.attempts },
        'timer failed: lease expired on its last attempt',
      );
    }
    counters.claimed += report.claimed.length;
    for (const timer of report.claimed) queue.push({ timer, claimedAt });
    dispatch();
    return { claimed: report.claimed.length, limit };
  }

  /** Until every claimed timer has run and its outcome is recorded (finishing tasks start queued ones). */
  async function drain(): Promise<void> {
    // Finishing handlers start queued ones and add recordings: loop until nothing is left.
    while (inFlight.size > 0 || recording.size > 0) await Promise.allSettled([...inFlight, ...recording]);
  }

  /**
   * Nothing (more) to claim: sleep until the next due time or lease expiry by the database clock,
   * capped at `maxIdleMs`; on waking from the cap, ask again before claiming, so an idle instance
   * costs one index-only statement per `maxIdleMs`.
   */
  async function idle(claimedNothing: boolean): Promise<void> {
    while (running && !notified) {
      let delay: number | null;
      try {
        delay = await findNextDueDelay(deps.db);
      } catch (error) {
        deps.logger.error({ err: error }, 'timer next-due query failed');
        await sleep(options.maxIdleMs);
        return;
      }
      if (!running || notified) return;
      if (delay !== null && delay <= 0) {
        // Due, yet our claim found nothing: another claimer holds those rows for a moment.
        if (claimedNothing) await sleep(options.minIdleMs);
        return;
      }
      const capped = delay === null || Math.ceil(delay) > options.maxIdleMs;
      const woken = await sleep(capped ? options.maxIdleMs : Math.ceil(delay!));
      // Slept until the due time (or was woken): claim. Woke from the cap: look again first.
      if (woken || !capped) return;
    }
  }

  async function run(): Promise<void> {
    while (running) {
      notified = false;
      let round = { claimed: 0, limit: 0 };
      try {
        round = await claimAndDispatch();
      } catch (error) {
        deps.logger.error({ err: error }, 'timer claim failed');
        await sleep(options.maxIdleMs);
        continue;
      }
      if (!running) break;
      if (held() > refillAt) {
        waitingForRoom = true;
        // notify() cuts the wait short: its timer is claimed into the free slots now.
        while (running && !notified && held() > refillAt) await sleep(options.maxIdleMs);
        waitingForRoom = false;
        continue;
      }
      // A full batch: more may be due right now.
      if (round.claimed > 0 && round.claimed === round.limit) continue;
      if (notified) continue;
      await idle(round.claimed === 0);
    }
  }

  return {
    counters,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    notify() {
      notified = true;
      wake();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      await drain();
    },
    async runOnce() {
      const { claimed } = await claimAndDispatch();
      await drain();
      return claimed;
    },
  };
}
