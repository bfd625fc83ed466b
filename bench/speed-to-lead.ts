import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type mysql from 'mysql2/promise';
import { loadOrgConfig } from '../src/config/load-org-config';
import { createEmulator, type Emulator, type EmulatorStats } from '../src/emulator/create-emulator';
import { createApiKey } from '../src/sources/api-keys';
import { leadBody } from './intake';
import { type Benchmark, type BenchOptions, type BenchReport, sleep } from './lib/bench';
import { type ChildServer, startChildServer } from './lib/child';
import { createBenchDatabase } from './lib/database';
import { machineLine } from './lib/machine';
import { type PacedAttempt, runPaced } from './lib/paced';
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
import { benchWecomCredentials, wecomServerEnv } from './lib/wecom';

/**
 * `npm run bench -- speed-to-lead`: new leads POSTed to /api/v1/leads at 100 leads/s, evenly paced,
 * for N s (default 20, `--duration`), with the server's WeCom pointed at the emulator (in this
 * process) over loopback. For each lead: the time its 201 arrived here, and the time the emulator
 * accepted its new-lead card (the `at` the emulator stamps on each delivered message, from the same
 * system clock; the card's task_id `L<leadId>-new-lead-…` names the lead). Reports p50/p90/p99/max of
 * card − 201, and where that time goes (assignment, outbox claim and send times from the database).
 *
 * The org is generated for the rate (bench-org.jsonc in a temporary directory): one team per
 * province the submissions come from, routed by province, each with enough reps that round robin
 * keeps every rep under two thirds of WeCom's 30 app messages per minute per member (the outbox paces
 * to that limit, so a smaller org would see cards wait for their slot; the fixture org's two reps
 * would also hit their daily caps). Production code, production limits; nothing is patched.
 *
 * Every lead is grade A or B (industry 制造业, titles with and without 总): routing sends grade C to the
 * nurture pool without a card, so C leads have no speed-to-lead to measure.
 *
 * Fails (exit 1) only on correctness: a non-201, a connection error, a lead without its card (after
 * waiting), a card delivered twice or for an unknown lead, an outbox row not sent, a WeCom drop.
 */

const SERVER_SCRIPT = path.resolve(__dirname, 'wecom-server.ts');
const INTAKE_PATH = '/api/v1/leads';
const SOURCE_ID = 'website';
const RATE = 100;
const DEFAULT_SECONDS = 20;
const TARGET_P99_MS = 250;
/** How long to wait for the last cards after the last 201. */
const DRAIN_TIMEOUT_MS = 30_000;
const CARD_TASK_ID = /^L(\d+)-new-lead-/;
const PHONE_PREFIX = '137';
/** The provinces of bench/intake.ts's submissions; a lead from elsewhere goes to the first team. */
const PROVINCES = ['浙江', '江苏', '上海', '广东', '北京', '四川', '湖北', '山东'];
/** WeCom: 30 app messages per minute per member (path 90454); round robin keeps each rep under this. */
const REP_CARDS_PER_MINUTE = 20;
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

interface BenchOrg {
  file: string;
  teams: number;
  reps: number;
  /** Every member's WeCom userid (reps and supervisors), for the emulator. */
  wecomMembers: { userid: string; name: string }[];
  remove(): void;
}

