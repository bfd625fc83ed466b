/**
 * `npm run test:load`: LeadRelay held at 300 intake requests/s plus WeCom callbacks for minutes, then
 * pushed past saturation and fed slow clients (RELIABILITY.md "Tests that prove it", docs issue 9).
 *
 * Starts its own MariaDB (a temporary data directory, another port), the WeCom emulator, and one
 * LeadRelay instance as the Docker image runs it: built with `tsc -p tsconfig.build.json` into the
 * run's directory and started as `node dist/main.js` (routing, SLA timers, outbox and inbox workers
 * in the process); then:
 *
 * 1. steady: new leads evenly paced at LOAD_RATE (300/s) and signed, encrypted text callbacks from
 *    200 members at LOAD_CALLBACK_RATE (20/s) for LOAD_DURATION seconds (after a warm-up). Judged:
 *    intake and callback p99 < 100 ms, no error or unexpected status, every lead answered 201 stored,
 *    every callback answered 200 in the inbox; memory flat: the least-squares slope of the server's
 *    RSS over the steady phase (first quarter left out) < LOAD_RSS_SLOPE_MAX MB/min, and RSS under
 *    200 MB (docs BENCHMARKS.md); the V8 heap (from its /metrics) is reported for the record.
 * 2. slow clients: 20 clients trickling their headers and 20 trickling a body at 1 byte/s while the
 *    paced intake goes on. Judged: header tricklers cut after the 10 s header deadline, body tricklers
 *    after the 30 s request deadline (each within 4 s of it), the others' p99 still < 100 ms, no errors.
 * 3. saturation: autocannon with LOAD_SATURATION_CONNECTIONS (400) connections as fast as they can.
 *    Judged: every request answered (no timeout, no connection error), only 201/200 or 503 with
 *    Retry-After, some 503 (the server did shed), no answer slower than 10 s; then at a normal rate
 *    again every request is 201 within 100 ms (recovered).
 *
 * One lead in ten is grade B and gets a card (the emulator delivers 30 cards/s, inside WeCom's
 * per-member limits over 200 reps); the rest are grade C and go to the nurture pool without a card:
 * a card per lead at 300 leads/s would break WeCom's own limits for any team under 600 reps, and is
 * measured at 100 leads/s by `npm run bench -- speed-to-lead`.
 *
 * Environment: LOAD_DURATION (s, default 300), LOAD_RATE (300), LOAD_CALLBACK_RATE (20),
 * LOAD_WARMUP (s, 15), LOAD_SATURATION_SECONDS (20), LOAD_SATURATION_CONNECTIONS (400),
 * LOAD_RSS_SLOPE_MAX (MB/min, 5), LOAD_SERVER_NODE_OPTIONS (default: the Dockerfile's ENV NODE_OPTIONS),
 * LOAD_KEEP_LOGS=1. Exit 1 on any failed check.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import { machineLine } from '../bench/lib/machine';
import { type PacedRun, runPaced } from '../bench/lib/paced';
import { otherLoadMeter } from '../bench/lib/proc';
import { type Distribution, distribution } from '../bench/lib/stats';
import { benchWecomCredentials, CALLBACK_PATH, CallbackFactory, wecomServerEnv } from '../bench/lib/wecom';
import { createDatabase } from '../src/db/client';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { createApiKey } from '../src/sources/api-keys';
import { envNumber } from './lib/announce';
import { buildAsDeployed, deployedNodeOptions } from './lib/build';
import { ManagedChild } from './lib/child';
import { startGuard } from './lib/guard';
import { startPrivateMariadb } from './lib/mariadb';
import { freePort, sleep } from './lib/ports';
import { liveHeap, rssTrend, sampleHeap, sampleRss } from './lib/rss';

const EMULATOR_SCRIPT = path.resolve(__dirname, 'children/emulator.ts');
const DATABASE = 'leadrelay_load';
const TEAMS = 4;
const REPS_PER_TEAM = 50;
const P99_TARGET_MS = 100;
const RSS_PEAK_TARGET_MB = 200;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** How long after its deadline a slow client may still be connected (the server checks every second). */
const CUT_SLACK_MS = 4_000;
const HANG_MS = 10_000;

