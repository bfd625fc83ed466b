import path from 'node:path';
import mysql from 'mysql2/promise';
import { type Benchmark, type BenchOptions, type BenchReport, sleep } from './lib/bench';
import { type ChildServer, startChildServer } from './lib/child';
import { createBenchDatabase } from './lib/database';
import { type LoadFigures, runLoad } from './lib/load';
import { machineLine } from './lib/machine';
import { type PacedAttempt, type PacedRun, runPaced } from './lib/paced';
import { cpuMillis, findDatabasePid, otherLoadMeter } from './lib/proc';
import {
  type Distribution,
  distribution,
  fmtCounts,
  fmtInt,
  fmtMs,
  fmtUs,
  globalStatus,
  mark,
} from './lib/stats';
import {
  benchWecomCredentials,
  CALLBACK_PATH,
  CallbackFactory,
  CallbackStock,
  type SignedCallback,
  type WecomCredentials,
  wecomServerEnv,
} from './lib/wecom';

/**
 * `npm run bench -- callbacks`: signed, encrypted WeCom text-message callbacks POSTed to
 * /callbacks/wecom (verify signature and timestamp, decrypt, parse, store in the inbox, answer 200)
 * against a bare Koa route answering 200 on the same app, side by side in one run (docs
 * BENCHMARKS.md). The callbacks are built and signed before each scenario, so the load generator pays
 * nothing for crypto while it measures.
 *
 * Scenarios: bare max; callbacks max; callbacks at 300 req/s, both as autocannon's bursty
 * `overallRate` (comparable with the intake benchmark) and evenly paced (how WeCom's callbacks
 * arrive, the target); "MySQL slow": callbacks evenly paced at 100 req/s while another connection
 * holds `LOCK TABLES inbox_events WRITE` for 5 s, with WeCom's retries (three attempts in all, at
 * once, as the emulator does). Targets: callbacks ≥ 0.3 of bare; p99 < 50 ms at 300 req/s; every
 * answer < 1 s while MySQL is slow (the route gives up after 800 ms and answers 503 so WeCom retries).
 *
 * Fails (exit 1) only on correctness: an unexpected status (only 200, and 503 while the table is
 * locked, are expected), a connection error, a MsgId answered 200 that is not in the inbox, a row
 * stored twice or one nobody sent, a forged callback accepted, an event whose processing failed.
 */

const SERVER_SCRIPT = path.resolve(__dirname, 'wecom-server.ts');
const ORG_FIXTURE = path.resolve(__dirname, '../test/fixtures/org.test.jsonc');
const BARE_PATH = '/bench/bare';
const HEADERS = { 'content-type': 'text/xml' };
const FIXED_RATE = 300;
const SLOW_RATE = 100;
const TARGET_RATIO = 0.3;
const TARGET_P99_MS = 50;
const TARGET_MAX_ANSWER_MS = 1000;
/** The route's own deadline for the inbox INSERT (src/platforms/wecom/routes.ts). */
const ROUTE_DEADLINE_MS = 800;
/** WeCom (and the emulator) make three attempts in all (path 90238). */
const WECOM_ATTEMPTS = 3;
/** Upper guess of callbacks/s for sizing the stock of a max-rate warm-up (bare Koa is ~7,900). */
const STOCK_GUESS_RPS = 6000;
const BARE_VARIANTS = 2000;
const SETTLE_MS = 1000;
const STATEMENT_COUNTERS = [
  'Com_set_option',
  'Com_begin',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_commit',
  'Com_rollback',
];
const STATUS_NAMES = ['Questions', ...STATEMENT_COUNTERS];

// ---------------------------------------------------------------------------------------------------
// What was sent and answered, to check the inbox afterwards.

/** Per-request state autocannon hands from `setupRequest` to `onResponse`. */
interface RequestState {
  msgId?: string;
}

class CallbackLedger {
  /** Every MsgId sent at least once (or at least handed to the load generator). */
  readonly sent = new Set<string>();
  /** MsgIds answered 200 at least once. */
  readonly ok = new Set<string>();
  /** Signed with the wrong token: must be refused and never stored. */
  readonly forged = new Set<string>();
  unexpectedCount = 0;
  readonly unexpected: string[] = [];

