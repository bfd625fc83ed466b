import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { loadOrgConfig } from '../src/config/load-org-config';
import type { OrgConfig, TeamConfig } from '../src/config/org-types';
import { buildDigest, digestPeriod } from '../src/reports/digest';
import { renderDigestMarkdown } from '../src/reports/digest-markdown';
import { computeFigures } from '../src/reports/figures';
import { countCohort } from '../src/reports/figures-cohort';
import type { ReportPeriod } from '../src/reports/figures-types';
import { renderFunnelPng } from '../src/reports/funnel-chart';
import { localDatesOf, periodOfLocalDates } from '../src/reports/report-period';
import {
  type BenchOrg,
  GENERATOR_VERSION,
  type Generated,
  generateDigestData,
  TIME_ZONE,
  writeDigestOrg,
} from './digest-data';
import type { Benchmark, BenchOptions, BenchReport } from './lib/bench';
import { type ChildServer, startChildServer } from './lib/child';
import { type BenchDatabase, createBenchDatabase, openKeptBenchDatabase } from './lib/database';
import { machineLine } from './lib/machine';
import { findDatabasePid, otherLoadMeter } from './lib/proc';
import { fmtInt, fmtMs, mark } from './lib/stats';

/**
 * `npm run bench -- digest`: a fresh database with a year of generated history (1M leads across 10
 * teams, 5M timeline events by default; BENCH_DIGEST_LEADS and BENCH_DIGEST_EVENTS change the size,
 * `--smoke` makes it 20k leads), then, warm, for the biggest team:
 *
 * - the daily digest of yesterday and the weekly digest of last week (with the forecast), each
 *   `buildDigest` (figures + markdown + PNG) in this process, as the digest scheduler calls it;
 * - each report of the reports API (funnel, funnel with the forecast, channels, reps, sla) for the
 *   day, the week and last calendar month, over HTTP to the real server in a child process;
 * - the baseline in the same run: the same team's cohort counted by one indexed COUNT(*), in this
 *   process for the digests and over the same HTTP stack for the reports (bench/digest-server.ts).
 *
 * Then every query of the figures alone (its time, rows read by the handler counters) and its EXPLAIN.
 * Targets (docs BENCHMARKS.md): digest < 2 s, each report < 500 ms. Fails (exit 1) only on errors:
 * a non-200 answer, a query error, figures that disagree with the baseline count; never on a timing.
 * The data is written by bench/digest-data.ts (BENCH_DIGEST_INDEXES=keep: into the migrated indexes
 * row by row instead of building them after the load, to compare); the database is dropped at the end.
 *
 * BENCH_DIGEST_KEEP=1 keeps it instead (`lrbench_digest_keep_<leads>_<events>_v<GENERATOR_VERSION>`)
 * and reuses it on the next run with the same size and generator version: generation is skipped,
 * `now` is the one it was generated for (so the periods are the same), and migrations added since
 * are applied to it first, as production applies them to its data. Drop it by hand when done.
 */

const SERVER_SCRIPT = path.resolve(__dirname, 'digest-server.ts');
const DEFAULT_LEADS = 1_000_000;
const SMOKE_LEADS = 20_000;
const EVENTS_PER_LEAD = 5;
const DIGEST_TARGET_MS = 2_000;
const REPORT_TARGET_MS = 500;
/** Measured runs of each case, back to back after one unmeasured warm-up run of it. */
const RUNS = 5;
const SMOKE_RUNS = 2;
/** Runs of each query alone for the per-query table (median). */
const QUERY_RUNS = 3;
const REPORT_KINDS = ['funnel', 'funnel+forecast', 'channels', 'reps', 'sla'] as const;
type PeriodName = 'day' | 'week' | 'month';

interface Case {
  label: string;
  group: 'digest' | 'report' | 'baseline';
  via: 'in process' | 'HTTP';
  period: PeriodName;
  run(): Promise<void>;
  times: number[];
  first: number;
  /** The baseline this case is compared with. */
  baseline?: Case;
}