const log = (message: string) =>
  process.stderr.write(`[load ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(0) : ms.toFixed(1));

const cleanups: (() => Promise<void>)[] = [];
const children: ManagedChild[] = [];
let keepLogs = process.env.LOAD_KEEP_LOGS === '1';

/** 4 teams of 50 reps routed by province; 制造业 = grade B (a card), anything else = grade C (nurture). */
function writeOrg(file: string): { userids: string[] } {
  const provinces = ['浙江', '江苏', '广东', '四川'];
  const members: unknown[] = [];
  const teams: unknown[] = [];
  const userids: string[] = [];
  for (let t = 0; t < TEAMS; t++) {
    const ids: string[] = [];
    members.push({ id: `sup${t}`, name: `主管${t}`, platforms: { wecom: `Sup${t}` }, weight: 0 });
    for (let r = 0; r < REPS_PER_TEAM; r++) {
      const id = `t${t}r${r}`;
      const userid = `Rep${t}x${r}`;
      members.push({ id, name: `销售${t}-${r}`, platforms: { wecom: userid } });
      ids.push(id);
      userids.push(userid);
    }
    teams.push({ id: `team${t}`, name: `大区${t}`, supervisor: `sup${t}`, members: ids });
  }
  const org = {
    timezone: 'Asia/Shanghai',
    members,
    teams,
    routing: {
      rules: provinces.map((p, t) => ({ name: p, match: { province: [p] }, team: `team${t}` })),
      fallbackTeam: 'team0',
    },
    sources: [{ id: 'website', name: '官网表单', channel: 'web_form' }],
    scoring: {
      fit: [{ field: 'industry', equals: '制造业', points: 40 }],
      behaviour: [],
      grades: { A: 60, B: 30 },
    },
  };
  writeFileSync(file, JSON.stringify(org, null, 2));
  return { userids };
}

const PROVINCES = ['浙江', '江苏', '广东', '四川'];
function leadBody(n: number): string {
  return JSON.stringify({
    name: `负载${n}`,
    phone: `137${String(n).padStart(8, '0')}`,
    company: `负载测试${n}号有限公司`,
    title: '采购经理',
    industry: n % 10 === 0 ? '制造业' : '零售',
    province: PROVINCES[n % PROVINCES.length],
    need: 'MES 选型',
  });
}

interface PacedFigures {
  label: string;
  sent: number;
  rate: number;
  latency: Distribution;
  statuses: Record<string, number>;
  errors: number;
}

function pacedFigures<T>(
  label: string,
  run: PacedRun<T>,
  ok: (status: number | null) => boolean,
): PacedFigures {
  const statuses: Record<string, number> = {};
  let errors = 0;
  for (const a of run.attempts) {
    const key = a.status === null ? (a.error ?? 'error') : String(a.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (!ok(a.status)) errors++;
  }
  return {
    label,
    sent: run.attempts.length,
    rate: run.offeredRate,
    latency: distribution(run.attempts.map((a) => a.answeredAt - a.sentAt)),
    statuses,
    errors,
  };
}

async function main(): Promise<number> {
  const durationS = envNumber('LOAD_DURATION', 300);
  const rate = envNumber('LOAD_RATE', 300);
  const callbackRate = envNumber('LOAD_CALLBACK_RATE', 20);
  const warmupS = envNumber('LOAD_WARMUP', 15);
  const saturationS = envNumber('LOAD_SATURATION_SECONDS', 20);
  const saturationConnections = envNumber('LOAD_SATURATION_CONNECTIONS', 400);
  const slopeMax = envNumber('LOAD_RSS_SLOPE_MAX', 5);
  const failures: string[] = [];

  const base = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-load-'));
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

  const database = await startPrivateMariadb(dbDir, path.join(logs, 'mariadbd.log'));
  cleanups.push(() => database.stop());
  const databaseUrl = `${database.serverUrl}${DATABASE}`;
  await ensureDatabase(database.serverUrl, DATABASE);
  const setup = createDatabase(databaseUrl, { poolSize: 2 });
  await runMigrations(setup.db, setup.pool);
  const { key: apiKey } = await createApiKey(setup.db, {
    sourceId: 'website',
    label: 'load',
    now: new Date(),
  });
  await setup.close();
  const probe = await mysql.createConnection({ uri: databaseUrl });
  const [versionRows] = await probe.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  await probe.end();
  const machine = machineLine(String(versionRows[0]!.v));

  const orgFile = path.join(base, 'org.load.json');
  const { userids } = writeOrg(orgFile);
  const credentials = benchWecomCredentials();
  const emulatorPort = await freePort();
  const serverPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const emulator = new ManagedChild({
    name: 'emulator',
    script: EMULATOR_SCRIPT,
    logFile: path.join(logs, 'emulator.log'),
    env: {
      LEADRELAY_CONFIG: orgFile,
      EMULATOR_PORT: String(emulatorPort),
      EMULATOR_CALLBACK_URL: `${serverUrl}${CALLBACK_PATH}`,
      ...wecomServerEnv(credentials, emulatorUrl),
    },
  });
  children.push(emulator);
  const emulatorControl = await emulator.start();
  cleanups.push(() => emulator.stop());
  log('building LeadRelay as deployed (tsc -p tsconfig.build.json)');
  const mainJs = await buildAsDeployed(base);
  const server = new ManagedChild({
    name: 'server',
    script: mainJs,
    readyUrl: `${serverUrl}/readyz`,
    logFile: path.join(logs, 'server.log'),
    env: {
      DATABASE_URL: databaseUrl,
      LEADRELAY_CONFIG: orgFile,
      PORT: String(serverPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      ...wecomServerEnv(credentials, emulatorUrl),
      // The image's V8 heap settings (Dockerfile ENV NODE_OPTIONS) unless LOAD_SERVER_NODE_OPTIONS overrides.
      NODE_OPTIONS: process.env.LOAD_SERVER_NODE_OPTIONS || deployedNodeOptions(),
    },
  });
  children.push(server);
  await server.start();
  cleanups.push(() => server.stop());
  const rss = sampleRss(server.pid!);
  const idleRss = rss.samples[0]?.mb ?? 0;
  const heap = sampleHeap(`${serverUrl}/metrics`, rss.now);
  cleanups.push(async () => heap.stop());
  cleanups.push(async () => rss.stop());
  log(`server ${serverUrl} (pid ${server.pid}), emulator ${emulatorUrl}, ${machine}`);

  // --- what was answered ------------------------------------------------------------------------------
  let leadNo = 0;
  const created: number[] = [];
  const factories = userids.map(
    (u, i) => new CallbackFactory(credentials, u, 7_200_000_000_000_000_000n + BigInt(i) * 10_000_000n),
  );
  let callbackNo = 0;
  const callbacksOk: string[] = [];
  const intakeHeaders = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };

  const intake = (seconds: number, r = rate) =>
    runPaced<number>({
      url: serverUrl,
      rate: r,
      durationSeconds: seconds,
      headers: intakeHeaders,
      next: () => {
        const n = leadNo++;
        return { path: '/api/v1/leads', body: leadBody(n), tag: n };
      },
    });
  const callbacks = (seconds: number) =>
    runPaced<string>({
      url: serverUrl,
      rate: callbackRate,
      durationSeconds: seconds,
      headers: { 'content-type': 'text/xml' },
      next: () => {
        const signed = factories[callbackNo++ % factories.length]!.build();
        return { path: signed.path, body: signed.body, tag: signed.msgId };
      },
    });
  const collect = (run: PacedRun<number>) => {
    for (const a of run.attempts)
      if (a.status === 201) created.push((JSON.parse(a.body) as { id: number }).id);
  };
  const collectCallbacks = (run: PacedRun<string>) => {
    for (const a of run.attempts) if (a.status === 200) callbacksOk.push(a.item.tag);
  };

  // --- 1. steady ----------------------------------------------------------------------------------------
  log(`warm-up: ${warmupS} s`);
  const [warmIntake, warmCallbacks] = await Promise.all([intake(warmupS), callbacks(warmupS)]);
  collect(warmIntake);
  collectCallbacks(warmCallbacks);
  log(`steady: ${durationS} s at ${rate} leads/s + ${callbackRate} callbacks/s`);
  const steadyFrom = rss.now();
  const others = otherLoadMeter([server.pid, emulator.pid, database.pid]);
  const [steadyIntake, steadyCallbacks] = await Promise.all([intake(durationS), callbacks(durationS)]);
  const otherCores = others();
  const steadyTo = rss.now();
  collect(steadyIntake);
  collectCallbacks(steadyCallbacks);
  const intakeSteady = pacedFigures(`intake @ ${rate}/s`, steadyIntake, (s) => s === 201);
  const callbackSteady = pacedFigures(
    `WeCom text callbacks @ ${callbackRate}/s`,
    steadyCallbacks,
    (s) => s === 200,
  );
  const judged = rss.samples.filter(
    (s) => s.t >= steadyFrom + (steadyTo - steadyFrom) / 4 && s.t <= steadyTo,
  );
  const trend = rssTrend(judged);
  const steadyAll = rssTrend(rss.samples.filter((s) => s.t >= steadyFrom && s.t <= steadyTo));
  for (const f of [intakeSteady, callbackSteady]) {
    if (f.latency.p99 >= P99_TARGET_MS)
      failures.push(`steady ${f.label}: p99 ${fmt(f.latency.p99)} ms ≥ ${P99_TARGET_MS} ms`);
    if (f.errors > 0) failures.push(`steady ${f.label}: ${f.errors} errors (${JSON.stringify(f.statuses)})`);
  }
  const heapTrend = rssTrend(
    liveHeap(heap.samples).filter((x) => x.t >= steadyFrom + (steadyTo - steadyFrom) / 4 && x.t <= steadyTo),
  );
  if (trend.slopeMbPerMin >= slopeMax) {
    failures.push(
      `RSS grows ${trend.slopeMbPerMin.toFixed(2)} MB/min over the steady phase (max ${slopeMax})`,
    );
  }
  if (steadyAll.peak >= RSS_PEAK_TARGET_MB)
    failures.push(`RSS peak ${steadyAll.peak.toFixed(0)} MB ≥ ${RSS_PEAK_TARGET_MB} MB`);

  // --- 2. slow clients ----------------------------------------------------------------------------------
  const slowSeconds = REQUEST_TIMEOUT_MS / 1000 + 8;
  log(`slow clients: 20 trickling headers, 20 trickling a body, ${slowSeconds} s of paced intake meanwhile`);
  const slow = startSlowClients(serverPort, apiKey);
  const slowIntake = await intake(slowSeconds);
  const slowResult = await slow.finish();
  collect(slowIntake);
  const intakeSlow = pacedFigures(`intake @ ${rate}/s with 40 slow clients`, slowIntake, (s) => s === 201);
  if (intakeSlow.latency.p99 >= P99_TARGET_MS)
    failures.push(`slow clients: others' p99 ${fmt(intakeSlow.latency.p99)} ms`);
  if (intakeSlow.errors > 0) failures.push(`slow clients: ${intakeSlow.errors} errors for the others`);
  const cutWithin = (cuts: (number | null)[], deadline: number, what: string) => {
    const open = cuts.filter((c) => c === null).length;
    if (open > 0) failures.push(`${open} ${what} never cut`);
    const late = cuts.filter((c) => c !== null && (c < deadline - 1000 || c > deadline + CUT_SLACK_MS));
    if (late.length > 0)
      failures.push(
        `${what} cut at ${late.map((c) => fmt(c! / 1000)).join(', ')} s (deadline ${deadline / 1000} s)`,
      );
  };
  cutWithin(slowResult.headerCuts, HEADERS_TIMEOUT_MS, 'header tricklers');
  cutWithin(slowResult.bodyCuts, REQUEST_TIMEOUT_MS, 'body tricklers');

  // --- 3. saturation ------------------------------------------------------------------------------------
  log(`saturation: ${saturationConnections} connections for ${saturationS} s`);
  const saturation = await saturate(
    serverUrl,
    intakeHeaders,
    saturationConnections,
    saturationS,
    () => leadNo++,
    created,
  );
  if (saturation.errors > 0 || saturation.timeouts > 0) {
    failures.push(`saturation: ${saturation.errors} connection errors, ${saturation.timeouts} timeouts`);
  }
  if (saturation.unexpected > 0)
    failures.push(`saturation: ${saturation.unexpected} answers other than 201/200/503`);
  if (saturation.shedWithoutRetryAfter > 0)
    failures.push(`saturation: ${saturation.shedWithoutRetryAfter} 503 without Retry-After`);
  if (saturation.shed === 0) failures.push('saturation: the server never shed (not saturated?)');
  if (saturation.maxMs >= HANG_MS) failures.push(`saturation: an answer took ${fmt(saturation.maxMs)} ms`);
  await sleep(3000);
  const recovery = await intake(10, 50);
  collect(recovery);
  const intakeRecovery = pacedFigures('intake @ 50/s after saturation', recovery, (s) => s === 201);
  if (intakeRecovery.errors > 0 || intakeRecovery.latency.p99 >= P99_TARGET_MS) {
    failures.push(`recovery: ${intakeRecovery.errors} errors, p99 ${fmt(intakeRecovery.latency.p99)} ms`);
  }
  rss.stop();
  heap.stop();

  // --- the books: every 201 stored, every 200 callback in the inbox ------------------------------------
  const pool = mysql.createPool({ uri: databaseUrl, connectionLimit: 2 });
  cleanups.push(() => pool.end());
  let missingLeads = 0;
  for (let i = 0; i < created.length; i += 5000) {
    const ids = created.slice(i, i + 5000);
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM leads WHERE id IN (?)',
      [ids],
    );
    missingLeads += ids.length - Number(rows[0]!.n);
  }
  if (new Set(created).size !== created.length) failures.push('an id was answered 201 twice');
  if (missingLeads > 0) failures.push(`${missingLeads} leads answered 201 are not stored`);
  let missingCallbacks = 0;
  for (let i = 0; i < callbacksOk.length; i += 5000) {
    const ids = callbacksOk.slice(i, i + 5000);
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM inbox_events WHERE event_id IN (?)',
      [ids],
    );
    missingCallbacks += ids.length - Number(rows[0]!.n);
  }
  if (missingCallbacks > 0) failures.push(`${missingCallbacks} callbacks answered 200 are not in the inbox`);
  const serverErrors = readFileSync(path.join(logs, 'server.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"level":50') || l.startsWith('{"level":60'));
  const stats = (await (await fetch(`${emulatorControl}/state`)).json()) as { stats: Record<string, number> };

  if (failures.length > 0) keepLogs = true;
  const row = (f: PacedFigures) =>
    `| ${f.label} | ${f.sent.toLocaleString('en-US')} | ${f.rate.toFixed(0)} | ${fmt(f.latency.p50)} | ${fmt(f.latency.p99)} | ${fmt(f.latency.max)} | ${Object.entries(
      f.statuses,
    )
      .map(([s, n]) => `${s} × ${n}`)
      .join(', ')} |`;
  process.stdout.write(
    [
      '',
      `## load — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `\`LOAD_DURATION=${durationS} npm run test:load\`: one LeadRelay instance (workers on, as deployed) in a child ` +
        'process on a private MariaDB, the WeCom emulator in another; load generator on the same box. Requests ' +
        'evenly paced (open loop, keep-alive); latency = send to full answer.',
      '',
      '| phase | requests | req/s | p50 ms | p99 ms | max ms | answers |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      row(intakeSteady),
      row(callbackSteady),
      row(intakeSlow),
      `| saturation: autocannon ${saturationConnections} connections, ${saturationS} s | ${saturation.sent.toLocaleString('en-US')} | ${saturation.rps.toFixed(0)} | ${fmt(saturation.p50)} | ${fmt(saturation.p99)} | ${fmt(saturation.maxMs)} | ${Object.entries(
        saturation.statuses,
      )
        .map(([s, n]) => `${s} × ${n}`)
        .join(', ')}; errors ${saturation.errors}, timeouts ${saturation.timeouts} |`,
      row(intakeRecovery),
      '',
      `- RSS of the server: ${idleRss.toFixed(0)} MB idle after start; over the steady phase ${steadyAll.first.toFixed(0)} → ${steadyAll.last.toFixed(0)} MB, peak ${steadyAll.peak.toFixed(0)} MB; ` +
        `slope over its last three quarters **${trend.slopeMbPerMin.toFixed(2)} MB/min** (max ${slopeMax}); ` +
        `every 30 s: ${everyThirty(rss.samples.filter((x) => x.t >= steadyFrom && x.t <= steadyTo)).join(', ')} MB. ` +
        `For the record, the V8 heap's lowest reading per 20 s (after whatever collections ran): ` +
        `${heapTrend.first.toFixed(0)} → ${heapTrend.last.toFixed(0)} MB, slope ${heapTrend.slopeMbPerMin.toFixed(2)} MB/min.`,
      `- Slow clients (1 byte/s): header tricklers cut after ${describeCuts(slowResult.headerCuts)} s (headersTimeout ${HEADERS_TIMEOUT_MS / 1000} s), ` +
        `body tricklers after ${describeCuts(slowResult.bodyCuts)} s (requestTimeout ${REQUEST_TIMEOUT_MS / 1000} s).`,
      `- Saturation: ${saturation.shed.toLocaleString('en-US')} answers shed (503 + Retry-After), ${saturation.accepted.toLocaleString('en-US')} leads accepted meanwhile; slowest answer ${fmt(saturation.maxMs)} ms.`,
      `- Other processes on the machine kept ${otherCores === null ? 'n/a' : otherCores.toFixed(2)} cores busy during the steady phase (2 cores in all; above ~0.1 someone else shared the machine and the timings suffer).`,
      `- Books: ${created.length.toLocaleString('en-US')} leads answered 201, ${missingLeads} missing; ${callbacksOk.length.toLocaleString('en-US')} callbacks answered 200, ${missingCallbacks} missing from the inbox; ` +
        `server error log lines ${serverErrors.length}; emulator: ${stats.stats.delivered} delivered, ${stats.stats.dropped_rate_limited} dropped by WeCom's limits.`,
      `- Result: ${failures.length === 0 ? 'PASS' : `FAIL — ${failures.join('; ')}`}`,
      '',
      machine,
      '',
    ].join('\n'),
  );
  return failures.length === 0 ? 0 : 1;
}

