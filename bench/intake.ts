import path from 'node:path';
import type autocannon from 'autocannon';
import type mysql from 'mysql2/promise';
import { SLA_TIMER_KINDS } from '../src/sla/lead-timers';
import { createApiKey } from '../src/sources/api-keys';
import { type Benchmark, type BenchOptions, type BenchReport, sleep } from './lib/bench';
import { type ChildServer, startChildServer } from './lib/child';
import { createBenchDatabase } from './lib/database';
import { runLoad } from './lib/load';
import { machineLine } from './lib/machine';
import { type PacedRun, runPaced } from './lib/paced';
import { cpuMillis, findDatabasePid, otherLoadMeter } from './lib/proc';
import { distribution, fmtInt, fmtMs, fmtUs, mark } from './lib/stats';

/**
 * `npm run bench -- intake`: POST /api/v1/leads (normalise, dedupe, score, timeline, one
 * transaction) against a baseline route doing one raw INSERT on the same Koa app and pool, measured
 * side by side in one run (docs BENCHMARKS.md). Targets: intake ≥ 0.5 of baseline throughput, judged
 * on the full process (routing, timer, outbox workers running in the server, as deployed); p99 < 100 ms
 * at 300 req/s evenly paced (bench/lib/paced.ts). For the record, not judged: the same 300 req/s as
 * autocannon's bursty `overallRate`, and new leads at max against a second server child started with
 * `workers: false` (BENCH_WORKERS=off: the POST path alone). With workers on, each row also reports
 * the `lead.assign` timers still pending when it ended (routing's backlog).
 * Fails (exit 1) only on errors: a non-2xx, a connection error, a lost lead.
 */

const SERVER_SCRIPT = path.resolve(__dirname, 'intake-server.ts');
const ORG_FIXTURE = path.resolve(__dirname, '../test/fixtures/org.test.jsonc');
const INTAKE_PATH = '/api/v1/leads';
const BASELINE_PATH = '/bench/baseline';
const SOURCE_ID = 'website';
const FIXED_RATE = 300;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 100;
const DUPLICATE_SHARE = 0.5;
/** Pause after each load run so requests cut off at its end finish before the next one starts. */
const SETTLE_MS = 1000;
const ASSIGN_TIMER = SLA_TIMER_KINDS.assign;
/** How long to let routing catch up with its `lead.assign` backlog between scenarios (at most). */
const DRAIN_CAP_MS = 90_000;
const DRAIN_CAP_SMOKE_MS = 10_000;
const DRAIN_POLL_MS = 250;

// ---------------------------------------------------------------------------------------------------
// Realistic submissions: a web form / search-ads lead, deterministic from a counter.

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'];
const GIVEN_NAMES = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '磊',
  '强',
  '洋',
  '艳',
  '杰',
  '秀英',
  '建华',
  '晓东',
  '丽娟',
];
const PLACES: readonly (readonly [string, string])[] = [
  ['浙江', '杭州'],
  ['江苏', '苏州'],
  ['上海', '上海'],
  ['广东', '深圳'],
  ['北京', '北京'],
  ['四川', '成都'],
  ['湖北', '武汉'],
  ['山东', '青岛'],
];
const INDUSTRIES = ['制造业', '零售', '教育', '互联网', '医疗器械', '物流'];
const TITLES = ['总经理', '销售总监', '采购经理', 'IT 负责人', '运营主管', '副总裁'];
const COMPANY_WORDS = ['精工', '云启', '华锐', '恒通', '博远', '新程', '汇智', '盛达'];
const COMPANY_KINDS = ['科技有限公司', '机械制造有限公司', '贸易有限公司', '信息技术股份有限公司'];
const BUDGETS: readonly (string | number)[] = ['50万', 200000, '10-20万', '面议', 80000];
const CAMPAIGNS = ['2026双十一-华东-搜索', '品牌词-全国', '竞品词-华南', '信息流-制造业'];
const KEYWORDS = ['crm系统', '销售管理软件', '客户管理', '线索分配'];
const TAGS = [['官网'], ['白皮书下载', '华东'], ['直播报名'], ['展会', '重点客户']];

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

