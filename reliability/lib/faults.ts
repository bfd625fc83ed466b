import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Backend } from './balancer';
import type { ManagedChild } from './child';
import type { PrivateMariadb } from './mariadb';
import type { Random } from './random';

/** Everything a chaos run injects, counted for the summary. */
export interface FaultCounters {
  instanceKills: number;
  databaseCrashes: number;
  databaseRestarts: number;
  emulatorDowns: number;
  /** Requests the emulator was told to hold (slow answers), in all. */
  slowRequests: number;
  /** Requests answered with a rate-limit or busy errcode. */
  rateLimited: number;
  /** Requests processed by the emulator whose answer was then cut (accepted, then dropped). */
  ambiguousSends: number;
  /** Requests held past the client's deadline and dropped unprocessed. */
  timeouts: number;
  workerPauses: number;
  tokenExpiries: number;
  /** Instances running with a skewed clock (for the whole run). */
  skewedInstances: number;
}

export function emptyFaultCounters(): FaultCounters {
  return {
    instanceKills: 0,
    databaseCrashes: 0,
    databaseRestarts: 0,
    emulatorDowns: 0,
    slowRequests: 0,
    rateLimited: 0,
    ambiguousSends: 0,
    timeouts: 0,
    workerPauses: 0,
    tokenExpiries: 0,
    skewedInstances: 0,
  };
}

export function totalFaults(c: FaultCounters): number {
  return Object.values(c).reduce((sum, n) => sum + n, 0);
}

export interface FaultTargets {
  instances: { child: ManagedChild; backend: Backend }[];
  database: PrivateMariadb;
  /** The emulator child's control server (children/emulator.ts). */
  emulatorControl: string;
  /** The emulator's own API (token expiry). */
  emulatorUrl: string;
  /** How long a paused worker must stay stopped to outlive its leases. */
  pauseMs: number;
  random: Random;
  log(message: string): void;
}

const SEND = '/cgi-bin/message/send';
const UPDATE = '/cgi-bin/message/update_template_card';

/**
 * The fault schedule of a chaos run of `durationMs`: an instance SIGKILLed every few seconds
 * throughout, and at fixed fractions of the run the emulator down, slow, rate limiting, ambiguous
 * sends, the database crashed (and, in longer runs, restarted cleanly), a worker paused past its
 * lease, access tokens expired. Stops at `durationMs` - `quietMs`, leaving everything up and unpaused.
 */