/** Figures queries by what they contain; the order is the order of the report table. */
const QUERY_NAMES: { name: string; where: string; test: (sql: string) => boolean }[] = [
  {
    name: 'cohort (funnel, channels)',
    where: 'figures-cohort.ts computeCohortSummary',
    test: (s) => s.includes('l.source_id, l.stage, l.stages_reached'),
  },
  {
    name: 'cohort count (sla report)',
    where: 'figures-cohort.ts countCohort',
    test: (s) => /SELECT COUNT\(\*\) AS n FROM leads l WHERE/.test(s),
  },
  {
    name: 'reps (claims, first responses)',
    where: 'figures-reps.ts computeResponses',
    test: (s) => s.includes('first_claim_offered_at AS offer_at'),
  },
  {
    name: 'reps: claims by member',
    where: 'figures-reps.ts claimsByMember',
    test: (s) => s.includes('JOIN lead_claimers'),
  },
  {
    name: 'funnel stays (avg days)',
    where: 'figures-period.ts computeStageStays',
    test: (s) => s.includes('SUM(r.stay_micros)'),
  },
  {
    name: 'losses by reason',
    where: 'figures-period.ts computeLosses',
    test: (s) => s.includes('lost_reason AS reason'),
  },
  {
    name: 'breaches (SLA events)',
    where: 'figures-period.ts computeSlaEvents',
    test: (s) => s.includes("'sla.claim_missed', 'lead.recycled'"),
  },
  {
    name: 'forecast: open pipeline',
    where: 'figures-forecast.ts computeForecast',
    test: (s) => s.includes('SUM(COALESCE(l.budget, 0))'),
  },
  {
    name: 'forecast: win rates (90 days)',
    where: 'figures-forecast.ts winRates',
    test: (s) => s.includes('l.stage, l.stages_reached, COUNT(*)'),
  },
  {
    name: 'channel costs',
    where: 'channel-costs.ts costsInPeriod',
    test: (s) => s.includes('FROM channel_costs'),
  },
  {
    name: 'channel cost shares (all teams)',
    where: 'channel-costs.ts leadsBySource',
    test: (s) => s.includes('SELECT source_id, COUNT(*) AS n FROM leads'),
  },
];

interface QueryFigures {
  name: string;
  where: string;
  ms: Partial<Record<PeriodName, number>>;
  reads: Partial<Record<PeriodName, number>>;
  plan: mysql.RowDataPacket[];
}

function benchSize(smoke: boolean): { leads: number; events: number } {
  const leads = Number(process.env.BENCH_DIGEST_LEADS) || (smoke ? SMOKE_LEADS : DEFAULT_LEADS);
  const events = Number(process.env.BENCH_DIGEST_EVENTS) || leads * EVENTS_PER_LEAD;
  return { leads, events };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Every SQL text mysql2 sends from this process while `fn` runs (its diagnostics channel). */
async function captureQueries(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onStart = (message: unknown) => {
    const query = (message as { query?: unknown }).query;
    if (typeof query === 'string') seen.push(query);
  };
  diagnosticsChannel.subscribe('tracing:mysql2:query:start', onStart);
  try {
    await fn();
  } finally {
    diagnosticsChannel.unsubscribe('tracing:mysql2:query:start', onStart);
  }
  return seen;
}

const HANDLER_READS = [
  'Handler_read_first',
  'Handler_read_key',
  'Handler_read_last',
  'Handler_read_next',
  'Handler_read_prev',
  'Handler_read_rnd',
  'Handler_read_rnd_next',
];

/** A query alone on one connection: median time of QUERY_RUNS and the rows its handlers read. */
async function timeAlone(pool: mysql.Pool, text: string): Promise<{ ms: number; reads: number }> {
  const connection = await pool.getConnection();
  try {
    const reads = async () => {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        `SHOW SESSION STATUS WHERE Variable_name IN (${HANDLER_READS.map((n) => `'${n}'`).join(', ')})`,
      );
      return rows.reduce((sum, r) => sum + Number(r.Value), 0);
    };
    const times: number[] = [];
    let read = 0;
    for (let i = 0; i < QUERY_RUNS; i++) {
      const before = await reads();
      const started = performance.now();
      await connection.query(text);
      times.push(performance.now() - started);
      read = (await reads()) - before;
    }
    return { ms: median(times), reads: read };
  } finally {
    connection.release();
  }
}