/** A mainland mobile number: `139` (intake) or `138` (baseline) + 8 digits of the counter. */
function mobile(prefix: string, n: number): string {
  return `${prefix}${String(n % 100_000_000).padStart(8, '0')}`;
}

/** The n-th person's form submission; `visit` > 0 is the same person submitting again. */
export function leadBody(prefix: string, n: number, visit = 0): Record<string, unknown> {
  const [province, city] = pick(PLACES, n);
  const keyword = pick(KEYWORDS, n + visit);
  return {
    name: pick(SURNAMES, n) + pick(GIVEN_NAMES, Math.floor(n / SURNAMES.length)),
    phone: mobile(prefix, n),
    // The counter in the company name keeps (company, name) unique, so only the phone can match.
    company: `${city}${pick(COMPANY_WORDS, n)}${n}${pick(COMPANY_KINDS, n)}`,
    title: pick(TITLES, n),
    industry: pick(INDUSTRIES, n),
    province,
    city,
    budget: pick(BUDGETS, n),
    campaign: pick(CAMPAIGNS, n + visit),
    keyword,
    tags: pick(TAGS, n + visit),
    custom: { utm_source: 'baidu', utm_medium: 'cpc', utm_term: keyword, 预约时间: '工作日下午' },
  };
}

// ---------------------------------------------------------------------------------------------------
// What was sent and answered, to check the database afterwards.

/** Per-request state autocannon hands from `setupRequest` to `onResponse`. */
interface RequestState {
  n?: number;
  repeat?: boolean;
}

type Mode = 'baseline' | 'new' | 'mixed' | 'repeat';

class Ledger {
  /** Next fresh counter; every counter is a new person. */
  private next = 0;
  /** Counters of new people sent and not (yet) answered: cut off at a run's end, or failed. */
  readonly pending = new Set<number>();
  /** Counters whose lead is known to exist (answered 201): candidates for repeats. */
  readonly answered: number[] = [];
  readonly createdIds = new Set<number>();
  created = 0;
  merged = 0;
  /** A repeat answered 201, a new person merged, an id answered twice. */
  readonly wrong: string[] = [];
  readonly rejected: string[] = [];
  rejectedCount = 0;

  constructor(
    readonly prefix: string,
    readonly createdStatus: number,
  ) {}

  setup(mode: Mode, request: autocannon.Request, context: object): autocannon.Request {
    const state = context as RequestState;
    let n: number;
    let visit = 0;
    const repeat = mode === 'repeat' || (mode === 'mixed' && Math.random() < DUPLICATE_SHARE);
    if (repeat && this.answered.length > 0) {
      n = this.answered[Math.floor(Math.random() * this.answered.length)]!;
      visit = 1;
      state.repeat = true;
    } else {
      n = this.next++;
      this.pending.add(n);
      state.repeat = false;
    }
    state.n = n;
    return { ...request, body: JSON.stringify(leadBody(this.prefix, n, visit)) };
  }