export function startFaults(targets: FaultTargets, durationMs: number, quietMs: number) {
  const counters = emptyFaultCounters();
  const { random, log } = targets;
  let running = true;
  const aborter = new AbortController();
  // Every scheduled fault waits on it at once.
  setMaxListeners(100, aborter.signal);
  /** A wait that ends early when the run stops, so every fault's undo step runs at once. */
  const pause = (ms: number) => delay(ms, undefined, { signal: aborter.signal }).catch(() => undefined);
  const endAt = Date.now() + durationMs - quietMs;
  const tasks: Promise<void>[] = [];

  const control = async (path: string, body?: unknown) => {
    const res = await fetch(`${targets.emulatorControl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (res.status !== 200) throw new Error(`emulator control ${path}: ${res.status} ${await res.text()}`);
  };
  const fault = (n: number, f: unknown, path?: string) => control('/faults', { n, fault: f, path });

  const at = (fraction: number, name: string, action: () => Promise<void>) => {
    const wait = durationMs * fraction;
    if (wait > durationMs - quietMs) return;
    tasks.push(
      (async () => {
        await pause(wait);
        if (!running) return;
        log(`fault: ${name}`);
        try {
          await action();
        } catch (error) {
          log(`fault ${name} failed: ${(error as Error).message}`);
        }
      })(),
    );
  };

  // SIGKILL an instance every 3–8 s (one that is serving, never the paused one, and never the last
  // one serving: a rolling massacre, not an outage), the supervisor starts it again.
  tasks.push(
    (async () => {
      await pause(5000);
      while (running && Date.now() < endAt) {
        const candidates = targets.instances.filter((i) => i.backend.up && !i.child.paused);
        if (candidates.length > 1) {
          const victim = random.pick(candidates);
          victim.backend.up = false;
          await victim.child.kill();
          counters.instanceKills++;
        }
        await pause(random.between(3000, 8000));
      }
    })(),
  );

  // Now and then an ambiguous send: processed by the emulator, then the connection cut.
  tasks.push(
    (async () => {
      await pause(8000);
      while (running && Date.now() < endAt) {
        await fault(1, { kind: 'accept_then_drop' }, random.chance(0.8) ? SEND : UPDATE).catch(
          () => undefined,
        );
        counters.ambiguousSends++;
        await pause(random.between(4000, 12_000));
      }
    })(),
  );

  at(0.12, 'emulator down for 8 s', async () => {
    await control('/down');
    counters.emulatorDowns++;
    await pause(8000);
    await control('/up');
  });

  at(0.22, 'emulator slow for 15 s (some answers after the client gave up)', async () => {
    const until = Date.now() + 15_000;
    while (Date.now() < until && running) {
      await fault(6, { kind: 'delay', ms: 700 });
      await fault(2, { kind: 'delay', ms: 2600 });
      counters.slowRequests += 8;
      await pause(1000);
    }
    await control('/faults/clear');
  });

  at(0.32, 'database crash (SIGKILL), back after 3 s', async () => {
    await targets.database.crash();
    counters.databaseCrashes++;
    await pause(3000);
    await targets.database.start();
  });

  at(0.42, 'rate limiting and busy answers for 10 s', async () => {
    await fault(25, { kind: 'errcode', errcode: 45009, errmsg: 'api freq out of limit (injected)' }, SEND);
    await fault(
      8,
      { kind: 'errcode', errcode: 45033, errmsg: 'api concurrent out of limit (injected)' },
      SEND,
    );
    await fault(8, { kind: 'errcode', errcode: -1 });
    await fault(4, { kind: 'http', status: 503 });
    counters.rateLimited += 45;
    await pause(10_000);
    await control('/faults/clear');
  });

  at(0.5, 'ambiguous sends and timeouts', async () => {
    await fault(3, { kind: 'accept_then_drop' }, SEND);
    await fault(2, { kind: 'accept_then_drop' }, UPDATE);
    await fault(2, { kind: 'timeout', ms: 2600 }, SEND);
    counters.ambiguousSends += 5;
    counters.timeouts += 2;
  });

  at(0.58, 'a worker paused (SIGSTOP) past its leases', async () => {
    // Another instance must keep serving: wait (a little) for two to be up.
    let candidates = targets.instances.filter((i) => i.backend.up && !i.child.paused);
    for (let i = 0; i < 60 && candidates.length < 2 && running; i++) {
      await pause(250);
      candidates = targets.instances.filter((c) => c.backend.up && !c.child.paused);
    }
    if (candidates.length < 2) return;
    const victim = random.pick(candidates);
    victim.child.signal('SIGSTOP');
    counters.workerPauses++;
    await pause(targets.pauseMs);
    victim.child.signal('SIGCONT');
  });

  at(0.66, 'access tokens expired', async () => {
    const res = await fetch(`${targets.emulatorUrl}/_emulator/api/expire-tokens`, { method: 'POST' });
    await res.arrayBuffer();
    counters.tokenExpiries++;
  });

  at(0.74, 'database restart (clean), back after 2 s', async () => {
    await targets.database.stop();
    counters.databaseRestarts++;
    await pause(2000);
    await targets.database.start();
  });

  at(0.82, 'emulator down for 5 s', async () => {
    await control('/down');
    counters.emulatorDowns++;
    await pause(5000);
    await control('/up');
  });

  return {
    counters,
    /** Stops injecting; resolves when every fault has been undone (all up, nothing paused). */
    async stop() {
      running = false;
      aborter.abort();
      await Promise.allSettled(tasks);
      await control('/faults/clear').catch(() => undefined);
      await control('/up').catch(() => undefined);
      for (const i of targets.instances) if (i.child.paused) i.child.signal('SIGCONT');
      if (!targets.database.pid) await targets.database.start();
    },
  };
}