async function runDigestBench(options: BenchOptions): Promise<BenchReport> {
  const { log } = options;
  const failures: string[] = [];
  const size = benchSize(options.smoke);
  const org: BenchOrg = writeDigestOrg(size.leads);
  let database: BenchDatabase | undefined;
  let child: ChildServer | undefined;
  try {
    const keep = process.env.BENCH_DIGEST_KEEP === '1';
    const kept = keep ? await openKept(size, log) : undefined;
    database = kept?.database ?? (await createBenchDatabase('digest'));
    const machine = machineLine(database.version);
    const [poolRows] = await database.pool.query<mysql.RowDataPacket[]>(
      'SELECT @@innodb_buffer_pool_size AS size',
    );
    const bufferPool = Number(poolRows[0]?.size ?? 0);
    let now: Date;
    let generated: Generated;
    if (kept?.reused) {
      ({ now, generated } = kept.reused);
      log(
        `database ${database.name}: reusing the data generated for ${now.toISOString()} (BENCH_DIGEST_KEEP=1)`,
      );
    } else {
      now = new Date();
      log(
        `database ${database.name}: generating ${fmtInt(size.leads)} leads, ~${fmtInt(size.events)} events, ` +
          `${org.teams.length} teams, ${org.reps} reps`,
      );
      generated = await generateDigestData(database.pool, { ...size, now, org, log });
      if (keep) await saveKept(database.pool, now, generated);
    }
    const rowsPerSecond = ((generated.leads + generated.events) * 1000) / generated.writeMs;
    log(
      `generated ${fmtInt(generated.leads)} leads + ${fmtInt(generated.events)} events in ` +
        `${fmtMs(generated.writeMs / 1000)} s (${fmtInt(rowsPerSecond)} rows/s), indexes ${fmtMs(generated.indexMs / 1000)} s`,
    );

    const config: OrgConfig = loadOrgConfig(org.file, {});
    const team: TeamConfig = config.teams.find((t) => t.id === org.teams[0]!.id)!;
    const periods: Record<PeriodName, ReportPeriod> = {
      day: digestPeriod('daily', team.timezone, now).period,
      week: digestPeriod('weekly', team.timezone, now).period,
      month: lastMonth(team.timezone, now),
    };
    const periodKeys = {
      day: digestPeriod('daily', team.timezone, now).periodKey,
      week: digestPeriod('weekly', team.timezone, now).periodKey,
    };

    const adminKey = `bench-admin-${Date.now().toString(36)}-key`;
    child = await startChildServer(
      SERVER_SCRIPT,
      {
        DATABASE_URL: database.url,
        LEADRELAY_CONFIG: org.file,
        ADMIN_API_KEY: adminKey,
        // A few requests a second: errors cost nothing to log, and say why a report answered 500.
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'error',
        NODE_ENV: 'production',
      },
      options,
    );
    const serverUrl = child.url;
    const db = database.db;
    const pool = database.pool;

    // --- the cases
    const cohort: Record<PeriodName, number> = { day: 0, week: 0, month: 0 };
    const get = async (route: string, period: PeriodName, extra = '') => {
      const { from, to } = localDatesOf(periods[period]);
      const response = await fetch(`${serverUrl}${route}?from=${from}&to=${to}&team=${team.id}${extra}`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      const body = await response.text();
      if (response.status !== 200) {
        failures.push(`${route} ${period}: ${response.status} ${body.slice(0, 200)}`);
        return null;
      }
      return JSON.parse(body) as { newLeads?: number };
    };
    const cases: Case[] = [];
    const add = (c: Omit<Case, 'times' | 'first'>) => {
      const full: Case = { ...c, times: [], first: 0 };
      cases.push(full);
      return full;
    };
    const localBaseline: Partial<Record<PeriodName, Case>> = {};
    const httpBaseline: Partial<Record<PeriodName, Case>> = {};
    for (const period of ['day', 'week', 'month'] as const) {
      const p = periods[period];
      localBaseline[period] = add({
        label: 'baseline: indexed COUNT of the cohort',
        group: 'baseline',
        via: 'in process',
        period,
        run: async () => {
          const [rows] = await pool.query<mysql.RowDataPacket[]>(
            'SELECT COUNT(*) AS n FROM leads WHERE team_id = ? AND created_at >= ? AND created_at < ?',
            [team.id, p.from, p.to],
          );
          cohort[period] = Number(rows[0]?.n ?? 0);
        },
      });
      httpBaseline[period] = add({
        label: 'baseline: indexed COUNT of the cohort',
        group: 'baseline',
        via: 'HTTP',
        period,
        run: async () => {
          const body = await get('/bench/baseline', period);
          if (body && body.newLeads !== cohort[period]) {
            failures.push(`baseline ${period}: HTTP says ${body.newLeads}, in process ${cohort[period]}`);
          }
        },
      });
    }
    for (const [kind, period] of [
      ['daily', 'day'],
      ['weekly', 'week'],
    ] as const) {
      add({
        label: `${kind} digest (figures + markdown + PNG${kind === 'weekly' ? ', forecast' : ''})`,
        group: 'digest',
        via: 'in process',
        period,
        baseline: localBaseline[period],
        run: async () => {
          const digest = await buildDigest(
            { db, org: config },
            { team, kind, period: periods[period], periodKey: periodKeys[period] },
          );
          if (digest.figures.newLeads !== cohort[period]) {
            failures.push(
              `${kind} digest: ${digest.figures.newLeads} new leads, baseline count ${cohort[period]}`,
            );
          }
        },
      });
    }
    for (const period of ['day', 'week', 'month'] as const) {
      for (const kind of REPORT_KINDS) {
        const route = `/api/v1/reports/${kind.replace('+forecast', '')}`;
        add({
          label: `GET ${route}${kind.endsWith('+forecast') ? '?forecast=true' : ''}`,
          group: 'report',
          via: 'HTTP',
          period,
          baseline: httpBaseline[period],
          run: async () => {
            const body = await get(route, period, kind.endsWith('+forecast') ? '&forecast=true' : '');
            if (body && body.newLeads !== undefined && body.newLeads !== cohort[period]) {
              failures.push(
                `${kind} ${period}: ${body.newLeads} new leads, baseline count ${cohort[period]}`,
              );
            }
          },
        });
      }
    }

    // --- warm: each case once unmeasured, then RUNS measured runs of it back to back
    const runs = options.smoke ? SMOKE_RUNS : RUNS;
    const others = otherLoadMeter([child.pid, findDatabasePid()]);
    const measureStarted = performance.now();
    for (const c of cases) {
      for (let run = 0; run <= runs; run++) {
        const started = performance.now();
        // A failed run is reported and timed like the others (a server error is an answer too).
        await c.run().catch((error: unknown) => failures.push(`${c.label} (${c.period}): ${String(error)}`));
        const ms = performance.now() - started;
        if (run === 0) c.first = ms;
        else c.times.push(ms);
      }
      log(`${c.label} (${c.period}, ${c.via}): median ${fmtMs(median(c.times))} ms`);
    }
    const otherCores = others();
    const measureMs = performance.now() - measureStarted;

    // Where a digest's time goes besides SQL: markdown and PNG from figures already computed.
    const weeklyFigures = await computeFigures(
      { db, org: config },
      { teamId: team.id, period: periods.week, weekly: true },
    );
    const renderTimes: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const started = performance.now();
      renderDigestMarkdown({ figures: weeklyFigures, teamName: team.name, channelNames: {}, kind: 'weekly' });
      renderFunnelPng({ funnel: weeklyFigures.funnel, title: '转化漏斗' });
      if (i > 0) renderTimes.push(performance.now() - started);
    }

    // --- every figures query alone, per period, and its EXPLAIN (the week's)
    log('timing each query alone and reading its EXPLAIN');
    const byName = new Map<string, QueryFigures>();
    for (const period of ['day', 'week', 'month'] as const) {
      // The weekly digest's queries (all of them), plus the SLA report's cohort count.
      const texts = await captureQueries(async () => {
        await computeFigures({ db, org: config }, { teamId: team.id, period: periods[period], weekly: true });
        await countCohort(db, { teamId: team.id, period: periods[period] });
      });
      for (const text of dedupe(texts)) {
        const known = QUERY_NAMES.find((q) => q.test(text));
        if (!known) continue;
        const figures = byName.get(known.name) ?? {
          name: known.name,
          where: known.where,
          ms: {},
          reads: {},
          plan: [],
        };
        byName.set(known.name, figures);
        try {
          const alone = await timeAlone(pool, text);
          figures.ms[period] = alone.ms;
          figures.reads[period] = alone.reads;
          if (period === 'week') {
            const [plan] = await pool.query<mysql.RowDataPacket[]>(`EXPLAIN ${text}`);
            figures.plan = plan;
          }
        } catch (error) {
          failures.push(`${known.name} (${period}) alone: ${(error as Error).message}`);
        }
      }
    }
    const queries = QUERY_NAMES.flatMap((q) => byName.get(q.name) ?? []);

    return {
      markdown: render({
        options,
        reused: kept?.reused !== undefined,
        size,
        generated,
        org,
        team,
        teamLeads: generated.teams[team.id] ?? 0,
        periods,
        cohort,
        cases,
        runs,
        renderTimes,
        queries,
        otherCores,
        measureMs,
        bufferPool,
        machine,
        failures,
      }),
      failures,
    };
  } finally {
    await child?.stop().catch(() => undefined);
    await database
      ?.drop()
      .catch((error: unknown) => log(`could not drop ${database?.name}: ${String(error)}`));
    org.remove();
  }
}

