/**
 * `npm run test:chaos`: LeadRelay under faults, on one machine, then the books (RELIABILITY.md "Tests
 * that prove it", docs issue 9).
 *
 * Starts its own MariaDB (a temporary data directory from mariadb-install-db, another port: killing
 * it disturbs nothing else), the WeCom emulator and three LeadRelay instances as child processes
 * behind a round-robin load balancer. Lead sources post leads (retrying with the same
 * Idempotency-Key when an answer is lost), salespeople claim, grab, follow up, take over and type
 * notes and commands through the emulator, and meanwhile: an instance is SIGKILLed every few seconds
 * (and restarted), the database crashes and later restarts, the emulator goes down, is slow, rate
 * limits, answers busy, accepts a send and cuts the connection, expires tokens; one instance is paused
 * (SIGSTOP) past its leases; one instance's clock runs ahead the whole time. Then everything is
 * brought back, the run drains, and the books are checked (lib/books.ts): every accepted lead stored
 * once, every intended notification delivered exactly once, one escalation per lead and level, one
 * digest per team, kind and period, no failed timer or inbox event. Exit 1 on any violation.
 *
 * Environment: CHAOS_DURATION (seconds of traffic and faults, default 600), CHAOS_LEAD_RATE (new
 * leads per second, default 1), CHAOS_SEED, CHAOS_SKEW_MS (the skewed instance's clock, default
 * +90000), CHAOS_KEEP_LOGS=1 (keep the children's logs even when the run passes).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { machineLine } from '../bench/lib/machine';
import { benchWecomCredentials, wecomServerEnv } from '../bench/lib/wecom';
import { loadOrgConfig } from '../src/config/load-org-config';
import { createDatabase } from '../src/db/client';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { createApiKey } from '../src/sources/api-keys';
import { envNumber } from './lib/announce';
import { type Backend, startBalancer } from './lib/balancer';
import { type Books, checkBooks } from './lib/books';
import { ManagedChild } from './lib/child';
import { type FaultCounters, startFaults, totalFaults } from './lib/faults';
import { startGuard } from './lib/guard';
import { createIntakeDriver } from './lib/intake-driver';
import { startPrivateMariadb } from './lib/mariadb';
import { createMembers, type MemberSpec } from './lib/members';
import { freePort, sleep } from './lib/ports';
import { createRandom } from './lib/random';
import { Supervisor } from './lib/supervisor';

const ORG_FILE = path.resolve(__dirname, 'org.chaos.jsonc');
const SERVER_SCRIPT = path.resolve(__dirname, 'children/server.ts');
const EMULATOR_SCRIPT = path.resolve(__dirname, 'children/emulator.ts');
const DATABASE = 'leadrelay_chaos';
const INSTANCES = 3;
const OUTBOX_LEASE_MS = 4000;
const TIMER_LEASE_MS = 5000;
/** No new fault in the last seconds of the traffic phase: the last ones are undone before the drain. */
const QUIET_MS = 10_000;
const DRAIN_TIMEOUT_MS = 300_000;

const log = (message: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const cleanups: (() => Promise<void>)[] = [];
/** The children's logs are removed with the run's directory unless the run failed (or CHAOS_KEEP_LOGS=1). */
let keepLogs = process.env.CHAOS_KEEP_LOGS === '1';
const children: ManagedChild[] = [];

async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch((e: Error) => log(`cleanup: ${e.message}`));
}