  answer(status: number, body: string, context: object): void {
    const { n, repeat } = context as RequestState;
    if (n === undefined) return;
    if (!repeat) this.pending.delete(n);
    if (status === this.createdStatus) {
      const id = (JSON.parse(body) as { id: number }).id;
      if (this.createdIds.has(id)) this.wrong.push(`id ${id} answered 201 twice`);
      this.createdIds.add(id);
      this.created++;
      this.answered.push(n);
      if (repeat)
        this.wrong.push(`repeat of ${mobile(this.prefix, n)} created lead ${id} instead of merging`);
    } else if (status === 200) {
      this.merged++;
      if (!repeat) this.wrong.push(`new person ${mobile(this.prefix, n)} was merged: ${body.slice(0, 200)}`);
    } else {
      this.rejectedCount++;
      if (this.rejected.length < 5) this.rejected.push(`${status} ${body.slice(0, 300)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Sequential probe: one request at a time, counting the statements the database executes for it.

const STATEMENT_COUNTERS = [
  'Com_set_option',
  'Com_begin',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_insert_select',
  'Com_delete',
  'Com_commit',
  'Com_rollback',
];
const PROBE_REQUESTS = 100;
const PROBE_ROUNDS = 3;

interface Probe {
  label: string;
  meanMs: number;
  /** `Questions` per request: every statement a client sent. */
  statements: number;
  breakdown: string;
}

async function globalCounters(pool: mysql.Pool): Promise<Map<string, number>> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SHOW GLOBAL STATUS WHERE Variable_name IN (?)', [
    ['Questions', ...STATEMENT_COUNTERS],
  ]);
  return new Map(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
}

/**
 * Sends PROBE_REQUESTS requests one after another, PROBE_ROUNDS times, and keeps the round with the
 * fewest statements (the counters are server-wide: another client can only add to them).
 */
async function probe(
  label: string,
  run: { url: string; headers: Record<string, string>; pool: mysql.Pool },
  scenario: { path: string; mode: Mode },
  ledger: Ledger,
): Promise<Probe> {
  let best: Probe | null = null;
  for (let round = 0; round < PROBE_ROUNDS; round++) {
    const before = await globalCounters(run.pool);
    const started = performance.now();
    for (let i = 0; i < PROBE_REQUESTS; i++) {
      const context: RequestState = {};
      const request = ledger.setup(scenario.mode, { method: 'POST', path: scenario.path }, context);
      const response = await fetch(run.url + scenario.path, {
        method: 'POST',
        headers: run.headers,
        body: request.body as string,
      });
      ledger.answer(response.status, await response.text(), context);
    }
    const meanMs = (performance.now() - started) / PROBE_REQUESTS;
    const after = await globalCounters(run.pool);
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    // The second SHOW GLOBAL STATUS counts itself.
    const statements = (delta('Questions') - 1) / PROBE_REQUESTS;
    const breakdown = STATEMENT_COUNTERS.map((name) => [name.slice(4), delta(name) / PROBE_REQUESTS] as const)
      .filter(([, perRequest]) => perRequest >= 0.005)
      .map(([name, perRequest]) => `${name} ${Number(perRequest.toFixed(2))}`)
      .join(', ');
    if (!best || statements < best.statements) best = { label, meanMs, statements, breakdown };
  }
  return best!;
}

// ---------------------------------------------------------------------------------------------------

interface Scenario {
  label: string;
  path: string;
  mode: Mode;
  overallRate?: number;
}

/** One table row, from an autocannon run or an evenly paced one. */
interface Row {
  label: string;
  /** Which server child answered: the full process (workers running) or the request path alone. */
  workers: boolean;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  serverCpuUs: number | null;
  databaseCpuUs: number | null;
  /** Statements (`Questions`) and transactions (`Com_begin`) the server counted, per response. */
  statements: number;
  transactions: number;
  /** Cores kept busy by processes outside the benchmark during the window (shared machine). */
  otherCores: number | null;
  /** `lead.assign` timers still pending when the window ended (null: workers off, nothing runs them). */
  assignPending: number | null;
  /** `lead.assign` timers completed during the window. */
  assignDone: number;
  /** Leads created (201) during the window. */
  created: number;
}

/** How long the `lead.assign` backlog took to empty after a scenario (workers on). */
interface Drain {
  after: string;
  startPending: number;
  ms: number;
  left: number;
}

const SCENARIOS = {
  baseline: { label: 'baseline: parse + 1 raw INSERT, max', path: BASELINE_PATH, mode: 'baseline' },
  intake: { label: 'intake: new leads, max', path: INTAKE_PATH, mode: 'new' },
  bursty: {
    label: `intake: new leads @ ${FIXED_RATE} req/s, autocannon overallRate (bursty, for the record)`,
    path: INTAKE_PATH,
    mode: 'new',
    overallRate: FIXED_RATE,
  },
  mixed: {
    label: `intake: ${DUPLICATE_SHARE * 100}% repeats (merges), max`,
    path: INTAKE_PATH,
    mode: 'mixed',
  },
  postOnly: {
    label: 'intake: new leads, max, POST path only (background workers off)',
    path: INTAKE_PATH,
    mode: 'new',
  },
} satisfies Record<string, Scenario>;
const PACED_LABEL = `intake: new leads @ ${FIXED_RATE} req/s, evenly paced`;

async function runIntakeBench(options: BenchOptions): Promise<BenchReport> {
  const { log } = options;
  const failures: string[] = [];
  const database = await createBenchDatabase('intake');
  let child: ChildServer | undefined;
  try {
    log(`database ${database.name} (${database.version})`);
    await database.pool.query(
      `CREATE TABLE bench_baseline (
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         payload JSON NOT NULL,
         created_at DATETIME(3) NOT NULL
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    );
    const { key } = await createApiKey(database.db, { sourceId: SOURCE_ID, label: 'bench', now: new Date() });
    const machine = machineLine(database.version);

    const serverEnv = (workers: boolean) => ({
      DATABASE_URL: database.url,
      LEADRELAY_CONFIG: ORG_FIXTURE,
      // BENCH_LOG_LEVEL=error shows why a request failed; the figures are for silent.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent',
      NODE_ENV: 'production',
      // bench/intake-server.ts: `off` starts the server with `workers: false`.
      BENCH_WORKERS: workers ? 'on' : 'off',
    });
    // The full process, as deployed: routing (lead.assign timers), SLA timers, outbox, inbox sweeper.
    child = await startChildServer(SERVER_SCRIPT, serverEnv(true), options);
    const databasePid = findDatabasePid();
    const intakeLedger = new Ledger('139', 201);
    const baselineLedger = new Ledger('138', 201);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    let current: ChildServer = child;
    let workersOn = true;

    const count = async (sql: string, params: unknown[] = []) => {
      const [rows] = await database.pool.query<mysql.RowDataPacket[]>(sql, params);
      return Number(rows[0]?.n ?? 0);
    };
    const assignTimers = (status: 'pending' | 'done') =>
      count('SELECT COUNT(*) AS n FROM timers WHERE kind = ? AND status = ?', [ASSIGN_TIMER, status]);

    const load = (scenario: Scenario, durationSeconds: number) => {
      const ledger = scenario.mode === 'baseline' ? baselineLedger : intakeLedger;
      return runLoad({
        url: current.url + scenario.path,
        connections: options.connections,
        durationSeconds,
        ...(scenario.overallRate ? { overallRate: scenario.overallRate } : {}),
        headers,
        setupRequest: (request, context) => ledger.setup(scenario.mode, request, context),
        onResponse: (status, body, context) => ledger.answer(status, body, context),
      });
    };
    /** New leads, one every 1/FIXED_RATE s, open loop, keep-alive (bench/lib/paced.ts). */
    const paced = (durationSeconds: number) =>
      runPaced<RequestState>({
        url: current.url,
        rate: FIXED_RATE,
        durationSeconds,
        headers,
        next: () => {
          const context: RequestState = {};
          const request = intakeLedger.setup('new', { method: 'POST', path: INTAKE_PATH }, context);
          return { path: INTAKE_PATH, body: request.body as string, tag: context };
        },
        retryAfter: (attempt) => {
          // A connection error leaves the lead in `pending`: it may or may not have committed.
          if (attempt.status !== null) intakeLedger.answer(attempt.status, attempt.body, attempt.item.tag);
          return null;
        },
      });
    const pacedFigures = (run: PacedRun<RequestState>) => {
      const latency = distribution(run.attempts.map((a) => a.answeredAt - a.sentAt));
      const statusCounts: Record<string, number> = {};
      for (const a of run.attempts) {
        const k = a.status === null ? (a.error ?? 'error') : String(a.status);
        statusCounts[k] = (statusCounts[k] ?? 0) + 1;
      }
      return {
        rps: run.attempts.length / ((run.finishedAt - run.startedAt) / 1000),
        p50: latency.p50,
        p99: latency.p99,
        max: latency.max,
        completed: run.attempts.filter((a) => a.status !== null).length,
        errors: run.attempts.filter((a) => a.status === null).length,
        timeouts: run.attempts.filter((a) => a.error === 'timeout').length,
        non2xx: run.attempts.filter((a) => a.status !== null && (a.status < 200 || a.status > 299)).length,
        statusCounts,
      };
    };
    type Figures = Pick<
      Row,
      'rps' | 'p50' | 'p99' | 'max' | 'errors' | 'timeouts' | 'non2xx' | 'statusCounts'
    > & { completed: number };
    const checkRun = (label: string, figures: Figures) => {
      if (figures.errors > 0 || figures.non2xx > 0) {
        failures.push(
          `${label}: ${figures.errors} connection errors (${figures.timeouts} timeouts), ` +
            `${figures.non2xx} non-2xx (${JSON.stringify(figures.statusCounts)})`,
        );
      }
    };
    /** Warm-up (discarded), then the measured window with CPU, statement and timer counters around it. */
    const measure = async (label: string, run: (seconds: number) => Promise<Figures>): Promise<Row> => {
      if (options.warmupSeconds > 0) {
        log(`${label}: ${options.warmupSeconds} s warm-up`);
        checkRun(`${label} (warm-up)`, await run(options.warmupSeconds));
        await sleep(SETTLE_MS);
      }
      log(`${label}: ${options.durationSeconds} s measured`);
      const serverPid = current.pid;
      const serverBefore = cpuMillis(serverPid);
      const databaseBefore = cpuMillis(databasePid);
      const countersBefore = await globalCounters(database.pool);
      const doneBefore = await assignTimers('done');
      const createdBefore = intakeLedger.created;
      const otherLoad = otherLoadMeter([serverPid, databasePid]);
      const figures = await run(options.durationSeconds);
      const otherCores = otherLoad();
      const serverAfter = cpuMillis(serverPid);
      const databaseAfter = cpuMillis(databasePid);
      const countersAfter = await globalCounters(database.pool);
      // Read right when the window ends: what routing has not caught up with yet.
      const assignPending = workersOn ? await assignTimers('pending') : null;
      const assignDone = (await assignTimers('done')) - doneBefore;
      const counted = (name: string) =>
        figures.completed === 0
          ? 0
          : ((countersAfter.get(name) ?? 0) - (countersBefore.get(name) ?? 0)) / figures.completed;
      const perRequest = (before: number | null, after: number | null) =>
        before === null || after === null || figures.completed === 0
          ? null
          : ((after - before) * 1000) / figures.completed;
      const row: Row = {
        label,
        workers: workersOn,
        rps: figures.rps,
        p50: figures.p50,
        p99: figures.p99,
        max: figures.max,
        errors: figures.errors,
        timeouts: figures.timeouts,
        non2xx: figures.non2xx,
        statusCounts: figures.statusCounts,
        serverCpuUs: perRequest(serverBefore, serverAfter),
        databaseCpuUs: perRequest(databaseBefore, databaseAfter),
        statements: counted('Questions'),
        transactions: counted('Com_begin'),
        otherCores,
        assignPending,
        assignDone,
        created: intakeLedger.created - createdBefore,
      };
      checkRun(label, figures);
      log(
        `  ${fmtInt(figures.rps)} req/s, p50 ${fmtMs(figures.p50)} ms, p99 ${fmtMs(figures.p99)} ms, ` +
          `statuses ${JSON.stringify(figures.statusCounts)}, errors ${figures.errors}` +
          (assignPending === null
            ? ''
            : `; lead.assign: ${fmtInt(assignDone)} done in the window, ${fmtInt(assignPending)} pending at its end`),
      );
      await sleep(SETTLE_MS);
      return row;
    };
    const measureLoad = (scenario: Scenario) => measure(scenario.label, (seconds) => load(scenario, seconds));
    const measurePaced = () =>
      measure(PACED_LABEL, async (seconds) => {
        const run = await paced(seconds);
        log(
          `  offered ${fmtInt(run.offeredRate)} req/s, sender lag p99 ${fmtMs(run.lagP99)} ms, max ${fmtMs(run.lagMax)} ms`,
        );
        return pacedFigures(run);
      });
    /** Waits (up to a cap) until routing has run every `lead.assign` timer, so the next scenario starts clean. */
    const drain = async (after: string): Promise<Drain> => {
      const capMs = options.smoke ? DRAIN_CAP_SMOKE_MS : DRAIN_CAP_MS;
      const started = performance.now();
      const startPending = await assignTimers('pending');
      let left = startPending;
      while (left > 0 && performance.now() - started < capMs) {
        await sleep(DRAIN_POLL_MS);
        left = await assignTimers('pending');
      }
      const result = { after, startPending, ms: performance.now() - started, left };
      log(
        `  lead.assign backlog after ${after}: ${fmtInt(startPending)} → ${fmtInt(left)} in ${fmtMs(result.ms / 1000)} s`,
      );
      return result;
    };

    log(`sequential probe: ${PROBE_ROUNDS} × ${PROBE_REQUESTS} requests per kind, one at a time`);
    const probeRun = { url: current.url, headers, pool: database.pool };
    const probes = [
      await probe('baseline', probeRun, SCENARIOS.baseline, baselineLedger),
      await probe('intake, new lead', probeRun, SCENARIOS.intake, intakeLedger),
      await probe('intake, repeat (merge)', probeRun, { path: INTAKE_PATH, mode: 'repeat' }, intakeLedger),
    ];
    for (const p of probes) {
      log(`  ${p.label}: ${p.meanMs.toFixed(2)} ms, ${p.statements.toFixed(2)} statements (${p.breakdown})`);
    }

    // Full process. The 300 req/s rows run before the max one, so they meet no backlog left by it;
    // between max scenarios routing gets (up to a cap) the time to catch up.
    const drains: Drain[] = [];
    const baselineRow = await measureLoad(SCENARIOS.baseline);
    const pacedRow = await measurePaced();
    const burstyRow = await measureLoad(SCENARIOS.bursty);
    drains.push(await drain('the 300 req/s rows'));
    const maxRow = await measureLoad(SCENARIOS.intake);
    drains.push(await drain('intake max'));
    const mixedRow = await measureLoad(SCENARIOS.mixed);

    await child.stop();
    child = undefined;

    // The request path alone: a second child, same database, no workers (nothing runs the timers).
    // Its CPU profile is not taken: `--profile` is for the full process.
    log('restarting the server child with BENCH_WORKERS=off (startServer workers: false)');
    child = await startChildServer(SERVER_SCRIPT, serverEnv(false), { ...options, cpuProfileDir: null });
    current = child;
    workersOn = false;
    const postOnlyRow = await measureLoad(SCENARIOS.postOnly);

    // Stop the server first: anything still running inside it finishes before we count.
    await child.stop();
    child = undefined;

    for (const ledger of [baselineLedger, intakeLedger]) {
      const what = ledger === baselineLedger ? 'baseline' : 'intake';
      if (ledger.rejectedCount > 0) {
        failures.push(
          `${what}: ${ledger.rejectedCount} non-2xx answers, e.g. ${ledger.rejected.join(' | ')}`,
        );
      }
      if (ledger.wrong.length > 0) {
        failures.push(
          `${what}: ${ledger.wrong.length} wrong outcomes, e.g. ${ledger.wrong.slice(0, 5).join(' | ')}`,
        );
      }
    }
    const check = await verifyDatabase(database.pool, intakeLedger, baselineLedger);
    failures.push(...check.failures);

    const rows = [baselineRow, pacedRow, burstyRow, maxRow, mixedRow, postOnlyRow];
    return {
      markdown: render(
        options,
        {
          rows,
          baseline: baselineRow,
          paced: pacedRow,
          bursty: burstyRow,
          max: maxRow,
          postOnly: postOnlyRow,
        },
        drains,
        probes,
        intakeLedger,
        check.summary,
        machine,
        failures,
      ),
      failures,
    };
  } finally {
    await child?.stop().catch(() => undefined);
    await database.drop().catch((error: unknown) => log(`could not drop ${database.name}: ${String(error)}`));
  }
}

/**
 * Nothing lost, nothing invented: every id answered 201 is a lead, and the leads table holds exactly
 * the 201s plus the leads of requests the load generator cut off at the end of a run (sent, never
 * answered, so the server may or may not have committed them; identified by their phone numbers).
 */
async function verifyDatabase(
  pool: mysql.Pool,
  intake: Ledger,
  baseline: Ledger,
): Promise<{ failures: string[]; summary: string }> {
  const failures: string[] = [];
  const count = async (sql: string, params: unknown[] = []) => {
    const [rows] = await pool.query<mysql.RowDataPacket[]>(sql, params);
    return Number(rows[0]?.n ?? 0);
  };
  const leads = await count('SELECT COUNT(*) AS n FROM leads');
  const createdEvents = await count("SELECT COUNT(*) AS n FROM lead_events WHERE type = 'lead.created'");
  const cutOffPhones = [...intake.pending].map((n) => `+86${mobile(intake.prefix, n)}`);
  const cutOffLeads =
    cutOffPhones.length === 0
      ? 0
      : await count(
          "SELECT COUNT(DISTINCT lead_id) AS n FROM lead_identities WHERE kind = 'phone' AND value IN (?)",
          [cutOffPhones],
        );
  const [idRows] = await pool.query<mysql.RowDataPacket[]>('SELECT id FROM leads');
  const stored = new Set(idRows.map((r) => Number(r.id)));
  const missing = [...intake.createdIds].filter((id) => !stored.has(id));

  if (missing.length > 0) {
    failures.push(
      `lost leads: ${missing.length} ids answered 201 are not in the database, e.g. ${missing.slice(0, 5)}`,
    );
  }
  if (leads !== intake.created + cutOffLeads) {
    failures.push(
      `lead count mismatch: ${leads} leads in the database, ${intake.created} answered 201, ` +
        `${cutOffLeads} from ${cutOffPhones.length} requests cut off at the end of a run`,
    );
  }
  if (createdEvents !== leads) {
    failures.push(`${leads} leads but ${createdEvents} lead.created timeline events`);
  }
  const baselineRows = await count('SELECT COUNT(*) AS n FROM bench_baseline');
  if (baselineRows < baseline.created || baselineRows > baseline.created + baseline.pending.size) {
    failures.push(
      `baseline rows ${baselineRows} outside [${baseline.created}, ${baseline.created + baseline.pending.size}]`,
    );
  }
  const summary =
    `Leads: ${fmtInt(intake.created)} answered 201 (created), ${fmtInt(intake.merged)} answered 200 (merged); ` +
    `the database holds ${fmtInt(leads)} leads = the 201s + ${cutOffLeads} committed by the ` +
    `${cutOffPhones.length} requests cut off when a run ended; every 201 id is present. ` +
    `Baseline: ${fmtInt(baseline.created)} answered 201, ${fmtInt(baselineRows)} rows.`;
  return { failures, summary };
}

// ---------------------------------------------------------------------------------------------------
// Report

interface KeyRows {
  rows: Row[];
  baseline: Row;
  paced: Row;
  bursty: Row;
  max: Row;
  postOnly: Row;
}

function fmtCores(cores: number | null): string {
  return cores === null ? 'n/a' : cores.toFixed(2);
}

function render(
  options: BenchOptions,
  key: KeyRows,
  drains: Drain[],
  probes: Probe[],
  intake: Ledger,
  databaseSummary: string,
  machine: string,
  failures: string[],
): string {
  const { rows, baseline, paced, bursty, max, postOnly } = key;
  const ratioOf = (row: Row) => (baseline.rps > 0 ? row.rps / baseline.rps : 0);
  const ratio = ratioOf(max);
  const postOnlyRatio = ratioOf(postOnly);
  const judged = options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const backlog = (r: Row) =>
    r.assignPending === null
      ? 'n/a (workers off)'
      : `${fmtInt(r.assignPending)} (${fmtInt(r.assignDone)} run)`;
  const table = [
    '| scenario | server process | req/s | p50 ms | p99 ms | max ms | errors (timeouts) / non-2xx | server CPU/req | DB CPU/req | statements (tx)/req | lead.assign pending at end (run in window) | other processes (cores) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.workers ? 'full (workers on)' : 'POST path only (workers off)'} | ${fmtInt(r.rps)} | ` +
        `${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(r.max)} | ` +
        `${r.errors} (${r.timeouts}) / ${r.non2xx} | ${fmtUs(r.serverCpuUs)} | ${fmtUs(r.databaseCpuUs)} | ` +
        `${r.statements.toFixed(1)} (${r.transactions.toFixed(2)}) | ${backlog(r)} | ${fmtCores(r.otherCores)} |`,
    ),
  ];
  const poolSize = process.env.DATABASE_POOL_SIZE || '10';
  const drainText = drains
    .map(
      (d) =>
        `after ${d.after}: ${fmtInt(d.startPending)} → ${fmtInt(d.left)} in ${fmtMs(d.ms / 1000)} s` +
        (d.left > 0 ? ' (gave up waiting)' : ''),
    )
    .join('; ');
  const maxBacklog = max.assignPending ?? 0;
  return [
    `## intake${options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- intake\`: autocannon rows ${options.connections} connections, no pipelining; the evenly ` +
      `paced row uses bench/lib/paced.ts (open loop, keep-alive, one new lead every 1/${FIXED_RATE} s). ` +
      `${options.durationSeconds} s per scenario after a ${options.warmupSeconds} s warm-up (same load), in the ` +
      'order of the table. Server in a child process (pool ' +
      `${poolSize}, production settings), load generator and MariaDB on the same box. "full (workers on)" = ` +
      'the server as deployed: routing (`lead.assign` timers), SLA timers, outbox and inbox sweeper run in the ' +
      'same process as the request path; "POST path only (workers off)" = a second child on the same database ' +
      'started with `startServer(…, { workers: false })` (BENCH_WORKERS=off), nothing runs the timers. ' +
      'CPU/req = CPU time of the server child and of the database process during the measured window ÷ ' +
      "responses (workers' work included); statements (tx)/req = the database's `Questions` (`Com_begin`) " +
      'counters over the same window ÷ responses (server-wide counters). lead.assign pending = ' +
      "`timers` rows of kind `lead.assign` still `pending` when the window ended (routing's backlog). Other " +
      'processes = cores kept busy during the window by everything but the server child, the database and ' +
      'the load generator: above ~0.1, someone else shared the machine and the timings suffer.',
    '',
    ...table,
    '',
    '| sequential probe (1 connection, full process) | mean latency ms | statements/request | of which |',
    '| --- | ---: | ---: | --- |',
    ...probes.map(
      (p) => `| ${p.label} | ${p.meanMs.toFixed(2)} | ${p.statements.toFixed(2)} | ${p.breakdown} |`,
    ),
    '',
    `- intake / baseline throughput, full process (workers on, as deployed): **${ratio.toFixed(2)}** ` +
      `(target ≥ ${TARGET_RATIO}) ${mark(ratio >= TARGET_RATIO)}${judged}. For the record, not judged: POST path ` +
      `only (workers off) / the same baseline: ${postOnlyRatio.toFixed(2)}.`,
    `- p99 at ${FIXED_RATE} req/s, evenly paced (full process): **${paced.p99.toFixed(1)} ms** at ` +
      `${fmtInt(paced.rps)} req/s (target < ${TARGET_P99_MS} ms) ${mark(paced.p99 < TARGET_P99_MS)}${judged}. ` +
      `For the record, not judged: autocannon's \`overallRate\` (each connection's share of a second sent at ` +
      `the top of the second, ${Math.min(options.connections, FIXED_RATE)} requests at once): p99 ` +
      `${fmtMs(bursty.p99)} ms.`,
    `- Routing backlog (full process): **${fmtInt(maxBacklog)}** \`lead.assign\` timers still pending at the end ` +
      `of "${max.label}" (${fmtInt(max.created)} leads created and ${fmtInt(max.assignDone)} assignment timers ` +
      `run in its ${options.durationSeconds} s window); at ${FIXED_RATE} req/s evenly paced: ` +
      `${fmtInt(paced.assignPending ?? 0)} pending at the end. Draining between scenarios: ${drainText}.`,
    `- ${databaseSummary}`,
    `- Correctness: ${failures.length === 0 ? 'no errors, no non-2xx, nothing lost ✓' : `**${failures.length} failures** ✗`}` +
      (intake.wrong.length === 0 ? '' : ` (${intake.wrong.length} wrong dedupe outcomes)`),
    '',
    machine,
  ].join('\n');
}

export const intakeBenchmark: Benchmark = {
  name: 'intake',
  description:
    'POST /api/v1/leads (new leads max, 300 req/s evenly paced, 50% repeats; full process and POST path only) vs a one-INSERT baseline route, same app and pool',
  run: runIntakeBench,
};
