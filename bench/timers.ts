import { type ChildProcess, spawn } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'drizzle-orm';
import type mysql from 'mysql2/promise';
import { runBatch, type Statement } from '../src/db/batch';
import { createDatabase } from '../src/db/client';
import { ER_DUP_ENTRY, mysqlErrno } from '../src/db/transaction';
import { createLogging } from '../src/lib/logger';
import { type ExplainRow, explainDueQuery, usesDueIndexRange } from '../src/timers/explain-due-query';
import { nextDueQuery } from '../src/timers/find-next-due';
import { scheduleTimersStatement, type TimerSpec } from '../src/timers/schedule';
import {
  createTimerWorker,
  DEFAULT_TIMER_OPTIONS,
  type TimerCounters,
  type TimerWorkerOptions,
} from '../src/timers/worker';
import { type Benchmark, type BenchOptions, type BenchReport, sleep } from './lib/bench';
import { registerCleanup } from './lib/cleanup';
import { createBenchDatabase } from './lib/database';
import { machineLine } from './lib/machine';
import { cpuMillis, findDatabasePid } from './lib/proc';
import { type Distribution, distribution, fmtInt, fmtMs, mark } from './lib/stats';

/**
 * `npm run bench -- timers`: 100k pending timers in a fresh database, three worker instances in three
 * child processes (each its own pool of 10, default worker options), handler = one INSERT into
 * `bench_effects`, whose UNIQUE key on the effect key catches a second run of any timer.
 *
 * - catch-up: 10k of the 100k are already due when the instances start (as after a restart); time from
 *   the start signal to the last effect, by the database clock.
 * - falling due at once: with the instances running and idle, 10k more timers all due at one instant
 *   2 s ahead; time from that instant to the first and the last effect.
 *
 * Between the phases the idle instances' statement rate is measured. Targets (docs BENCHMARKS.md): all
 * fired within 10 s, each once, the due query an index range (EXPLAIN printed). Fails (exit 1) only on
 * correctness: a timer fired twice, not at all, early, or left firing/failed; never on a timing.
 */

const CHILD_FLAG = '--timer-bench-worker';
const REPO_ROOT = path.resolve(__dirname, '..');
const INSTANCES = 3;
const TARGET_MS = 10_000;
const ROWS_PER_INSERT = 2_000;
const INSERTS_PER_BATCH = 5;
/** Phase B's timers fall due this far after they are written. */
const FALL_DUE_AFTER_MS = 2_000;
const IDLE_WINDOW_MS = 3_000;
const PHASE_TIMEOUT_MS = 60_000;

interface ChildResult {
  pid: number;
  counters: TimerCounters;
  handlerRuns: number;
  duplicates: number;
}

/** The defaults, unless BENCH_TIMER_CONCURRENCY / BENCH_TIMER_BATCH say otherwise (to compare settings). */
function benchWorkerOptions(): Partial<TimerWorkerOptions> {
  const concurrency = Number(process.env.BENCH_TIMER_CONCURRENCY) || undefined;
  const batchSize = Number(process.env.BENCH_TIMER_BATCH) || undefined;
  return { ...(concurrency ? { concurrency } : {}), ...(batchSize ? { batchSize } : {}) };
}

// ---------------------------------------------------------------------------------------------------
// The worker child: started with CHILD_FLAG, waits for `start`, runs until `stop` (or stdin closes).

