/**
 * One LeadRelay instance for the reliability suites, started as src/main.ts starts it (openRuntime
 * from the environment, migrations, then startServer with its workers, digests and socket timeouts),
 * with what a suite needs to set from outside:
 *
 * - CHAOS_CLOCK_SKEW_MS: this process's clock runs that far ahead (negative: behind) of the machine's.
 *   Everything in LeadRelay reads time through the injected clock (src/lib/clock.ts); due-checks use
 *   the database clock, which is what the skew must not disturb.
 * - CHAOS_OUTBOX_LEASE_MS, CHAOS_TIMER_LEASE_MS: leases short enough that a worker paused with SIGSTOP
 *   outlives its lease within a short run (production: 30 s).
 * - CHAOS_BACKOFF_MAX_MS: the outbox's longest retry delay (production: 5 min), so a run drains in
 *   minutes after its faults.
 *
 * Announces `{"reliabilityChildUrl": …}` on stdout when listening (lib/announce.ts).
 */
import { DEFAULT_OUTBOX_OPTIONS } from '../../src/outbox/worker';
import { openRuntime } from '../../src/runtime';
import { startServer } from '../../src/server';
import { announce, envNumber } from '../lib/announce';

async function main(): Promise<void> {
  const skewMs = envNumber('CHAOS_CLOCK_SKEW_MS', 0);
  const clock = { now: () => new Date(Date.now() + skewMs) };
  const runtime = await openRuntime({ migrate: true, clock });
  const running = await startServer(runtime, {
    port: runtime.env.PORT,
    host: '127.0.0.1',
    outbox: {
      leaseMs: envNumber('CHAOS_OUTBOX_LEASE_MS', DEFAULT_OUTBOX_OPTIONS.leaseMs),
      policy: {
        ...DEFAULT_OUTBOX_OPTIONS.policy,
        backoff: {
          ...DEFAULT_OUTBOX_OPTIONS.policy.backoff,
          maxMs: envNumber('CHAOS_BACKOFF_MAX_MS', DEFAULT_OUTBOX_OPTIONS.policy.backoff.maxMs),
        },
      },
    },
    timers: { leaseMs: envNumber('CHAOS_TIMER_LEASE_MS', 30_000) },
  });
  announce(running);
}

main().catch((error: unknown) => {
  console.error('reliability server child failed:', error);
  process.exit(1);
});