async function main(): Promise<number> {
  const durationMs = envNumber('CHAOS_DURATION', 600) * 1000;
  const seed = envNumber('CHAOS_SEED', randomBytes(4).readUInt32BE());
  const leadRate = envNumber('CHAOS_LEAD_RATE', 1);
  const skewMs = envNumber('CHAOS_SKEW_MS', 90_000);
  const random = createRandom(seed);
  log(`seed ${seed}, ${durationMs / 1000} s of traffic and faults, ${leadRate} new leads/s`);

  const base = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-chaos-'));
  const logs = path.join(base, 'logs');
  const dbDir = path.join(base, 'db');
  mkdirSync(logs);
  const guard = startGuard({ pidFile: path.join(dbDir, 'mariadbd.pid'), dirs: [dbDir] });
  cleanups.push(async () => {
    guard.stop();
    rmSync(dbDir, { recursive: true, force: true });
    if (keepLogs) log(`logs kept in ${logs}`);
    else rmSync(base, { recursive: true, force: true });
  });

  // --- the database ---------------------------------------------------------------------------------
  const database = await startPrivateMariadb(dbDir, path.join(logs, 'mariadbd.log'));
  cleanups.push(() => database.stop());
  log(`private mariadbd on port ${database.port}`);
  const databaseUrl = `${database.serverUrl}${DATABASE}`;
  await ensureDatabase(database.serverUrl, DATABASE);
  const setup = createDatabase(databaseUrl, { poolSize: 2 });
  await runMigrations(setup.db, setup.pool);
  const { key: apiKey } = await createApiKey(setup.db, {
    sourceId: 'website',
    label: 'chaos',
    now: new Date(),
  });
  const [version] = await setup.pool.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  const machine = machineLine(String(version[0]?.v ?? 'unknown'));
  await setup.close();

  // --- the emulator, the balancer, the instances ----------------------------------------------------
  const org = loadOrgConfig(ORG_FILE, {});
  const credentials = benchWecomCredentials();
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const backends: Backend[] = [];
  for (let i = 1; i <= INSTANCES; i++) {
    backends.push({ name: `instance-${i}`, url: `http://127.0.0.1:${await freePort()}`, up: false });
  }
  const balancer = await startBalancer(backends, { timeoutMs: 10_000 });
  cleanups.push(() => balancer.close());

  const emulator = new ManagedChild({
    name: 'emulator',
    script: EMULATOR_SCRIPT,
    logFile: path.join(logs, 'emulator.log'),
    env: {
      LEADRELAY_CONFIG: ORG_FILE,
      EMULATOR_PORT: String(emulatorPort),
      EMULATOR_CALLBACK_URL: `${balancer.url}/callbacks/wecom`,
      ...wecomServerEnv(credentials, emulatorUrl),
    },
  });
  children.push(emulator);
  const emulatorControl = await emulator.start();
  cleanups.push(() => emulator.stop());

  const instances = backends.map((backend, i) => {
    const child = new ManagedChild({
      name: backend.name,
      script: SERVER_SCRIPT,
      logFile: path.join(logs, `${backend.name}.log`),
      env: {
        DATABASE_URL: databaseUrl,
        LEADRELAY_CONFIG: ORG_FILE,
        PORT: new URL(backend.url).port,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        SHUTDOWN_GRACE_MS: '3000',
        ...wecomServerEnv(credentials, emulatorUrl),
        WECOM_TIMEOUT_MS: '2000',
        CHAOS_OUTBOX_LEASE_MS: String(OUTBOX_LEASE_MS),
        CHAOS_TIMER_LEASE_MS: String(TIMER_LEASE_MS),
        CHAOS_BACKOFF_MAX_MS: '10000',
        // The last instance's clock runs ahead of everyone else's for the whole run.
        CHAOS_CLOCK_SKEW_MS: i === INSTANCES - 1 ? String(skewMs) : '0',
      },
    });
    children.push(child);
    return { child, backend };
  });
  const supervisor = new Supervisor(instances, log);
  cleanups.push(() => supervisor.stopAll());
  await supervisor.startAll();
  log(`emulator ${emulatorUrl}, instances ${backends.map((b) => b.url).join(' ')}, balancer ${balancer.url}`);

  // --- traffic and faults ---------------------------------------------------------------------------
  const memberSpecs: MemberSpec[] = org.members.map((m) => {
    const supervisorOf = org.teams.some((t) => t.supervisor === m.id);
    const directorOf = org.teams.some((t) => t.director === m.id);
    return {
      userid: m.platforms.wecom!,
      role: directorOf ? 'director' : supervisorOf ? 'supervisor' : 'rep',
    };
  });
  const intake = createIntakeDriver({
    url: balancer.url,
    apiKey,
    random,
    rate: leadRate,
    repeatShare: 0.1,
    runId: `chaos${seed}`,
  });
  const members = createMembers({ emulatorUrl, members: memberSpecs, random });
  const faults = startFaults(
    {
      instances,
      database,
      emulatorControl,
      emulatorUrl,
      pauseMs: Math.max(OUTBOX_LEASE_MS, TIMER_LEASE_MS) + 5000,
      random,
      log,
    },
    durationMs,
    QUIET_MS,
  );
  faults.counters.skewedInstances = skewMs !== 0 ? 1 : 0;
  intake.start();
  members.start();
  const started = Date.now();
  const progress = setInterval(() => {
    const s = intake.ledger;
    log(
      `t+${Math.round((Date.now() - started) / 1000)} s: ${s.requests} intake requests, ${s.accepted.size} leads accepted, ` +
        `${members.ledger.actions} member actions, ${totalFaults(faults.counters)} faults, ${supervisor.restarts} restarts`,
    );
  }, 30_000);
  await sleep(durationMs);
  clearInterval(progress);

  log('traffic phase over: undoing faults, stopping traffic');
  await faults.stop();
  await Promise.all([intake.stop(60_000), members.stop()]);
  await supervisor.allUp();
  log('draining');
  const drained = await drain(databaseUrl);

  const pool = mysql.createPool({ uri: databaseUrl, connectionLimit: 2, timezone: 'Z' });
  cleanups.push(() => pool.end());
  const books = await checkBooks({
    pool,
    emulatorControl,
    org,
    intake: intake.ledger,
    members: members.ledger,
  });
  if (!drained) books.violations.push(`the run did not drain within ${DRAIN_TIMEOUT_MS / 1000} s`);
  const failed = books.duplicates.length + books.losses.length + books.violations.length > 0;
  if (failed) keepLogs = true;
  process.stdout.write(
    summary({
      durationMs,
      seed,
      leadRate,
      books,
      faults: faults.counters,
      supervisor,
      intake,
      members,
      balancer,
      machine,
    }),
  );
  if (failed) {
    for (const file of ['instance-1.log', 'instance-2.log', 'instance-3.log']) {
      const text = readFileSync(path.join(logs, file), 'utf8').trim().split('\n');
      log(`${file}, last lines:\n${text.slice(-15).join('\n')}`);
    }
  }
  return failed ? 1 : 0;
}

