import path from 'node:path';
import type autocannon from 'autocannon';
import type mysql from 'mysql2/promise';
import { createApiKey } from '../src/sources/api-keys';
import { type Benchmark, type BenchOptions, type BenchReport, sleep } from './lib/bench';
import { type ChildServer, startChildServer } from './lib/child';
import { createBenchDatabase } from './lib/database';
import { type LoadFigures, runLoad } from './lib/load';
import { machineLine } from './lib/machine';
import { cpuMillis, findDatabasePid } from './lib/proc';

/**
 * `npm run bench -- intake`: POST /api/v1/leads (normalise, dedupe, score, timeline, one
 * transaction) against a baseline route doing one raw INSERT on the same Koa app and pool, measured
 * side by side in one run (docs BENCHMARKS.md). Targets: intake ≥ 0.5 of baseline throughput, p99
 * < 100 ms at 300 req/s. Fails (exit 1) only on errors: a non-2xx, a connection error, a lost lead.
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

interface Row {
  scenario: Scenario;
  figures: LoadFigures;
  warmup: LoadFigures | null;
  serverCpuUs: number | null;
  databaseCpuUs: number | null;
  /** Statements (`Questions`) and transactions (`Com_begin`) the server counted, per response. */
  statements: number;
  transactions: number;
}