async function runChild(): Promise<void> {
  // Every statement this process sends, counted where mysql2 publishes it (diagnostics channel):
  // exact per instance, unlike the server-wide counters other clients of a shared server add to.
  let statements = 0;
  diagnosticsChannel.subscribe('tracing:mysql2:query:start', () => {
    statements++;
  });
  const url = process.env.TIMER_BENCH_DATABASE_URL!;
  const database = createDatabase(url, { poolSize: Number(process.env.DATABASE_POOL_SIZE || 10) });
  const logger = createLogging({ level: process.env.BENCH_LOG_LEVEL || 'silent' }).logger;
  let handlerRuns = 0;
  let duplicates = 0;
  const worker = createTimerWorker({
    db: database.db,
    logger,
    options: benchWorkerOptions(),
    handlers: {
      // The effect in its own (autocommit) transaction, idempotent by its unique key.
      'bench.effect': async (timer) => {
        handlerRuns++;
        try {
          await database.pool.query(
            'INSERT INTO bench_effects (effect_key, pid, fired_at) VALUES (?, ?, NOW(3))',
            [timer.effectKey, process.pid],
          );
        } catch (error) {
          if (mysqlErrno(error) !== ER_DUP_ENTRY) throw error;
          duplicates++;
        }
      },
    },
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await worker.stop();
    const result: ChildResult = { pid: process.pid, counters: worker.counters, handlerRuns, duplicates };
    process.stdout.write(`${JSON.stringify({ timerBenchResult: result })}\n`);
    await database.close();
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'start') worker.start();
    if (line === 'stop') void stop();
    if (line === 'sample') process.stdout.write(`${JSON.stringify({ timerBenchSample: statements })}\n`);
  });
  lines.on('close', () => void stop());
  // Warm the pool so the start signal measures the loop, not connection set-up.
  await database.pool.query('SELECT 1');
  process.stdout.write(`${JSON.stringify({ timerBenchReady: process.pid })}\n`);
}

interface WorkerChild {
  pid: number;
  send(line: 'start' | 'stop'): void;
  /** Statements this child has sent to the database so far. */
  statements(): Promise<number>;
  /** Sends `stop`, resolves with the child's counters (SIGKILL after 30 s). */
  stop(): Promise<ChildResult | null>;
}

async function startWorkerChild(url: string, log: (message: string) => void): Promise<WorkerChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', __filename, CHILD_FLAG], {
    cwd: REPO_ROOT,
    env: { ...process.env, TIMER_BENCH_DATABASE_URL: url },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let result: ChildResult | null = null;
  const samples: ((count: number) => void)[] = [];
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolve, reject) => {
    ready = resolve;
    void exited.then(() => reject(new Error(`timer worker child ${child.pid} exited before it was ready`)));
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.includes('"timerBenchReady"')) ready();
    else if (line.includes('"timerBenchSample"'))
      samples.shift()?.((JSON.parse(line) as { timerBenchSample: number }).timerBenchSample);
    else if (line.includes('"timerBenchResult"'))
      result = (JSON.parse(line) as { timerBenchResult: ChildResult }).timerBenchResult;
    else process.stderr.write(`[worker ${child.pid}] ${line}\n`);
  });
  let stopping: Promise<ChildResult | null> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      unregister();
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.write('stop\n');
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(killer);
      }
      return result;
    })();
    return stopping;
  };
  const unregister = registerCleanup(async () => void (await stop()));
  await isReady;
  log(`timer worker child pid ${child.pid} ready`);
  return {
    pid: child.pid!,
    send: (line) => child.stdin!.write(`${line}\n`),
    statements: () =>
      new Promise<number>((resolve) => {
        samples.push(resolve);
        child.stdin!.write('sample\n');
      }),
    stop,
  };
}

// ---------------------------------------------------------------------------------------------------
// The bench

async function bulkInsert(pool: mysql.Pool, specs: TimerSpec[]): Promise<void> {
  const statements: Statement[] = [];
  for (let i = 0; i < specs.length; i += ROWS_PER_INSERT) {
    statements.push(scheduleTimersStatement(specs.slice(i, i + ROWS_PER_INSERT)));
  }
  for (let i = 0; i < statements.length; i += INSERTS_PER_BATCH) {
    await runBatch(pool, statements.slice(i, i + INSERTS_PER_BATCH));
  }
}

async function scalar(
  pool: mysql.Pool,
  query: string,
  params: unknown[] = [],
): Promise<string | number | null> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>(query, params);
  const first = rows[0];
  return first ? (Object.values(first)[0] as string | number | null) : null;
}