/** Until nothing is due: no outbox row waiting, no timer due within a minute, no inbox row unprocessed. */
async function drain(url: string): Promise<boolean> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let quiet = 0;
    while (Date.now() < deadline) {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        `SELECT
           (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')) AS outbox,
           (SELECT COUNT(*) FROM timers WHERE status = 'firing'
              OR (status = 'pending' AND due_at <= NOW(3) + INTERVAL 60 SECOND)) AS timers,
           (SELECT COUNT(*) FROM inbox_events WHERE status = 'received') AS inbox`,
      );
      const r = rows[0]!;
      const busy = Number(r.outbox) + Number(r.timers) + Number(r.inbox);
      quiet = busy === 0 ? quiet + 1 : 0;
      if (quiet >= 3) return true;
      if (busy > 0 && Math.random() < 0.1)
        log(`draining: ${r.outbox} outbox, ${r.timers} timers, ${r.inbox} inbox`);
      await sleep(1000);
    }
    return false;
  } finally {
    await connection.end();
  }
}

function summary(input: {
  durationMs: number;
  seed: number;
  leadRate: number;
  books: Books;
  faults: FaultCounters;
  supervisor: Supervisor;
  intake: ReturnType<typeof createIntakeDriver>;
  members: ReturnType<typeof createMembers>;
  balancer: { counters: { requests: number; failedOver: number; badGateway: number } };
  machine: string;
}): string {
  const { books, faults } = input;
  const i = input.intake.ledger;
  const m = input.members.ledger;
  const f = faults;
  const statuses = Object.entries(i.statuses)
    .map(([s, n]) => `${s} × ${n}`)
    .join(', ');
  const count = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const lines = [
    '',
    `## chaos — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${input.durationMs / 1000} s of traffic and faults, seed ${input.seed}, ${input.leadRate} new leads/s, 3 instances.`,
    '',
    '| what | figure |',
    '| --- | ---: |',
    `| requests sent: intake (retries included) | ${i.requests} (${statuses}) |`,
    `| requests sent: member actions through the emulator (texts, clicks) | ${m.actions} |`,
    `| requests sent: callbacks the emulator posted (retries included) | ${books.emulatorStats.callbacks_sent ?? 0} |`,
    `| faults injected | ${totalFaults(f)} |`,
    `| … instances SIGKILLed (restarted by the supervisor) | ${f.instanceKills} (${input.supervisor.restarts} restarts, ${input.supervisor.startFailures} failed starts) |`,
    `| … database crashes (SIGKILL) / clean restarts | ${f.databaseCrashes} / ${f.databaseRestarts} |`,
    `| … emulator down / slow requests / rate-limited or busy answers | ${f.emulatorDowns} / ${f.slowRequests} / ${f.rateLimited} |`,
    `| … ambiguous sends (accepted, then cut) / timeouts (held, dropped) | ${f.ambiguousSends} / ${f.timeouts} |`,
    `| … workers paused past their leases / token expiries / skewed clocks | ${f.workerPauses} / ${f.tokenExpiries} / ${f.skewedInstances} |`,
    `| leads accepted (201/200 answered) / stored / stored without an answer | ${books.leadsAccepted} / ${books.leadsStored} / ${books.storedUnanswered} |`,
    `| submissions without an answer at the end | ${i.unanswered} |`,
    `| texts / clicks acknowledged (200) by LeadRelay | ${m.textsOk.length} / ${m.clicksOk.size} |`,
    `| inbox events (all processed once) | ${books.inboxEvents} |`,
    `| notifications intended (outbox rows) | ${books.notificationsIntended} (${count(books.outboxByStatus)}) |`,
    `| … maybe_sent (an ambiguous send surfaced) that the emulator did deliver, once | ${books.maybeSentDelivered} of ${books.maybeSent} |`,
    `| notifications delivered (emulator: messages + card updates) | ${books.notificationsDelivered} + ${books.cardUpdatesApplied} |`,
    `| escalations (lead, ladder, level) | ${books.escalations} |`,
    `| digests (team, kind, period) | ${books.digests.map((d) => `${d.team} ${d.kind} ${d.periodKey}${d.late ? ' late' : ''}`).join(', ')} |`,
    `| timers | ${count(books.timersByStatus)} |`,
    `| emulator counters | ${count(books.emulatorStats)} |`,
    `| balancer: requests / failed over / 502-504 | ${input.balancer.counters.requests} / ${input.balancer.counters.failedOver} / ${input.balancer.counters.badGateway} |`,
    `| **duplicates** | **${books.duplicates.length}** |`,
    `| **losses** | **${books.losses.length}** |`,
    `| other violations | ${books.violations.length} |`,
    '',
  ];
  for (const [title, items] of [
    ['Duplicates', books.duplicates],
    ['Losses', books.losses],
    ['Violations', books.violations],
  ] as const) {
    if (items.length === 0) continue;
    lines.push(`${title}:`, ...items.slice(0, 30).map((x) => `- ${x}`), '');
  }
  lines.push(
    books.duplicates.length + books.losses.length + books.violations.length === 0
      ? 'Result: PASS — zero duplicates, zero losses.'
      : 'Result: FAIL',
    '',
    input.machine,
    '',
  );
  return lines.join('\n');
}

let exiting = false;
const finish = (code: number) => {
  if (exiting) return;
  exiting = true;
  void cleanup().finally(() => process.exit(code));
};
process.on('exit', () => {
  for (const child of children) child.killNow();
});
process.once('SIGINT', () => finish(130));
process.once('SIGTERM', () => finish(143));
main().then(
  (code) => finish(code),
  (error: unknown) => {
    log(`chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    keepLogs = true;
    finish(1);
  },
);