const SCENARIOS = {
  baseline: { label: 'baseline: parse + 1 raw INSERT, max', path: BASELINE_PATH, mode: 'baseline' },
  intake: { label: 'intake: new leads, max', path: INTAKE_PATH, mode: 'new' },
  fixed: {
    label: `intake: new leads @ ${FIXED_RATE} req/s`,
    path: INTAKE_PATH,
    mode: 'new',
    overallRate: FIXED_RATE,
  },
  mixed: {
    label: `intake: ${DUPLICATE_SHARE * 100}% repeats (merges), max`,
    path: INTAKE_PATH,
    mode: 'mixed',
  },
} satisfies Record<string, Scenario>;

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

    child = await startChildServer(
      SERVER_SCRIPT,
      {
        DATABASE_URL: database.url,
        LEADRELAY_CONFIG: ORG_FIXTURE,
        // BENCH_LOG_LEVEL=error shows why a request failed; the figures are for silent.
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent',
        NODE_ENV: 'production',
      },
      options,
    );
    const databasePid = findDatabasePid();
    const intakeLedger = new Ledger('139', 201);
    const baselineLedger = new Ledger('138', 201);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const serverPid = child.pid;
    const url = child.url;

    const load = (scenario: Scenario, durationSeconds: number) => {
      const ledger = scenario.mode === 'baseline' ? baselineLedger : intakeLedger;
      return runLoad({
        url: url + scenario.path,
        connections: options.connections,
        durationSeconds,
        ...(scenario.overallRate ? { overallRate: scenario.overallRate } : {}),
        headers,
        setupRequest: (request, context) => ledger.setup(scenario.mode, request, context),
        onResponse: (status, body, context) => ledger.answer(status, body, context),
      });
    };
    const checkRun = (label: string, figures: LoadFigures) => {
      if (figures.errors > 0 || figures.non2xx > 0) {
        failures.push(
          `${label}: ${figures.errors} connection errors (${figures.timeouts} timeouts), ` +
            `${figures.non2xx} non-2xx (${JSON.stringify(figures.statusCounts)})`,
        );
      }
    };
    const measure = async (scenario: Scenario): Promise<Row> => {
      let warmup: LoadFigures | null = null;
      if (options.warmupSeconds > 0) {
        log(`${scenario.label}: ${options.warmupSeconds} s warm-up`);
        warmup = await load(scenario, options.warmupSeconds);
        checkRun(`${scenario.label} (warm-up)`, warmup);
        await sleep(SETTLE_MS);
      }
      log(`${scenario.label}: ${options.durationSeconds} s measured`);
      const serverBefore = cpuMillis(serverPid);
      const databaseBefore = cpuMillis(databasePid);
      const countersBefore = await globalCounters(database.pool);
      const figures = await load(scenario, options.durationSeconds);
      const countersAfter = await globalCounters(database.pool);
      const counted = (name: string) =>
        figures.completed === 0
          ? 0
          : ((countersAfter.get(name) ?? 0) - (countersBefore.get(name) ?? 0)) / figures.completed;
      const perRequest = (before: number | null, after: number | null) =>
        before === null || after === null || figures.completed === 0
          ? null
          : ((after - before) * 1000) / figures.completed;
      const row: Row = {
        scenario,
        figures,
        warmup,
        serverCpuUs: perRequest(serverBefore, cpuMillis(serverPid)),
        databaseCpuUs: perRequest(databaseBefore, cpuMillis(databasePid)),
        statements: counted('Questions'),
        transactions: counted('Com_begin'),
      };
      checkRun(scenario.label, figures);
      log(
        `  ${fmtInt(figures.rps)} req/s, p50 ${fmtMs(figures.p50)} ms, p99 ${fmtMs(figures.p99)} ms, ` +
          `statuses ${JSON.stringify(figures.statusCounts)}, errors ${figures.errors}`,
      );
      await sleep(SETTLE_MS);
      return row;
    };

    log(`sequential probe: ${PROBE_ROUNDS} × ${PROBE_REQUESTS} requests per kind, one at a time`);
    const probeRun = { url, headers, pool: database.pool };
    const probes = [
      await probe('baseline', probeRun, SCENARIOS.baseline, baselineLedger),
      await probe('intake, new lead', probeRun, SCENARIOS.intake, intakeLedger),
      await probe('intake, repeat (merge)', probeRun, { path: INTAKE_PATH, mode: 'repeat' }, intakeLedger),
    ];
    for (const p of probes) {
      log(`  ${p.label}: ${p.meanMs.toFixed(2)} ms, ${p.statements.toFixed(2)} statements (${p.breakdown})`);
    }

    const rows = [
      await measure(SCENARIOS.baseline),
      await measure(SCENARIOS.intake),
      await measure(SCENARIOS.fixed),
      await measure(SCENARIOS.mixed),
    ];

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

    return {
      markdown: render(options, rows, probes, intakeLedger, check.summary, machine, failures),
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

function fmtInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function fmtMs(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}

function fmtUs(value: number | null): string {
  return value === null ? 'n/a' : `${fmtInt(value)} µs`;
}

function render(
  options: BenchOptions,
  rows: Row[],
  probes: Probe[],
  intake: Ledger,
  databaseSummary: string,
  machine: string,
  failures: string[],
): string {
  const [baseline, max, fixed] = rows as [Row, Row, Row, Row];
  const ratio = baseline.figures.rps > 0 ? max.figures.rps / baseline.figures.rps : 0;
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const judged = options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const table = [
    '| scenario | req/s | p50 ms | p99 ms | errors (timeouts) / non-2xx | server CPU/req | DB CPU/req | statements (tx)/req |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario.label} | ${fmtInt(r.figures.rps)} | ${fmtMs(r.figures.p50)} | ${fmtMs(r.figures.p99)} | ` +
        `${r.figures.errors} (${r.figures.timeouts}) / ${r.figures.non2xx} | ${fmtUs(r.serverCpuUs)} | ${fmtUs(r.databaseCpuUs)} | ` +
        `${r.statements.toFixed(1)} (${r.transactions.toFixed(2)}) |`,
    ),
  ];
  const poolSize = process.env.DATABASE_POOL_SIZE || '10';
  return [
    `## intake${options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- intake\`: ${options.connections} connections, no pipelining, ` +
      `${options.durationSeconds} s per scenario after a ${options.warmupSeconds} s warm-up, server in a child ` +
      `process (pool ${poolSize}), autocannon and MariaDB on the same box. CPU/req = CPU time of the server ` +
      'child and of the database process during the measured window ÷ responses; statements (tx)/req = the ' +
      "database's `Questions` (`Com_begin`) counters over the same window ÷ responses (server-wide counters: " +
      'another client on the same MariaDB would add to them).',
    '',
    ...table,
    '',
    '| sequential probe (1 connection) | mean latency ms | statements/request | of which |',
    '| --- | ---: | ---: | --- |',
    ...probes.map(
      (p) => `| ${p.label} | ${p.meanMs.toFixed(2)} | ${p.statements.toFixed(2)} | ${p.breakdown} |`,
    ),
    '',
    `- intake / baseline throughput: **${ratio.toFixed(2)}** (target ≥ ${TARGET_RATIO}) ${mark(ratio >= TARGET_RATIO)}${judged}`,
    `- p99 at ${FIXED_RATE} req/s: **${fmtMs(fixed.figures.p99)} ms** at ${fmtInt(fixed.figures.rps)} req/s achieved ` +
      `(target < ${TARGET_P99_MS} ms) ${mark(fixed.figures.p99 < TARGET_P99_MS)}${judged}. autocannon's ` +
      '`overallRate` gives each connection its share per second and lets all of them send it at the top of ' +
      `the second, so this is ${FIXED_RATE} requests arriving ${Math.min(options.connections, FIXED_RATE)} at a ` +
      'time, not a smooth stream: the p99 is roughly that queue depth × server CPU/req.',
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
    'POST /api/v1/leads (new leads, fixed 300 req/s, 50% repeats) vs a one-INSERT baseline route, same app and pool',
  run: runIntakeBench,
};