  answer(msgId: string, status: number | null, body: string, allowed: readonly number[], what: string): void {
    if (status === 200) {
      this.ok.add(msgId);
      if (body !== '') this.wrong(`${what}: 200 with a body ${JSON.stringify(body.slice(0, 80))}`);
      return;
    }
    if (status === null || !allowed.includes(status)) {
      this.wrong(`${what}: ${status ?? 'no answer'} ${body.slice(0, 200)}`);
    }
  }

  private wrong(message: string): void {
    this.unexpectedCount++;
    if (this.unexpected.length < 5) this.unexpected.push(message);
  }
}

// ---------------------------------------------------------------------------------------------------

interface Row {
  label: string;
  kind: 'bare' | 'callbacks';
  rps: number;
  latency: Pick<Distribution, 'p50' | 'p99' | 'max'>;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  serverCpuUs: number | null;
  databaseCpuUs: number | null;
  statements: number;
  inserts: number;
  /** Statements per answered request by kind (`Com_*` counters), e.g. `insert 1.00, update 2.00`. */
  breakdown: string;
  /** Cores kept busy by processes outside the benchmark during the window (shared machine). */
  otherCores: number | null;
}

interface SlowResult {
  rate: number;
  lockMs: number;
  /** How long `LOCK TABLES` itself waited for the table. */
  lockWaitMs: number;
  attempts: number;
  messages: number;
  statusCounts: Record<string, number>;
  duringLock: Distribution & { statusCounts: Record<string, number> };
  outside: Distribution;
  maxAnswerMs: number;
  /** MsgIds still without a 200 after three attempts (WeCom gives up on them). */
  givenUp: number;
  /** From UNLOCK to the first 200 answered to a request sent after it. */
  recoveryMs: number | null;
  lagMax: number;
}

interface Scenario {
  label: string;
  kind: 'bare' | 'callbacks';
  overallRate?: number;
}