const KEPT_META = 'bench_digest_meta';

/** The kept database of this size and generator version, and what it holds when it is complete. */
async function openKept(
  size: { leads: number; events: number },
  log: (message: string) => void,
): Promise<{ database: BenchDatabase; reused?: { now: Date; generated: Generated } }> {
  const key = `${size.leads}_${size.events}_v${GENERATOR_VERSION}`;
  let database = await openKeptBenchDatabase('digest', key);
  if (!database.created) {
    const [tables] = await database.pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [KEPT_META],
    );
    if (Number(tables[0]?.n) > 0) {
      const [rows] = await database.pool.query<mysql.RowDataPacket[]>(
        `SELECT now_ms, generated FROM ${KEPT_META} WHERE version = ?`,
        [GENERATOR_VERSION],
      );
      const row = rows[0];
      if (row) {
        const generated = JSON.parse(String(row.generated)) as Generated;
        generated.start = new Date(generated.start);
        return { database, reused: { now: new Date(Number(row.now_ms)), generated } };
      }
    }
    // Left half-generated by an interrupted run: start again.
    log(`database ${database.name} is incomplete: dropping it and generating again`);
    await database.remove();
    database = await openKeptBenchDatabase('digest', key);
  }
  return { database };
}

async function saveKept(pool: mysql.Pool, now: Date, generated: Generated): Promise<void> {
  await pool.query(
    `CREATE TABLE ${KEPT_META} (version INT NOT NULL, now_ms BIGINT NOT NULL, generated LONGTEXT NOT NULL)`,
  );
  await pool.query(`INSERT INTO ${KEPT_META} VALUES (?, ?, ?)`, [
    GENERATOR_VERSION,
    now.getTime(),
    JSON.stringify(generated),
  ]);
}