/** One RSS sample per 30 s, for the record. */
function everyThirty(samples: { t: number; mb: number }[]): string[] {
  const out: string[] = [];
  let next = samples[0]?.t ?? 0;
  for (const x of samples) {
    if (x.t >= next) {
      out.push(x.mb.toFixed(0));
      next = x.t + 30;
    }
  }
  return out;
}

function describeCuts(cuts: (number | null)[]): string {
  const done = cuts.filter((c): c is number => c !== null).sort((a, b) => a - b);
  if (done.length === 0) return 'never';
  return `${fmt(done[0]! / 1000)}–${fmt(done[done.length - 1]! / 1000)}`;
}

/** 20 clients sending a header byte per second, 20 sending full headers and then a body byte per second. */
function startSlowClients(port: number, apiKey: string) {
  const headerCuts: (number | null)[] = new Array(20).fill(null);
  const bodyCuts: (number | null)[] = new Array(20).fill(null);
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const open = (cuts: (number | null)[], i: number, head: string, trickle: string) => {
    const socket = connect(port, '127.0.0.1');
    const opened = performance.now();
    socket.on('error', () => undefined);
    socket.on('close', () => (cuts[i] = performance.now() - opened));
    socket.on('data', () => undefined);
    let k = 0;
    // Headers complete at once, then the body trickles; or the headers themselves trickle from byte one.
    if (head) socket.write(head);
    else socket.write(trickle[k++]!);
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(trickle[k++ % trickle.length]!);
    }, 1000);
    sockets.push(socket);
    timers.push(timer);
  };
  for (let i = 0; i < 20; i++) {
    open(headerCuts, i, '', `POST /api/v1/leads HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`);
    open(
      bodyCuts,
      i,
      `POST /api/v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n`,
      `{"name":"慢${'x'.repeat(200)}`,
    );
  }
  return {
    async finish() {
      const deadline = performance.now() + 10_000;
      while ([...headerCuts, ...bodyCuts].some((c) => c === null) && performance.now() < deadline)
        await sleep(200);
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      return { headerCuts, bodyCuts };
    },
  };
}

async function saturate(
  url: string,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
  nextLead: () => number,
  created: number[],
) {
  const statuses: Record<string, number> = {};
  let shed = 0;
  let shedWithoutRetryAfter = 0;
  let unexpected = 0;
  let accepted = 0;
  const result = await autocannon({
    url: `${url}/api/v1/leads`,
    connections,
    duration: seconds,
    timeout: HANG_MS / 1000,
    method: 'POST',
    headers,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, body: leadBody(nextLead()) }),
        onResponse: (status, body, _context, responseHeaders) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 201) {
            accepted++;
            created.push((JSON.parse(body) as { id: number }).id);
          } else if (status === 503) {
            shed++;
            const h = responseHeaders as Record<string, string | undefined> | undefined;
            if (!h?.['retry-after'] && !h?.['Retry-After']) shedWithoutRetryAfter++;
          } else if (status !== 200) unexpected++;
        },
      },
    ],
  });
  return {
    sent: result.requests.sent,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    shed,
    shedWithoutRetryAfter,
    unexpected,
    accepted,
  };
}

async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch((e: Error) => log(`cleanup: ${e.message}`));
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
    log(`load run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    keepLogs = true;
    finish(1);
  },
);