async function runCallbacksBench(options: BenchOptions): Promise<BenchReport> {
  const { log } = options;
  const failures: string[] = [];
  const database = await createBenchDatabase('callbacks');
  let child: ChildServer | undefined;
  try {
    log(`database ${database.name} (${database.version})`);
    const machine = machineLine(database.version);
    const credentials = benchWecomCredentials();
    const factory = new CallbackFactory(credentials);
    const stock = new CallbackStock(factory);
    const ledger = new CallbackLedger();
    // The bare route gets the same requests (same bytes over the wire), cycling through a few.
    const bareRequests = Array.from({ length: BARE_VARIANTS }, () => {
      const built = factory.build();
      return { ...built, path: BARE_PATH + built.path.slice(CALLBACK_PATH.length) };
    });
    let bareNext = 0;

    child = await startChildServer(
      SERVER_SCRIPT,
      {
        DATABASE_URL: database.url,
        LEADRELAY_CONFIG: ORG_FIXTURE,
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent',
        NODE_ENV: 'production',
        // Text messages cause no outbound call; a closed local port makes sure nothing leaves the box.
        ...wecomServerEnv(credentials, 'http://127.0.0.1:9'),
      },
      options,
    );
    const url = child.url;
    const serverPid = child.pid;
    const databasePid = findDatabasePid();

    await sanityProbe(url, factory, credentials, ledger, failures);

    const fill = (count: number) => {
      const filled = stock.fill(Math.ceil(count));
      log(`  built and signed ${fmtInt(filled.count)} callbacks in ${fmtInt(filled.ms)} ms`);
    };
    const load = (scenario: Scenario, durationSeconds: number) =>
      runLoad({
        url: url + (scenario.kind === 'bare' ? BARE_PATH : CALLBACK_PATH),
        connections: options.connections,
        durationSeconds,
        ...(scenario.overallRate ? { overallRate: scenario.overallRate } : {}),
        headers: HEADERS,
        setupRequest: (request, context) => {
          let built: SignedCallback;
          if (scenario.kind === 'bare') {
            built = bareRequests[bareNext++ % bareRequests.length]!;
          } else {
            built = stock.take();
            (context as RequestState).msgId = built.msgId;
            ledger.sent.add(built.msgId);
          }
          return { ...request, path: built.path, body: built.body };
        },
        onResponse: (status, body, context) => {
          const { msgId } = context as RequestState;
          if (scenario.kind === 'callbacks' && msgId) ledger.answer(msgId, status, body, [], scenario.label);
        },
      });
    const checkLoad = (label: string, figures: LoadFigures) => {
      if (figures.errors > 0 || figures.non2xx > 0) {
        failures.push(
          `${label}: ${figures.errors} connection errors (${figures.timeouts} timeouts), ` +
            `${figures.non2xx} non-2xx (${JSON.stringify(figures.statusCounts)})`,
        );
      }
    };
    /** CPU and statement counters around `run`, per answered request. */
    const metered = async <T>(run: () => Promise<T>, answered: (result: T) => number) => {
      const serverBefore = cpuMillis(serverPid);
      const databaseBefore = cpuMillis(databasePid);
      const countersBefore = await globalStatus(database.pool, STATUS_NAMES);
      const otherLoad = otherLoadMeter([serverPid, databasePid]);
      const result = await run();
      const otherCores = otherLoad();
      const countersAfter = await globalStatus(database.pool, STATUS_NAMES);
      const n = answered(result);
      const perRequest = (before: number | null, after: number | null) =>
        before === null || after === null || n === 0 ? null : ((after - before) * 1000) / n;
      const counted = (name: string) =>
        n === 0 ? 0 : ((countersAfter.get(name) ?? 0) - (countersBefore.get(name) ?? 0)) / n;
      const breakdown = STATEMENT_COUNTERS.map((name) => [name.slice(4), counted(name)] as const)
        .filter(([, perRequest]) => perRequest >= 0.005)
        .map(([name, perRequest]) => `${name} ${perRequest.toFixed(2)}`)
        .join(', ');
      log(`  per answered request: ${counted('Questions').toFixed(2)} statements (${breakdown})`);
      return {
        result,
        serverCpuUs: perRequest(serverBefore, cpuMillis(serverPid)),
        databaseCpuUs: perRequest(databaseBefore, cpuMillis(databasePid)),
        statements: counted('Questions'),
        inserts: counted('Com_insert'),
        breakdown,
        otherCores,
      };
    };

    const measureLoad = async (scenario: Scenario): Promise<Row> => {
      // autocannon may send a little past its duration (each connection's share of the last second,
      // the requests built when it stops): keep a margin, and count what still had to be built late.
      const stockFor = (rate: number, seconds: number) =>
        fill(rate * (seconds + 1) + options.connections * 2 + 500);
      if (options.warmupSeconds > 0) {
        log(`${scenario.label}: ${options.warmupSeconds} s warm-up`);
        if (scenario.kind === 'callbacks')
          stockFor(scenario.overallRate ?? STOCK_GUESS_RPS, options.warmupSeconds);
        const warmup = await load(scenario, options.warmupSeconds);
        checkLoad(`${scenario.label} (warm-up)`, warmup);
        if (scenario.kind === 'callbacks')
          stockFor(scenario.overallRate ?? Math.max(1.5 * warmup.rps, 500), options.durationSeconds);
        await sleep(SETTLE_MS);
      } else if (scenario.kind === 'callbacks') {
        stockFor(scenario.overallRate ?? STOCK_GUESS_RPS, options.durationSeconds);
      }
      log(`${scenario.label}: ${options.durationSeconds} s measured`);
      const m = await metered(
        () => load(scenario, options.durationSeconds),
        (figures) => figures.completed,
      );
      const figures = m.result;
      checkLoad(scenario.label, figures);
      log(
        `  ${fmtInt(figures.rps)} req/s, p50 ${fmtMs(figures.p50)} ms, p99 ${fmtMs(figures.p99)} ms, ` +
          `statuses ${JSON.stringify(figures.statusCounts)}, errors ${figures.errors}`,
      );
      await sleep(SETTLE_MS);
      return {
        label: scenario.label,
        kind: scenario.kind,
        rps: figures.rps,
        latency: figures,
        errors: figures.errors,
        timeouts: figures.timeouts,
        non2xx: figures.non2xx,
        statusCounts: figures.statusCounts,
        serverCpuUs: m.serverCpuUs,
        databaseCpuUs: m.databaseCpuUs,
        statements: m.statements,
        inserts: m.inserts,
        breakdown: m.breakdown,
        otherCores: m.otherCores,
      };
    };

    const paced = (rate: number, seconds: number, label: string, retries: boolean) =>
      runPaced<string>({
        url,
        rate,
        durationSeconds: seconds,
        headers: HEADERS,
        next: () => {
          const built = stock.take();
          ledger.sent.add(built.msgId);
          return { path: built.path, body: built.body, tag: built.msgId };
        },
        retryAfter: (attempt) => {
          const allowed = retries ? [503] : [];
          ledger.answer(attempt.item.tag, attempt.status, attempt.body, allowed, label);
          if (!retries || attempt.status === 200 || attempt.attempt >= WECOM_ATTEMPTS) return null;
          return 0;
        },
      });

    const measurePaced = async (label: string): Promise<Row> => {
      log(`${label}: ${options.durationSeconds} s measured`);
      fill(FIXED_RATE * options.durationSeconds + 100);
      const m = await metered(
        () => paced(FIXED_RATE, options.durationSeconds, label, false),
        (run) => run.attempts.length,
      );
      const run = m.result;
      const latency = distribution(run.attempts.map((a) => a.answeredAt - a.sentAt));
      const statusCounts = countStatuses(run.attempts);
      const errors = run.attempts.filter((a) => a.status === null).length;
      const non2xx = run.attempts.filter(
        (a) => a.status !== null && (a.status < 200 || a.status > 299),
      ).length;
      if (errors > 0 || non2xx > 0) {
        failures.push(
          `${label}: ${errors} connection errors, ${non2xx} non-2xx (${fmtCounts(statusCounts)})`,
        );
      }
      log(
        `  ${fmtInt(run.offeredRate)} req/s offered, p50 ${fmtMs(latency.p50)} ms, p99 ${fmtMs(latency.p99)} ms, ` +
          `max ${fmtMs(latency.max)} ms, sender lag max ${fmtMs(run.lagMax)} ms`,
      );
      await sleep(SETTLE_MS);
      return {
        label,
        kind: 'callbacks',
        rps: run.attempts.length / ((run.finishedAt - run.startedAt) / 1000),
        latency,
        errors,
        timeouts: run.attempts.filter((a) => a.error === 'timeout').length,
        non2xx,
        statusCounts,
        serverCpuUs: m.serverCpuUs,
        databaseCpuUs: m.databaseCpuUs,
        statements: m.statements,
        inserts: m.inserts,
        breakdown: m.breakdown,
        otherCores: m.otherCores,
      };
    };

    const rows: Row[] = [];
    rows.push(await measureLoad({ label: 'bare Koa 200, max', kind: 'bare' }));
    rows.push(await measureLoad({ label: 'callbacks, max', kind: 'callbacks' }));
    rows.push(
      await measureLoad({
        label: `callbacks @ ${FIXED_RATE} req/s, autocannon overallRate (bursty)`,
        kind: 'callbacks',
        overallRate: FIXED_RATE,
      }),
    );
    rows.push(await measurePaced(`callbacks @ ${FIXED_RATE} req/s, evenly paced`));

    const slow = await mysqlSlow(options, database.url, stock, paced, log);
    for (const [status, count] of Object.entries(slow.statusCounts)) {
      if (status !== '200' && status !== '503') failures.push(`MySQL slow: ${count} answers ${status}`);
    }
    if (stock.builtDuringRun > 0) {
      log(`note: ${stock.builtDuringRun} callbacks were built during a run (the stock ran out)`);
    }

    // Stop the server first: processing still under way finishes before we count.
    await child.stop();
    child = undefined;

    if (ledger.unexpectedCount > 0) {
      failures.push(`${ledger.unexpectedCount} unexpected answers, e.g. ${ledger.unexpected.join(' | ')}`);
    }
    const check = await verifyInbox(database.pool, ledger);
    failures.push(...check.failures);

    return {
      markdown: render(options, rows, slow, check.summary, stock.builtDuringRun, machine, failures),
      failures,
    };
  } finally {
    await child?.stop().catch(() => undefined);
    await database.drop().catch((error: unknown) => log(`could not drop ${database.name}: ${String(error)}`));
  }
}