async function dbNow(pool: mysql.Pool): Promise<string> {
  return String(await scalar(pool, "SELECT DATE_FORMAT(NOW(3), '%Y-%m-%d %H:%i:%s.%f')"));
}

interface Phase {
  label: string;
  pending: number;
  due: number;
  /** Ms from the reference instant (start signal, or the common due time) to each effect. */
  lateness: Distribution;
  first: number;
  last: number;
  /** Effects earlier than the reference instant (the common due time): must be none. */
  early: number;
  timedOut: boolean;
  statementsPerTimer: number;
  databaseCpuMs: number | null;
  workerCpuMs: number | null;
}

async function runTimersBench(options: BenchOptions): Promise<BenchReport> {
  const { log } = options;
  const total = options.smoke ? 10_000 : 100_000;
  const dueCount = options.smoke ? 1_000 : 10_000;
  const failures: string[] = [];
  const database = await createBenchDatabase('timers');
  const machine = machineLine(database.version);
  const children: WorkerChild[] = [];
  try {
    const { pool } = database;
    await pool.query(
      'CREATE TABLE bench_effects (effect_key VARCHAR(191) NOT NULL PRIMARY KEY, pid INT NOT NULL, fired_at DATETIME(3) NOT NULL)',
    );

    log(`inserting ${fmtInt(total)} pending timers, ${fmtInt(dueCount)} of them due`);
    // Every tenth row due (within the last 5 s), the rest spread over the next day: the due rows are
    // scattered through the clustered index as they would be in production.
    const every = Math.round(total / dueCount);
    const specs: TimerSpec[] = Array.from({ length: total }, (_, i) =>
      i % every === 0
        ? { effectKey: `a:${i}`, kind: 'bench.effect', leadId: i, dueAt: { inMs: -1 - (i % 5_000) } }
        : { effectKey: `f:${i}`, kind: 'bench.effect', leadId: i, dueAt: { inMs: 3_600_000 + i * 800 } },
    );
    const insertStarted = performance.now();
    await bulkInsert(database.batchPool, specs);
    const insertMs = performance.now() - insertStarted;
    // With the LIMIT a claim of a full batch uses.
    const plan = await explainDueQuery(
      database.db,
      { ...DEFAULT_TIMER_OPTIONS, ...benchWorkerOptions() }.batchSize,
    );
    const [nextDuePlan] = (await database.db.execute(sql`EXPLAIN ${nextDueQuery()}`)) as unknown as [
      ExplainRow[],
    ];
    log(`inserted in ${fmtMs(insertMs)} ms; due query: ${plan.map((r) => `${r.type} ${r.key}`).join(', ')}`);

    // Started side by side; any that did start are stopped in `finally` even if another failed.
    const started = await Promise.allSettled(
      Array.from({ length: INSTANCES }, () => startWorkerChild(database.url, log)),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') children.push(outcome.value);
    const refused = started.find((outcome) => outcome.status === 'rejected');
    if (refused) throw refused.reason;
    const databasePid = findDatabasePid();
    const workerCpu = () => {
      const values = children.map((c) => cpuMillis(c.pid));
      return values.some((v) => v === null) ? null : values.reduce((s, v) => s! + v!, 0);
    };

    const statements = async () =>
      (await Promise.all(children.map((c) => c.statements()))).reduce((a, b) => a + b, 0);
    const measure = async (label: string, prefix: string, reference: string, start?: () => void) => {
      const statementsBefore = await statements();
      const dbCpuBefore = cpuMillis(databasePid);
      const workerCpuBefore = workerCpu();
      start?.();
      const deadline = Date.now() + PHASE_TIMEOUT_MS;
      let timedOut = false;
      const count = () =>
        scalar(pool, "SELECT COUNT(*) FROM timers WHERE status = 'done' AND effect_key LIKE ?", [
          `${prefix}%`,
        ]);
      while (Number(await count()) < dueCount) {
        if (Date.now() > deadline) {
          timedOut = true;
          failures.push(`${label}: not all ${dueCount} timers done after ${PHASE_TIMEOUT_MS / 1000} s`);
          break;
        }
        await sleep(50);
      }
      const statementsAfter = await statements();
      const dbCpuAfter = cpuMillis(databasePid);
      const workerCpuAfter = workerCpu();
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        'SELECT TIMESTAMPDIFF(MICROSECOND, ?, fired_at) / 1000 AS ms FROM bench_effects WHERE effect_key LIKE ?',
        [reference, `${prefix}%`],
      );
      const lateness = distribution(rows.map((r) => Number(r.ms)));
      const sorted = rows.map((r) => Number(r.ms));
      const perTimer = (before: number | null, after: number | null) =>
        before === null || after === null ? null : (after - before) / dueCount;
      const phase: Phase = {
        label,
        pending: total,
        due: dueCount,
        lateness,
        first: sorted.length > 0 ? Math.min(...sorted) : 0,
        last: lateness.max,
        early: sorted.filter((ms) => ms < 0).length,
        timedOut,
        statementsPerTimer: (statementsAfter - statementsBefore) / dueCount,
        databaseCpuMs: perTimer(dbCpuBefore, dbCpuAfter),
        workerCpuMs: perTimer(workerCpuBefore, workerCpuAfter),
      };
      log(`${label}: first ${fmtMs(phase.first)} ms, last ${fmtMs(phase.last)} ms`);
      return phase;
    };

    // Phase A: the instances start with 10k overdue among 100k pending.
    const startedAt = await dbNow(pool);
    const catchUp = await measure('catch-up', 'a:', startedAt, () => {
      for (const child of children) child.send('start');
    });

    // Idle: nothing due for an hour; what do three instances cost the database?
    await sleep(1_500);
    const idleBefore = await statements();
    await sleep(IDLE_WINDOW_MS);
    const idleAfter = await statements();
    // The second SHOW GLOBAL STATUS counts itself.
    const idleRate = ((idleAfter - idleBefore) * 1000) / IDLE_WINDOW_MS;

    // Phase B: 10k timers written now, all due at one instant FALL_DUE_AFTER_MS ahead (database clock).
    const dueAt = String(
      await scalar(
        pool,
        `SELECT DATE_FORMAT(NOW(3) + INTERVAL ${FALL_DUE_AFTER_MS * 1000} MICROSECOND, '%Y-%m-%d %H:%i:%s.%f')`,
      ),
    );
    const dueDate = new Date(`${dueAt.slice(0, 23).replace(' ', 'T')}Z`);
    await bulkInsert(
      database.batchPool,
      Array.from({ length: dueCount }, (_, i) => ({
        effectKey: `b:${i}`,
        kind: 'bench.effect',
        leadId: total + i,
        dueAt: dueDate,
      })),
    );
    const atOnce = await measure('falling due at once', 'b:', dueAt);

    const results = await Promise.all(children.map((c) => c.stop()));
    children.length = 0;

    // Correctness: every due timer fired once, nothing else fired, nothing left behind.
    const effects = Number(await scalar(pool, 'SELECT COUNT(*) FROM bench_effects'));
    const [statusRows] = await pool.query<mysql.RowDataPacket[]>(
      'SELECT status, COUNT(*) AS n FROM timers GROUP BY status ORDER BY status',
    );
    const statuses = Object.fromEntries(statusRows.map((r) => [String(r.status), Number(r.n)]));
    const futureFired = Number(
      await scalar(pool, "SELECT COUNT(*) FROM bench_effects WHERE effect_key LIKE 'f:%'"),
    );
    const firedEarly = Number(
      await scalar(
        pool,
        'SELECT COUNT(*) FROM bench_effects e JOIN timers t ON t.effect_key = e.effect_key WHERE e.fired_at < t.due_at',
      ),
    );
    const handlerRuns = results.reduce((s, r) => s + (r?.handlerRuns ?? 0), 0);
    const duplicates = results.reduce((s, r) => s + (r?.duplicates ?? 0), 0);
    const expected = 2 * dueCount;
    if (results.some((r) => r === null)) failures.push('a worker child did not report its counters');
    if (effects !== expected) failures.push(`${effects} effects for ${expected} due timers`);
    if (duplicates > 0) failures.push(`${duplicates} handler runs hit the effect's unique key (ran twice)`);
    if (handlerRuns !== expected) failures.push(`${handlerRuns} handler runs for ${expected} due timers`);
    if (futureFired > 0 || firedEarly > 0 || catchUp.early > 0 || atOnce.early > 0) {
      failures.push(
        `fired early: ${futureFired} future timers, ${firedEarly + atOnce.early} before their due time`,
      );
    }
    if (
      statuses.done !== expected ||
      statuses.pending !== total - dueCount ||
      Object.keys(statuses).length !== 2
    ) {
      failures.push(`timer statuses after the run: ${JSON.stringify(statuses)}`);
    }
    const indexed = usesDueIndexRange(plan);
    if (!indexed) failures.push('the due query does not read the timers_due_idx range');

    return {
      markdown: render({
        options,
        total,
        insertMs,
        phases: [catchUp, atOnce],
        plan,
        nextDuePlan,
        indexed,
        idleRate,
        results,
        effects,
        handlerRuns,
        duplicates,
        statuses,
        machine,
        failures,
      }),
      failures,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop().catch(() => null)));
    await database.drop().catch((error: unknown) => log(`could not drop ${database.name}: ${String(error)}`));
  }
}