function dedupe(texts: string[]): string[] {
  return [...new Set(texts)];
}

/** The last full calendar month before `now`, in `timeZone`. */
function lastMonth(timeZone: string, now: Date): ReportPeriod {
  const { from } = localDatesOf({ from: now, to: new Date(now.getTime() + 1), timeZone });
  const [year, month] = from.split('-').map(Number) as [number, number];
  const first = new Date(Date.UTC(year, month - 2, 1));
  const last = new Date(Date.UTC(year, month - 1, 0));
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  return periodOfLocalDates(timeZone, iso(first), iso(last))!;
}

// ---------------------------------------------------------------------------------------------------
// Report

function render(r: {
  options: BenchOptions;
  reused: boolean;
  size: { leads: number; events: number };
  generated: Generated;
  org: BenchOrg;
  team: TeamConfig;
  teamLeads: number;
  periods: Record<PeriodName, ReportPeriod>;
  cohort: Record<PeriodName, number>;
  cases: Case[];
  runs: number;
  renderTimes: number[];
  queries: QueryFigures[];
  otherCores: number | null;
  measureMs: number;
  bufferPool: number;
  machine: string;
  failures: string[];
}): string {
  const g = r.generated;
  const judged = r.options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const dates = (p: PeriodName) => {
    const { from, to } = localDatesOf(r.periods[p]);
    return from === to ? from : `${from} … ${to}`;
  };
  const writeRate = ((g.leads + g.events) * 1000) / g.writeMs;
  const totalSeconds = (g.writeMs + g.indexMs + (g.rollupMs ?? 0) + g.analyzeMs) / 1000;
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace(/\|/g, '\\|'));
  const ratio = (c: Case) => (c.baseline ? (median(c.times) / median(c.baseline.times)).toFixed(1) : '');
  const target = (c: Case) =>
    c.group === 'digest' ? DIGEST_TARGET_MS : c.group === 'report' ? REPORT_TARGET_MS : null;
  const met = (c: Case) => {
    const t = target(c);
    return t === null ? '' : `< ${fmtInt(t)} ms ${mark(median(c.times) < t && Math.max(...c.times) < t)}`;
  };
  const ordered = [
    ...r.cases.filter((c) => c.group === 'digest'),
    ...(['day', 'week', 'month'] as const).flatMap((p) =>
      r.cases.filter((c) => c.period === p && c.group !== 'digest').sort((a, b) => order(a) - order(b)),
    ),
  ];
  const rows = ordered.map(
    (c) =>
      `| ${c.label} | ${c.via} | ${c.period} (${dates(c.period)}) | ${fmtInt(r.cohort[c.period])} | ` +
      `${fmtMs(median(c.times))} | ${fmtMs(Math.max(...c.times))} | ${fmtMs(c.first)} | ${ratio(c)} | ${met(c)} |`,
  );
  const reports = r.cases.filter((c) => c.group === 'report');
  const within = (period: PeriodName) =>
    reports.filter((c) => c.period === period).every((c) => Math.max(...c.times) < REPORT_TARGET_MS);
  const slowest = (period: PeriodName) =>
    reports.filter((c) => c.period === period).reduce((a, b) => (median(a.times) >= median(b.times) ? a : b));
  const digests = r.cases.filter((c) => c.group === 'digest');
  const planColumns = ['id', 'select_type', 'table', 'type', 'key', 'key_len', 'ref', 'rows', 'Extra'];
  const teamShare = (r.teamLeads / g.leads) * 100;
  return [
    `## digest${r.options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- digest\`${r.size.leads === DEFAULT_LEADS ? '' : ` (BENCH_DIGEST_LEADS=${r.size.leads})`}: ` +
      (r.reused
        ? 'a database kept from an earlier run (BENCH_DIGEST_KEEP=1; the migrations added since applied to it) '
        : 'a fresh database ') +
      `with a year of generated history (bench/digest-data.ts): ${fmtInt(g.leads)} leads in ${r.org.teams.length} teams ` +
      `(${r.org.reps} reps; shares ${r.org.teams.map((t) => Math.round(t.share * 100)).join('/')} %), ${r.org.sources} sources in ` +
      `${r.org.channels} channels, ${fmtInt(g.events)} timeline events (${(g.events / g.leads).toFixed(2)} a lead: created, assigned, ` +
      'claim missed and rerouted, claimed, notes, stage changes with from/to, follow-up reminders and escalations, recycled, pooled), ' +
      `stages now ${Object.entries(g.stages)
        .sort((a, b) => b[1] - a[1])
        .map(([s, n]) => `${s} ${((n / g.leads) * 100).toFixed(0)} %`)
        .join(', ')}; ${g.channelCosts} channel-cost entries (monthly, 3 paid channels). ` +
      `Written with multi-row INSERTs (2,000 leads / 5,000 events a statement, 2 in flight per table) in ` +
      `**${fmtMs(g.writeMs / 1000)} s = ${fmtInt(writeRate)} rows/s**, the ${g.indexesRebuilt} secondary indexes dropped for the load ` +
      `and built after it in ${fmtMs(g.indexMs / 1000)} s (checked equal to the migrated ones), ` +
      (g.rollupMs === undefined
        ? ''
        : `the report rollups filled in by their migration's backfill in ${fmtMs(g.rollupMs / 1000)} s, `) +
      `ANALYZE ${fmtMs(g.analyzeMs / 1000)} s: ` +
      `${fmtMs(totalSeconds)} s in all, ${fmtInt((g.leads + g.events) / totalSeconds)} rows/s.`,
    '',
    `Measured team: ${r.team.id} (${r.team.name}), the biggest: ${fmtInt(r.teamLeads)} leads a year (${teamShare.toFixed(0)} %). ` +
      `Periods as the digest scheduler picks them (digest.ts \`digestPeriod\`): day = yesterday, week = last Monday–Sunday; month = ` +
      `last calendar month (${TIME_ZONE}). Digests: \`buildDigest\` in the bench process (its own pool of 4), the call \`sendDigest\` ` +
      'makes before writing the outbox rows. Reports: `GET /api/v1/reports/…?from&to&team` (JSON) over HTTP, one request at a ' +
      'time, to the real server in a child process (bench/digest-server.ts: `openRuntime` + `startServer`, pool 10, production ' +
      'settings, workers on). Baselines in the same run: the same cohort counted by one `COUNT(*)` on `leads_team_created_idx`, ' +
      'in process for the digests, over the same HTTP stack (admin check, period parsing) for the reports; ratio = median ÷ its ' +
      `baseline's median. Warm: each case once unmeasured ("first": the buffer pool as the case before left it), then ${r.runs} ` +
      `times back to back; median and max of the ${r.runs}.`,
    '',
    '| what | via | period | cohort leads | median ms | max ms | first ms | × baseline | target |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    ...digests.map(
      (c) =>
        `- ${c.label.split(' (')[0]}: **${fmtMs(median(c.times))} ms** median, ${fmtMs(Math.max(...c.times))} ms max (target < 2 s) ` +
        `${mark(Math.max(...c.times) < DIGEST_TARGET_MS)}${judged}; ${ratio(c)} × the baseline.`,
    ),
    `- Markdown + PNG of a weekly digest, from its figures: ${fmtMs(median(r.renderTimes))} ms median (the rest of a digest is SQL).`,
    ...(['day', 'week', 'month'] as const).map((p) => {
      const worst = slowest(p);
      return (
        `- Each report, ${p} (${fmtInt(r.cohort[p])} cohort leads): slowest ${worst.label} **${fmtMs(median(worst.times))} ms** median, ` +
        `${fmtMs(Math.max(...worst.times))} ms max (target < 500 ms) ${mark(within(p))}${judged}.`
      );
    }),
    `- Other processes kept ${r.otherCores === null ? 'n/a' : r.otherCores.toFixed(2)} cores busy during the ${fmtMs(r.measureMs / 1000)} s ` +
      'of measuring (above ~0.1, someone else shared the 2 cores and the timings suffer).',
    `- Correctness: ${r.failures.length === 0 ? 'every answer 200, every report and digest counts the same cohort as the baseline ✓' : `**${r.failures.length} failures** ✗`}`,
    '',
    `Each query of the figures alone (the SQL the weekly digest sends for ${r.team.id}, captured from mysql2, run ${QUERY_RUNS} times on one ` +
      'connection, median), with the rows its handlers read (`Handler_read_*`) and the plan for the week:',
    '',
    '| query | code | day ms | week ms | month ms | rows read (day / week / month) | plan (week): table type key rows |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...r.queries.map(
      (q) =>
        `| ${q.name} | ${q.where} | ${fmtQ(q.ms.day)} | ${fmtQ(q.ms.week)} | ${fmtQ(q.ms.month)} | ` +
        `${[q.reads.day, q.reads.week, q.reads.month].map((n) => (n === undefined ? '–' : fmtInt(n))).join(' / ')} | ` +
        `${q.plan.map((p) => `${cell(p.table)} ${cell(p.type)} ${cell(p.key) || '–'} ${cell(p.rows)}`).join('; ')} |`,
    ),
    '',
    'EXPLAIN (week):',
    '',
    `| query | ${planColumns.join(' | ')} |`,
    `| --- | ${planColumns.map(() => '---').join(' | ')} |`,
    ...r.queries.flatMap((q) =>
      q.plan.map(
        (p, i) => `| ${i === 0 ? q.name : ''} | ${planColumns.map((c) => cell(p[c])).join(' | ')} |`,
      ),
    ),
    '',
    `${r.machine}, innodb_buffer_pool_size ${fmtInt(r.bufferPool / 2 ** 20)} MiB`,
  ].join('\n');
}

const fmtQ = (ms: number | undefined) => (ms === undefined ? '–' : fmtMs(ms));

function order(c: Case): number {
  if (c.group === 'baseline') return c.via === 'in process' ? 0 : 1;
  return (
    2 +
    REPORT_KINDS.findIndex((k) => c.label.includes(`/${k.replace('+forecast', '')}`)) * 2 +
    (c.label.includes('forecast') ? 1 : 0)
  );
}

export const digestBenchmark: Benchmark = {
  name: 'digest',
  description:
    '1M leads, 5M events (BENCH_DIGEST_LEADS): daily/weekly digest and each report for day/week/month vs an indexed COUNT, EXPLAIN',
  run: runDigestBench,
};