function fmtCores(cores: number | null): string {
  return cores === null ? 'n/a' : cores.toFixed(2);
}

function countStatuses(attempts: readonly PacedAttempt<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of attempts) {
    const key = a.status === null ? (a.error ?? 'error') : String(a.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * One valid callback answered 200 and stored, one signed with another token refused 401: the route
 * measured below really verifies.
 */
async function sanityProbe(
  url: string,
  factory: CallbackFactory,
  credentials: WecomCredentials,
  ledger: CallbackLedger,
  failures: string[],
): Promise<void> {
  const good = factory.build();
  ledger.sent.add(good.msgId);
  const answer = await fetch(url + good.path, { method: 'POST', headers: HEADERS, body: good.body });
  ledger.answer(good.msgId, answer.status, await answer.text(), [], 'sanity probe');
  const forgedFactory = new CallbackFactory(
    { ...credentials, token: `${credentials.token}-not-ours` },
    'WangLei',
    7_900_000_000_000_000_000n,
  );
  const forged = forgedFactory.build();
  ledger.forged.add(forged.msgId);
  const refused = await fetch(url + forged.path, { method: 'POST', headers: HEADERS, body: forged.body });
  await refused.text();
  if (refused.status !== 401)
    failures.push(`a callback signed with the wrong token was answered ${refused.status}`);
}

type Paced = (rate: number, seconds: number, label: string, retries: boolean) => Promise<PacedRun<string>>;

/**
 * Callbacks evenly paced at SLOW_RATE while a separate connection holds `LOCK TABLES inbox_events
 * WRITE`: every INSERT waits, the route answers 503 after 800 ms, WeCom retries. Measures the answer
 * times of attempts that overlapped the lock.
 */
async function mysqlSlow(
  options: BenchOptions,
  databaseUrl: string,
  stock: CallbackStock,
  paced: Paced,
  log: (message: string) => void,
): Promise<SlowResult> {
  const beforeMs = options.smoke ? 1000 : 2000;
  const lockMs = options.smoke ? 2000 : 5000;
  const afterMs = options.smoke ? 1500 : 5000;
  const seconds = (beforeMs + lockMs + afterMs) / 1000;
  const label = `MySQL slow: ${SLOW_RATE} req/s, inbox_events locked ${lockMs / 1000} s`;
  log(`${label}: ${seconds} s`);
  stock.fill(SLOW_RATE * seconds + 100);
  const locker = await mysql.createConnection({ uri: databaseUrl });
  let lockedAt = 0;
  let unlockedAt = 0;
  let lockWaitMs = 0;
  try {
    const holding = (async () => {
      await sleep(beforeMs);
      const requested = performance.now();
      await locker.query('LOCK TABLES inbox_events WRITE');
      lockedAt = performance.now();
      lockWaitMs = lockedAt - requested;
      await sleep(lockMs);
      await locker.query('UNLOCK TABLES');
      unlockedAt = performance.now();
    })();
    const [run] = await Promise.all([paced(SLOW_RATE, seconds, label, true), holding]);
    const overlaps = (a: PacedAttempt<string>) => a.sentAt < unlockedAt && a.answeredAt > lockedAt;
    const during = run.attempts.filter(overlaps);
    const outside = run.attempts.filter((a) => !overlaps(a));
    const latency = (a: PacedAttempt<string>) => a.answeredAt - a.sentAt;
    const answered200 = new Set(run.attempts.filter((a) => a.status === 200).map((a) => a.item.tag));
    const messages = new Set(run.attempts.map((a) => a.item.tag));
    const recovered = run.attempts
      .filter((a) => a.status === 200 && a.sentAt >= unlockedAt)
      .reduce((first, a) => Math.min(first, a.answeredAt), Number.POSITIVE_INFINITY);
    const result: SlowResult = {
      rate: SLOW_RATE,
      lockMs: unlockedAt - lockedAt,
      lockWaitMs,
      attempts: run.attempts.length,
      messages: messages.size,
      statusCounts: countStatuses(run.attempts),
      duringLock: { ...distribution(during.map(latency)), statusCounts: countStatuses(during) },
      outside: distribution(outside.map(latency)),
      maxAnswerMs: Math.max(0, ...run.attempts.map(latency)),
      givenUp: messages.size - answered200.size,
      recoveryMs: Number.isFinite(recovered) ? recovered - unlockedAt : null,
      lagMax: run.lagMax,
    };
    log(
      `  during the lock: ${during.length} attempts (${fmtCounts(result.duringLock.statusCounts)}), ` +
        `max ${fmtMs(result.duringLock.max)} ms; outside: max ${fmtMs(result.outside.max)} ms; ` +
        `${result.givenUp} messages without a 200 after ${WECOM_ATTEMPTS} attempts`,
    );
    return result;
  } finally {
    await locker.query('UNLOCK TABLES').catch(() => undefined);
    await locker.end().catch(() => undefined);
  }
}

/**
 * Every MsgId answered 200 is in the inbox, once; every row is a MsgId we sent; the rows beyond the
 * 200s are MsgIds that never got a 200 (cut off at the end of an autocannon run, or answered 503
 * three times while the table was locked, their INSERT committing once it was released).
 */
async function verifyInbox(
  pool: mysql.Pool,
  ledger: CallbackLedger,
): Promise<{ failures: string[]; summary: string }> {
  const failures: string[] = [];
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT event_id, status FROM inbox_events');
  const stored = new Map<string, number>();
  const statuses: Record<string, number> = {};
  for (const row of rows) {
    const id = String(row.event_id);
    stored.set(id, (stored.get(id) ?? 0) + 1);
    statuses[String(row.status)] = (statuses[String(row.status)] ?? 0) + 1;
  }
  const twice = [...stored.values()].filter((n) => n > 1).length;
  const missing = [...ledger.ok].filter((id) => !stored.has(id));
  const unknown = [...stored.keys()].filter((id) => !ledger.sent.has(id));
  const forged = [...ledger.forged].filter((id) => stored.has(id));
  const withoutOk = [...stored.keys()].filter((id) => ledger.sent.has(id) && !ledger.ok.has(id)).length;
  const neverOk = [...ledger.sent].filter((id) => !ledger.ok.has(id)).length;
  if (missing.length > 0) {
    failures.push(
      `${missing.length} MsgIds answered 200 are not in the inbox, e.g. ${missing.slice(0, 5).join(', ')}`,
    );
  }
  if (twice > 0) failures.push(`${twice} MsgIds stored more than once`);
  if (unknown.length > 0) failures.push(`${unknown.length} inbox rows for MsgIds nobody sent`);
  if (forged.length > 0) failures.push(`${forged.length} forged callbacks stored`);
  if ((statuses.failed ?? 0) > 0) failures.push(`${statuses.failed} inbox events failed processing`);
  const consistent = rows.length === ledger.ok.size + withoutOk;
  if (!consistent) {
    failures.push(
      `inbox rows ${rows.length} ≠ ${ledger.ok.size} answered 200 + ${withoutOk} stored without a 200`,
    );
  }
  const summary =
    `Inbox: ${fmtInt(rows.length)} rows = ${fmtInt(ledger.ok.size)} distinct MsgIds answered 200 ` +
    `+ ${fmtInt(withoutOk)} stored without ever getting a 200 (of ${fmtInt(neverOk)} MsgIds sent and never ` +
    `answered 200: cut off at the end of a run, or 503 on all ${WECOM_ATTEMPTS} attempts during the lock); ` +
    `every 200 is stored, nothing twice, nothing unsent, the forged callback refused and not stored ` +
    `${mark(failures.length === 0)}. Processing: ${fmtCounts(statuses)}.`;
  return { failures, summary };
}

// ---------------------------------------------------------------------------------------------------
// Report

function render(
  options: BenchOptions,
  rows: Row[],
  slow: SlowResult,
  inboxSummary: string,
  builtDuringRun: number,
  machine: string,
  failures: string[],
): string {
  const [bare, max, bursty, even] = rows as [Row, Row, Row, Row];
  const ratio = bare.rps > 0 ? max.rps / bare.rps : 0;
  const judged = options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const poolSize = process.env.DATABASE_POOL_SIZE || '10';
  const table = [
    '| scenario | req/s | p50 ms | p99 ms | max ms | errors (timeouts) / non-2xx | server CPU/req | DB CPU/req | statements (INSERTs)/req | other processes (cores) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmtInt(r.rps)} | ${fmtMs(r.latency.p50)} | ${fmtMs(r.latency.p99)} | ${fmtMs(r.latency.max)} | ` +
        `${r.errors} (${r.timeouts}) / ${r.non2xx} | ${fmtUs(r.serverCpuUs)} | ${fmtUs(r.databaseCpuUs)} | ` +
        `${r.statements.toFixed(1)} (${r.inserts.toFixed(2)}) | ${fmtCores(r.otherCores)} |`,
    ),
  ];
  const statementTable = [
    '| statements per answered request (server-wide `Com_*` counters) | of which |',
    '| --- | --- |',
    ...rows
      .filter((r) => r.kind === 'callbacks')
      .map((r) => `| ${r.label}: ${r.statements.toFixed(2)} | ${r.breakdown} |`),
  ];
  const d = slow.duringLock;
  const slowTable = [
    `| MySQL slow: ${slow.rate} req/s evenly paced, \`LOCK TABLES inbox_events WRITE\` held ${fmtMs(slow.lockMs / 1000)} s | value |`,
    '| --- | ---: |',
    `| messages / attempts (WeCom retries a non-200 at once, ${WECOM_ATTEMPTS} attempts in all) | ${fmtInt(slow.messages)} / ${fmtInt(slow.attempts)} |`,
    `| attempts overlapping the lock: statuses | ${fmtCounts(d.statusCounts)} |`,
    `| attempts overlapping the lock: p50 / p99 / **max** answer ms | ${fmtMs(d.p50)} / ${fmtMs(d.p99)} / **${fmtMs(d.max)}** |`,
    `| other attempts: p50 / p99 / max answer ms | ${fmtMs(slow.outside.p50)} / ${fmtMs(slow.outside.p99)} / ${fmtMs(slow.outside.max)} |`,
    `| all attempts: statuses | ${fmtCounts(slow.statusCounts)} |`,
    `| messages without a 200 after ${WECOM_ATTEMPTS} attempts (WeCom gives up) | ${fmtInt(slow.givenUp)} |`,
    `| UNLOCK → first 200 to a request sent after it | ${slow.recoveryMs === null ? 'n/a' : `${fmtMs(slow.recoveryMs)} ms`} |`,
    `| LOCK TABLES waited for the table | ${fmtMs(slow.lockWaitMs)} ms |`,
  ];
  return [
    `## callbacks${options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- callbacks\`: signed, encrypted WeCom text-message callbacks (unique MsgIds, built ` +
      `and signed before each scenario) POSTed to \`${CALLBACK_PATH}\`; the bare route gets the same bytes. ` +
      `autocannon rows: ${options.connections} connections, no pipelining, ${options.durationSeconds} s after a ` +
      `${options.warmupSeconds} s warm-up; the evenly paced rows use bench/lib/paced.ts (open loop, keep-alive, ` +
      `one request every 1/rate s). Server in a child process (pool ${poolSize}, production settings, inbox ` +
      'processing and sweeper running), load generator and MariaDB on the same box. CPU/req and statements/req ' +
      'as in the intake benchmark (statements include processing each stored event after the answer). ' +
      'Other processes = cores kept busy during the window by everything but the server child, the database ' +
      'and the load generator (from /proc/stat): above ~0.1, someone else shared the 2 cores and the timings suffer.',
    '',
    ...table,
    '',
    ...statementTable,
    '',
    ...slowTable,
    '',
    `- callbacks / bare Koa throughput: **${ratio.toFixed(2)}** (target ≥ ${TARGET_RATIO}) ${mark(ratio >= TARGET_RATIO)}${judged}`,
    `- p99 at ${FIXED_RATE} req/s, evenly paced: **${fmtMs(even.latency.p99)} ms** (target < ${TARGET_P99_MS} ms) ` +
      `${mark(even.latency.p99 < TARGET_P99_MS)}${judged}; with autocannon's bursty \`overallRate\` ` +
      `(${Math.min(options.connections, FIXED_RATE)} requests at once at the top of each second): ${fmtMs(bursty.latency.p99)} ms ` +
      `${mark(bursty.latency.p99 < TARGET_P99_MS)}.`,
    `- Longest answer while MySQL was slow: **${fmtMs(d.max)} ms** (target < ${TARGET_MAX_ANSWER_MS} ms; the route ` +
      `gives up on the INSERT after ${ROUTE_DEADLINE_MS} ms and answers 503) ${mark(d.max < TARGET_MAX_ANSWER_MS)}${judged}; ` +
      `longest of the whole scenario ${fmtMs(slow.maxAnswerMs)} ms.`,
    `- ${inboxSummary}`,
    ...(builtDuringRun > 0
      ? [
          `- ${fmtInt(builtDuringRun)} callbacks were built during a run (the stock ran out): the load generator paid for their crypto.`,
        ]
      : []),
    `- Correctness: ${failures.length === 0 ? 'no unexpected status, no connection error, inbox consistent ✓' : `**${failures.length} failures** ✗`}`,
    '',
    machine,
  ].join('\n');
}

export const callbacksBenchmark: Benchmark = {
  name: 'callbacks',
  description:
    'signed, encrypted WeCom callbacks → verify, decrypt, inbox, 200 (max, 300 req/s, MySQL locked 5 s) vs a bare Koa 200, same app',
  run: runCallbacksBench,
};
