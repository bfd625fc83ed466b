import type { Pool } from 'mysql2/promise';
import type { Db } from '../db/client';
import type { Logger } from '../lib/logger';
import { createWakeableSleep } from '../lib/wakeable-sleep';
import type { ChatPlatform, SendResult } from '../platforms/types';
import { type ClaimedMessage, claimDueMessages, pruneOutboxAttempts } from './claim-due-messages';
import { type Completion, type CompletionPolicy, completeMessage } from './complete-message';

export interface OutboxWorkerOptions {
  /** Sends in flight at once per instance. */
  concurrency: number;
  leaseMs: number;
  /** How often an idle worker looks for due rows (other instances' rows, retries coming due). */
  pollMs: number;
  /**
   * Shortest gap between two claims when woken by notify(): a burst of intakes then costs one claim
   * for many rows instead of one each, at a few milliseconds of latency.
   */
  coalesceMs: number;
  policy: CompletionPolicy;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxWorkerOptions = {
  concurrency: 16,
  leaseMs: 30_000,
  pollMs: 250,
  coalesceMs: 5,
  policy: { maxAttempts: 12, backoff: { baseMs: 1_000, maxMs: 5 * 60_000 } },
};

export interface OutboxCounters {
  sent: number;
  retried: number;
  dead: number;
  maybeSent: number;
  leaseLost: number;
  deferred: number;
}

export interface OutboxWorker {
  start(): void;
  /** Wakes the worker now (called after a transaction that queued messages commits). */
  notify(): void;
  /** Stops claiming, waits for in-flight sends to be recorded. */
  stop(): Promise<void>;
  /** One claim-and-send round; resolves when its sends are recorded. For tests and the CLI. */
  runOnce(): Promise<number>;
  readonly counters: OutboxCounters;
}

/**
 * The delivery loop: claim due rows (several instances share the table safely), send each through
 * its platform adapter, record the outcome. Sends overlap up to `concurrency`; a new claim starts as
 * soon as there is room, so a lead's card does not wait for a slow batch.
 */
export function createOutboxWorker(deps: {
  db: Db;
  /** The multi-statement pool (db/client.ts): successes are recorded in one round trip. */
  batchPool?: Pool;
  platforms: ReadonlyMap<string, ChatPlatform>;
  logger: Logger;
  options?: Partial<OutboxWorkerOptions>;
}): OutboxWorker {
  const options = { ...DEFAULT_OUTBOX_OPTIONS, ...deps.options };
  const counters: OutboxCounters = { sent: 0, retried: 0, dead: 0, maybeSent: 0, leaseLost: 0, deferred: 0 };
  const inFlight = new Set<Promise<void>>();
  let running = false;
  let loop: Promise<void> | undefined;
  let notified = false;
  let lastPrune = 0;
  const { sleep, wake } = createWakeableSleep();

  async function deliver(claimed: ClaimedMessage): Promise<void> {
    const platform = deps.platforms.get(claimed.platform)!;
    let result: SendResult;
    try {
      result = await platform.send(claimed.request);
    } catch (error) {
      // Adapters return results; a throw is a bug or an unexpected network state: retry it.
      result = { ok: false, outcome: 'retry', code: 'adapter_error', message: (error as Error).message };
    }
    let completion: Completion;
    try {
      completion = await completeMessage(deps.db, claimed, result, options.policy, deps.batchPool);
    } catch (error) {
      // The lease will expire and another claim will take the row again.
      deps.logger.error({ err: error, outboxId: claimed.id }, 'could not record outbox result');
      return;
    }
    const log = {
      outboxId: claimed.id,
      dedupeKey: claimed.dedupeKey,
      attempt: claimed.attempts,
      api: claimed.request.api,
    };
    switch (completion) {
      case 'sent':
        counters.sent++;
        deps.logger.debug(log, 'outbox message sent');
        break;
      case 'retry':
        counters.retried++;
        deps.logger.warn(
          { ...log, error: result.ok ? undefined : result.code },
          'outbox send failed, will retry',
        );
        break;
      case 'dead':
        counters.dead++;
        deps.logger.error(
          { ...log, error: result.ok ? undefined : `${result.code} ${result.message}` },
          'outbox message dead-lettered',
        );
        break;
      case 'maybe_sent':
        counters.maybeSent++;
        deps.logger.error({ ...log }, 'outbox send ambiguous past the safe retry window: maybe_sent');
        break;
      case 'lease_lost':
        counters.leaseLost++;
        deps.logger.warn(log, 'outbox lease lost before recording; another worker owns the row');
        break;
    }
  }

  async function claimAndDispatch(): Promise<number> {
    const room = options.concurrency - inFlight.size;
    if (room <= 0) return 0;
    const report = await claimDueMessages(deps.db, {
      limit: room,
      leaseMs: options.leaseMs,
      platforms: deps.platforms,
    });
    counters.deferred += report.deferred;
    counters.maybeSent += report.maybeSent;
    counters.dead += report.dead;
    if (report.dead > 0)
      deps.logger.error({ count: report.dead }, 'outbox messages could not be rendered: dead-lettered');
    for (const claimed of report.claimed) {
      const task = deliver(claimed).finally(() => {
        inFlight.delete(task);
        wake();
      });
      inFlight.add(task);
    }
    return report.claimed.length;
  }

  async function run(): Promise<void> {
    while (running) {
      notified = false;
      let claimed = 0;
      try {
        claimed = await claimAndDispatch();
        if (Date.now() - lastPrune > 60_000) {
          lastPrune = Date.now();
          await pruneOutboxAttempts(deps.db);
        }
      } catch (error) {
        deps.logger.error({ err: error }, 'outbox claim failed');
      }
      if (!running) break;
      const full = inFlight.size >= options.concurrency;
      if ((claimed === 0 || full) && !notified) await sleep(full ? options.pollMs * 4 : options.pollMs);
      // Not wakeable on purpose: notifications arriving meanwhile are served by the next claim.
      else if (options.coalesceMs > 0)
        await new Promise((resolve) => setTimeout(resolve, options.coalesceMs));
    }
  }

  return {
    counters,
    start() {
      // With no chat platform configured there is nothing this instance could send.
      if (running || deps.platforms.size === 0) return;
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
      await Promise.allSettled([...inFlight]);
    },
    async runOnce() {
      const claimed = await claimAndDispatch();
      await Promise.allSettled([...inFlight]);
      return claimed;
    },
  };
}