/** Writes an org sized for `rate` leads/s and `totalLeads` leads, and checks it loads. */
function writeBenchOrg(rate: number, totalLeads: number): BenchOrg {
  const repsPerTeam = Math.ceil(((rate / PROVINCES.length) * 60) / REP_CARDS_PER_MINUTE);
  const perRep = Math.ceil(totalLeads / (PROVINCES.length * repsPerTeam));
  const capacity = { openLeads: Math.max(200, 2 * perRep), dailyNew: Math.max(50, 2 * perRep) };
  const members: Record<string, unknown>[] = [];
  const teams: Record<string, unknown>[] = [];
  const rules: Record<string, unknown>[] = [];
  const wecomMembers: { userid: string; name: string }[] = [];
  PROVINCES.forEach((province, t) => {
    const team = `t${t + 1}`;
    const supervisor = { id: `sup_${t + 1}`, name: `${province}主管`, platforms: { wecom: `Sup${t + 1}` } };
    const reps = Array.from({ length: repsPerTeam }, (_, i) => ({
      id: `rep_${t + 1}_${i + 1}`,
      name: `${province}销售${i + 1}`,
      platforms: { wecom: `Rep${t + 1}x${i + 1}` },
      capacity,
    }));
    members.push(supervisor, ...reps);
    for (const m of [supervisor, ...reps]) wecomMembers.push({ userid: m.platforms.wecom, name: m.name });
    teams.push({
      id: team,
      name: `${province}组`,
      supervisor: supervisor.id,
      members: reps.map((r) => r.id),
    });
    rules.push({ name: province, match: { province: [province] }, team });
  });
  const org = {
    timezone: 'Asia/Shanghai',
    members,
    teams,
    sources: [{ id: SOURCE_ID, name: '官网表单', channel: 'web_form' }],
    // As in test/fixtures/org.test.jsonc: 制造业 + a title with 总 is grade A.
    scoring: {
      fit: [
        { field: 'industry', equals: '制造业', points: 40 },
        { field: 'title', contains: '总', points: 25 },
      ],
      behaviour: [],
      grades: { A: 60, B: 30 },
    },
    routing: { rules, fallbackTeam: 't1' },
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-bench-org-'));
  const file = path.join(dir, 'bench-org.jsonc');
  writeFileSync(file, JSON.stringify(org, null, 2));
  // A config the server would refuse should fail here, naming the problem.
  loadOrgConfig(file, {});
  return {
    file,
    teams: PROVINCES.length,
    reps: PROVINCES.length * repsPerTeam,
    wecomMembers,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

interface LeadRecord {
  n: number;
  measured: boolean;
  status: number | null;
  error: string | null;
  leadId: number | null;
  answeredWallMs: number;
  answerMs: number;
}

interface OutboxTimes {
  leadId: number;
  status: string;
  attempts: number;
  createdAt: number;
  firstAttemptAt: number | null;
  sentAt: number | null;
}

interface RunResult {
  seconds: number;
  org: Pick<BenchOrg, 'teams' | 'reps'>;
  offeredRate: number;
  lagMax: number;
  leads: LeadRecord[];
  /** Lead id → emulator delivery times (ms since the epoch) of its new-lead cards. */
  cards: Map<number, number[]>;
  outbox: Map<number, OutboxTimes>;
  leadRows: number;
  stats: EmulatorStats;
  /** From the last 201 until every card had arrived (or the wait ended). */
  drainMs: number;
  /** The bench process's event-loop delay while it ran (it stamps both ends of the measure). */
  loopDelayMaxMs: number;
  /** Cores kept busy by processes outside the benchmark during the measured run (shared machine). */
  otherCores: number | null;
  /** Server child and database CPU per measured lead, from the first send until the last card (µs). */
  serverCpuUs: number | null;
  databaseCpuUs: number | null;
  /** Statements (`Questions`) per measured lead over the same window, and by kind. */
  statements: number;
  breakdown: string;
  /** The machine line, taken when the run started. */
  machine: string;
  failures: string[];
}

async function runSpeedToLead(options: BenchOptions): Promise<BenchReport> {
  const { log } = options;
  const seconds = options.durationGiven || options.smoke ? options.durationSeconds : DEFAULT_SECONDS;
  const failures: string[] = [];
  const org = writeBenchOrg(RATE, RATE * (seconds + options.warmupSeconds));
  const database = await createBenchDatabase('stl');
  const machine = machineLine(database.version);
  const credentials = benchWecomCredentials();
  // WeCom's own limits (the defaults): the outbox must stay under them, or the emulator drops cards.
  const emulator = createEmulator({
    wecom: {
      corpId: credentials.corpId,
      corpSecret: credentials.secret,
      agentId: credentials.agentId,
      token: credentials.token,
      encodingAesKey: credentials.aesKey,
      members: org.wecomMembers,
    },
  });
  let child: ChildServer | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  try {
    const emulatorUrl = await emulator.start(0);
    log(`database ${database.name}, emulator ${emulatorUrl}, org of ${org.teams} teams, ${org.reps} reps`);
    const { key } = await createApiKey(database.db, { sourceId: SOURCE_ID, label: 'bench', now: new Date() });
    child = await startChildServer(
      SERVER_SCRIPT,
      {
        DATABASE_URL: database.url,
        LEADRELAY_CONFIG: org.file,
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent',
        NODE_ENV: 'production',
        ...wecomServerEnv(credentials, emulatorUrl),
      },
      options,
    );
    // Interactive cards need a callback URL on the app (errcode 43012 otherwise), as in the demo.
    emulator.control.setCallbackUrl(`${child.url}/callbacks/wecom`);

    const leads: LeadRecord[] = [];
    let counter = 0;
    const send = async (duration: number, measured: boolean) => {
      const run = await runPaced<number>({
        url: child!.url,
        rate: RATE,
        durationSeconds: duration,
        maxSockets: 64,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        next: () => {
          const n = counter++;
          // 制造业 makes every lead grade A or B (by title): grade C goes to the nurture pool, no card.
          const body = { ...leadBody(PHONE_PREFIX, n), industry: '制造业' };
          return { path: INTAKE_PATH, body: JSON.stringify(body), tag: n };
        },
      });
      for (const attempt of run.attempts) leads.push(leadRecord(attempt, measured));
      return run;
    };

    if (options.warmupSeconds > 0) {
      log(`${options.warmupSeconds} s warm-up at ${RATE} leads/s`);
      await send(options.warmupSeconds, false);
      await waitForCards(emulator, org.wecomMembers, leads, 10_000);
    }
    log(`${seconds} s at ${RATE} leads/s`);
    loopDelay.enable();
    const databasePid = findDatabasePid();
    const otherLoad = otherLoadMeter([child.pid, databasePid]);
    const cpuBefore = [cpuMillis(child.pid), cpuMillis(databasePid)];
    const countersBefore = await globalStatus(database.pool, ['Questions', ...STATEMENT_COUNTERS]);
    const run = await send(seconds, true);
    const otherCores = otherLoad();
    const lastAnswer = Math.max(...leads.map((l) => l.answeredWallMs));
    const complete = await waitForCards(emulator, org.wecomMembers, leads, DRAIN_TIMEOUT_MS);
    const cpuAfter = [cpuMillis(child.pid), cpuMillis(databasePid)];
    const countersAfter = await globalStatus(database.pool, ['Questions', ...STATEMENT_COUNTERS]);
    loopDelay.disable();
    const measuredLeads = leads.filter((l) => l.measured).length || 1;
    const perLeadUs = (i: number) =>
      cpuBefore[i] == null || cpuAfter[i] == null
        ? null
        : ((cpuAfter[i]! - cpuBefore[i]!) * 1000) / measuredLeads;
    const counted = (name: string) =>
      ((countersAfter.get(name) ?? 0) - (countersBefore.get(name) ?? 0)) / measuredLeads;
    const breakdown = STATEMENT_COUNTERS.map((name) => [name.slice(4), counted(name)] as const)
      .filter(([, perLead]) => perLead >= 0.005)
      .map(([name, perLead]) => `${name} ${perLead.toFixed(2)}`)
      .join(', ');
    const drainMs = Date.now() - lastAnswer;
    log(
      `  ${complete ? 'every card arrived' : 'not every card arrived'} ${fmtInt(drainMs)} ms after the last 201`,
    );

    // Stop the server first: sends in flight are recorded before we look at the outbox.
    await child.stop();
    child = undefined;
    const result: RunResult = {
      seconds,
      org,
      offeredRate: run.offeredRate,
      lagMax: run.lagMax,
      leads,
      cards: collectCards(emulator, org.wecomMembers),
      outbox: await outboxTimes(database.pool),
      leadRows: await countLeads(database.pool),
      stats: emulator.state.stats(),
      drainMs,
      loopDelayMaxMs: loopDelay.max / 1e6,
      otherCores,
      serverCpuUs: perLeadUs(0),
      databaseCpuUs: perLeadUs(1),
      statements: counted('Questions'),
      breakdown,
      machine,
      failures,
    };
    check(result);
    return { markdown: render(options, result), failures };
  } finally {
    loopDelay.disable();
    await child?.stop().catch(() => undefined);
    await emulator.stop().catch(() => undefined);
    await database.drop().catch((error: unknown) => log(`could not drop ${database.name}: ${String(error)}`));
    org.remove();
  }
}

function leadRecord(attempt: PacedAttempt<number>, measured: boolean): LeadRecord {
  let leadId: number | null = null;
  if (attempt.status === 201) {
    try {
      leadId = (JSON.parse(attempt.body) as { id: number }).id;
    } catch {
      leadId = null;
    }
  }
  return {
    n: attempt.item.tag,
    measured,
    status: attempt.status,
    error: attempt.error,
    leadId,
    answeredWallMs: attempt.answeredWallMs,
    answerMs: attempt.answeredAt - attempt.sentAt,
  };
}

type Members = readonly { userid: string }[];

/** Every new-lead card in every member's chat, by lead id, with the emulator's delivery time. */
function collectCards(emulator: Emulator, members: Members): Map<number, number[]> {
  const cards = new Map<number, number[]>();
  for (const member of members) {
    for (const message of emulator.state.chat(member.userid)?.messages ?? []) {
      const match = CARD_TASK_ID.exec(message.card?.taskId ?? '');
      if (message.direction !== 'out' || !match) continue;
      const leadId = Number(match[1]);
      cards.set(leadId, [...(cards.get(leadId) ?? []), Date.parse(message.at)]);
    }
  }
  return cards;
}

/** Polls the emulator until every lead answered 201 has a card, or `timeoutMs` passes. */
async function waitForCards(
  emulator: Emulator,
  members: Members,
  leads: LeadRecord[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const created = leads.filter((l) => l.leadId !== null).length;
  for (;;) {
    if (collectCards(emulator, members).size >= created) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

const epochMs = (value: unknown): number | null => (value instanceof Date ? value.getTime() : null);

async function outboxTimes(pool: mysql.Pool): Promise<Map<number, OutboxTimes>> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT o.lead_id, o.status, o.attempts, o.created_at, o.first_attempt_at, o.sent_at
       FROM outbox o JOIN cards c ON c.id = o.card_id
      WHERE o.kind = 'card' AND c.template = 'new-lead'`,
  );
  const times = new Map<number, OutboxTimes>();
  for (const row of rows) {
    times.set(Number(row.lead_id), {
      leadId: Number(row.lead_id),
      status: String(row.status),
      attempts: Number(row.attempts),
      createdAt: epochMs(row.created_at) ?? 0,
      firstAttemptAt: epochMs(row.first_attempt_at),
      sentAt: epochMs(row.sent_at),
    });
  }
  return times;
}

async function countLeads(pool: mysql.Pool): Promise<number> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM leads');
  return Number(rows[0]?.n ?? 0);
}

function check(run: RunResult): void {
  const { failures, leads, cards, outbox } = run;
  const rejected = leads.filter((l) => l.status !== 201);
  if (rejected.length > 0) {
    const statuses = fmtCounts(
      countBy(rejected.map((l) => (l.status === null ? (l.error ?? 'error') : String(l.status)))),
    );
    failures.push(`${rejected.length} leads not answered 201 (${statuses})`);
  }
  const created = new Set(leads.flatMap((l) => (l.leadId === null ? [] : [l.leadId])));
  if (run.leadRows !== created.size) {
    failures.push(`${run.leadRows} leads in the database, ${created.size} answered 201`);
  }
  const twice = [...cards.entries()].filter(([, times]) => times.length > 1);
  if (twice.length > 0) {
    failures.push(`${twice.length} leads got their new-lead card more than once, e.g. lead ${twice[0]![0]}`);
  }
  const unknown = [...cards.keys()].filter((id) => !created.has(id));
  if (unknown.length > 0) failures.push(`cards for ${unknown.length} leads nobody created`);
  const withoutCard = [...created].filter((id) => !cards.has(id));
  if (withoutCard.length > 0) {
    const example = withoutCard[0]!;
    failures.push(
      `${withoutCard.length} leads without a new-lead card ${DRAIN_TIMEOUT_MS / 1000} s after the last 201, ` +
        `e.g. lead ${example} (outbox ${JSON.stringify(outbox.get(example) ?? 'no row')})`,
    );
  }
  const notSent = [...outbox.values()].filter((o) => cards.has(o.leadId) && o.status !== 'sent');
  if (notSent.length > 0) {
    failures.push(`${notSent.length} delivered cards not recorded as sent (${notSent[0]!.status})`);
  }
  if (run.stats.dropped_rate_limited > 0) {
    failures.push(
      `WeCom (the emulator) silently dropped ${run.stats.dropped_rate_limited} cards (rate limit)`,
    );
  }
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

// ---------------------------------------------------------------------------------------------------
// Report

interface Latencies {
  cardAfter201: Distribution;
  answer: Distribution;
  stages: { label: string; values: Distribution }[];
  retried: number;
  delivered: number;
  created: number;
}

function latencies(run: RunResult): Latencies {
  const measured = run.leads.filter((l) => l.measured && l.leadId !== null);
  const cardAfter201: number[] = [];
  const toQueued: number[] = [];
  const toClaim: number[] = [];
  const claimToCard: number[] = [];
  const cardToRecorded: number[] = [];
  let retried = 0;
  let delivered = 0;
  for (const lead of measured) {
    const card = run.cards.get(lead.leadId!)?.[0];
    const row = run.outbox.get(lead.leadId!);
    if (row && row.attempts > 1) retried++;
    if (card === undefined) continue;
    delivered++;
    cardAfter201.push(card - lead.answeredWallMs);
    if (!row) continue;
    toQueued.push(row.createdAt - lead.answeredWallMs);
    if (row.firstAttemptAt !== null) {
      toClaim.push(row.firstAttemptAt - row.createdAt);
      claimToCard.push(card - row.firstAttemptAt);
    }
    if (row.sentAt !== null) cardToRecorded.push(row.sentAt - card);
  }
  return {
    cardAfter201: distribution(cardAfter201),
    answer: distribution(measured.map((l) => l.answerMs)),
    stages: [
      {
        label: '201 received → assigned, card queued (assign timer → routing transaction; outbox.created_at)',
        values: distribution(toQueued),
      },
      { label: 'card queued → outbox row claimed (first_attempt_at)', values: distribution(toClaim) },
      { label: 'claimed → card accepted by the emulator (message/send)', values: distribution(claimToCard) },
      {
        label: 'card accepted → send recorded (sent_at; after the measure)',
        values: distribution(cardToRecorded),
      },
    ],
    retried,
    delivered,
    created: measured.length,
  };
}

function render(options: BenchOptions, run: RunResult): string {
  const judged = options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const l = latencies(run);
  const d = l.cardAfter201;
  const allCreated = run.leads.filter((x) => x.leadId !== null).length;
  const allCards = [...run.cards.values()].reduce((sum, times) => sum + times.length, 0);
  const poolSize = process.env.DATABASE_POOL_SIZE || '10';
  const stage = (s: { label: string; values: Distribution }) =>
    `| ${s.label} | ${fmtMs(s.values.p50)} | ${fmtMs(s.values.p90)} | ${fmtMs(s.values.p99)} | ${fmtMs(s.values.max)} |`;
  return [
    `## speed-to-lead${options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- speed-to-lead\`: new leads POSTed to \`${INTAKE_PATH}\` evenly paced at ${RATE}/s ` +
      '(bench/lib/paced.ts: open loop, keep-alive; not autocannon `overallRate`, whose per-connection share ' +
      `leaves at the top of each second) for ${run.seconds} s after a ${options.warmupSeconds} s warm-up at the same ` +
      `rate. Server in a child process (pool ${poolSize}, production settings, timer and outbox workers with ` +
      "their defaults), its WeCom API the emulator in the bench process over loopback, with WeCom's limits. " +
      `Generated org: ${run.org.teams} teams routed by province, ${fmtInt(run.org.reps)} reps, so round robin keeps each ` +
      `rep under ${REP_CARDS_PER_MINUTE} cards a minute (WeCom: 30); every lead grade A or B (grade C goes to the ` +
      `nurture pool without a card). card − 201 = the time the emulator accepted the ` +
      "lead's new-lead card (the `at` it stamps on the delivered message) − the time the 201 arrived at the load " +
      'generator: same process, same clock, ms resolution.',
    '',
    '| leads sent | answered 201 | 201 answer p50 / p99 ms | cards / leads | card − 201 p50 ms | p90 ms | p99 ms | max ms |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${run.seconds} s × ${fmtInt(run.offeredRate)}/s | ${fmtInt(l.created)} | ${fmtMs(l.answer.p50)} / ${fmtMs(l.answer.p99)} | ` +
      `${fmtInt(l.delivered)} / ${fmtInt(l.created)} | ${fmtMs(d.p50)} | ${fmtMs(d.p90)} | ${fmtMs(d.p99)} | ${fmtMs(d.max)} |`,
    '',
    `Per lead, from its send until its card (intake, assignment, card, SLA timers scheduled): server child CPU ` +
      `${fmtUs(run.serverCpuUs)}, database CPU ${fmtUs(run.databaseCpuUs)}, ${run.statements.toFixed(1)} statements ` +
      `(${run.breakdown}; server-wide counters). At ${RATE} leads/s the server's one thread needs ` +
      `${run.serverCpuUs === null ? 'n/a' : `${((run.serverCpuUs * RATE) / 1e6).toFixed(2)} of a core`}.`,
    '',
    '| where the time goes (measured leads), ms | p50 | p90 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...l.stages.map(stage),
    '',
    `- p99 card − 201 at ${RATE} leads/s: **${fmtMs(d.p99)} ms** (target < ${TARGET_P99_MS} ms) ` +
      `${mark(d.p99 < TARGET_P99_MS)}${judged}.`,
    `- Cards: ${fmtInt(allCards)} new-lead cards for ${fmtInt(allCreated)} leads answered 201 (warm-up included), ` +
      `${fmtInt(run.leadRows)} leads in the database; every lead exactly one card ${mark(run.failures.length === 0)}; ` +
      `${l.retried} sends needed a retry; emulator: ${fmtInt(run.stats.sent)} message/send ok, ` +
      `${run.stats.gettoken_calls} gettoken, ${run.stats.dropped_rate_limited} dropped by its rate limits. ` +
      `Last card ${fmtInt(run.drainMs)} ms after the last 201.`,
    `- Sender: ${fmtInt(run.offeredRate)} leads/s offered, timer lag max ${fmtMs(run.lagMax)} ms; the bench ` +
      `process's event loop (load generator + emulator, it stamps both ends) stalled at most ${fmtMs(run.loopDelayMaxMs)} ms; ` +
      `other processes on the machine kept ${run.otherCores === null ? 'n/a' : run.otherCores.toFixed(2)} cores busy ` +
      '(above ~0.1, someone else shared the 2 cores and the timings suffer).',
    `- Correctness: ${run.failures.length === 0 ? 'every lead 201, every card delivered exactly once, nothing dropped ✓' : `**${run.failures.length} failures** ✗`}`,
    '',
    run.machine,
  ].join('\n');
}

export const speedToLeadBenchmark: Benchmark = {
  name: 'speed-to-lead',
  description: `201 of POST /api/v1/leads → new-lead card at the WeCom emulator, ${RATE} leads/s for ${DEFAULT_SECONDS} s`,
  run: runSpeedToLead,
};