// ---------------------------------------------------------------------------------------------------
// Report

function render(r: {
  options: BenchOptions;
  total: number;
  insertMs: number;
  phases: Phase[];
  plan: ExplainRow[];
  nextDuePlan: ExplainRow[];
  indexed: boolean;
  idleRate: number;
  results: (ChildResult | null)[];
  effects: number;
  handlerRuns: number;
  duplicates: number;
  statuses: Record<string, number>;
  machine: string;
  failures: string[];
}): string {
  const judged = r.options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const w = { ...DEFAULT_TIMER_OPTIONS, ...benchWorkerOptions() };
  const cpu = (ms: number | null) => (ms === null ? 'n/a' : `${fmtInt(ms * 1000)} µs`);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace(/\|/g, '\\|'));
  const planColumns = [
    'id',
    'select_type',
    'table',
    'type',
    'possible_keys',
    'key',
    'key_len',
    'ref',
    'rows',
    'Extra',
  ];
  const [catchUp, atOnce] = r.phases as [Phase, Phase];
  const due = catchUp.due;
  const shares = r.results.map((c) => (c ? fmtInt(c.counters.fired) : '?')).join(' / ');
  const leaseLost = r.results.reduce((s, c) => s + (c?.counters.leaseLost ?? 0), 0);
  const claimed = r.results.reduce((s, c) => s + (c?.counters.claimed ?? 0), 0);
  return [
    `## timers${r.options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- timers\`: ${fmtInt(r.total)} pending timers in a fresh database (bulk-inserted in ` +
      `${fmtMs(r.insertMs / 1000)} s, ${fmtInt((r.total * 1000) / r.insertMs)} rows/s, ${ROWS_PER_INSERT} rows per INSERT), ` +
      `${INSTANCES} worker instances in ${INSTANCES} child processes (pool ${process.env.DATABASE_POOL_SIZE || 10} each, ` +
      `worker options: concurrency ${w.concurrency}, claims of up to ${w.batchSize}, lease ${w.leaseMs / 1000} s, ` +
      `idle cap ${w.maxIdleMs / 1000} s); handler = one INSERT into \`bench_effects\` ` +
      '(UNIQUE effect key) in its own transaction. Times are by the database clock: effect `fired_at` − the start ' +
      'signal (catch-up) or − the common due time (falling due). Statements/timer = statements the three instances sent ' +
      "(counted in each child on mysql2's diagnostics channel; handler INSERTs included) ÷ timers; CPU/timer = CPU of the three children and of the database process ÷ timers.",
    '',
    '| phase | pending | due at once | first effect ms | p50 ms | p99 ms | all fired ms | timers/s | statements/timer | workers CPU/timer | DB CPU/timer |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.phases.map(
      (p) =>
        `| ${p.label} | ${fmtInt(p.pending)} | ${fmtInt(p.due)} | ${fmtMs(p.first)} | ${fmtMs(p.lateness.p50)} | ` +
        `${fmtMs(p.lateness.p99)} | ${fmtMs(p.last)} | ${fmtInt(p.last > 0 ? (p.due * 1000) / p.last : 0)} | ` +
        `${p.statementsPerTimer.toFixed(2)} | ${cpu(p.workerCpuMs)} | ${cpu(p.databaseCpuMs)} |`,
    ),
    '',
    `EXPLAIN of the due query with ${fmtInt(r.total)} pending, ${fmtInt(due)} due (src/timers/claim-due-timers.ts \`dueTimersQuery\`):`,
    '',
    `| ${planColumns.join(' | ')} |`,
    `| ${planColumns.map(() => '---').join(' | ')} |`,
    ...r.plan.map((row) => `| ${planColumns.map((c) => cell(row[c])).join(' | ')} |`),
    '',
    `EXPLAIN of the idle next-due query (src/timers/find-next-due.ts): ` +
      r.nextDuePlan
        .map((row) => `${row.select_type} ${row.type ?? '-'} ${row.key ?? '-'} "${row.Extra ?? ''}"`)
        .join('; '),
    '',
    `- All ${fmtInt(due)} fired within ${TARGET_MS / 1000} s: catch-up **${fmtMs(catchUp.last / 1000)} s** ` +
      `${mark(!catchUp.timedOut && catchUp.last < TARGET_MS)}, falling due at once **${fmtMs(atOnce.last / 1000)} s** ` +
      `${mark(!atOnce.timedOut && atOnce.last < TARGET_MS)}${judged}; the first effect ${fmtMs(atOnce.first)} ms after the due instant (none before it).`,
    `- Each once: ${fmtInt(r.effects)} effect rows for ${fmtInt(2 * due)} due timers, ${fmtInt(r.handlerRuns)} handler runs, ` +
      `${r.duplicates} duplicate-key errors, ${leaseLost} leases lost, ${fmtInt(claimed)} rows claimed (${fmtInt(claimed - r.handlerRuns)} more than runs); statuses ${JSON.stringify(r.statuses)} ` +
      `${mark(r.effects === 2 * due && r.duplicates === 0 && r.handlerRuns === 2 * due)}. Fired per instance: ${shares}.`,
    `- Due query reads an index range: type \`${r.plan[0]?.type}\`, key \`${r.plan[0]?.key}\` ${mark(r.indexed)}.`,
    `- Idle (${INSTANCES} instances, next timer an hour away): ${r.idleRate.toFixed(1)} statements/s from the ${INSTANCES} together (one next-due query per instance per idle cap, no claims).`,
    `- Correctness: ${r.failures.length === 0 ? 'every due timer fired exactly once, nothing early, nothing left firing ✓' : `**${r.failures.length} failures** ✗`}`,
    '',
    r.machine,
  ].join('\n');
}

export const timersBenchmark: Benchmark = {
  name: 'timers',
  description:
    '100k pending timers, 10k due at once, 3 worker processes: time to fire all, each once, EXPLAIN',
  run: runTimersBench,
};

if (require.main === module && process.argv.includes(CHILD_FLAG)) {
  runChild().catch((error: unknown) => {
    console.error('timer bench worker failed:', error);
    process.exit(1);
  });
}
