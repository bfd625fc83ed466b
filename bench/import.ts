import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type mysql from 'mysql2/promise';
import { type Expected, writeCsv, writeXlsx } from './import-data';
import type { Benchmark, BenchOptions, BenchReport } from './lib/bench';
import { registerCleanup } from './lib/cleanup';
import { createBenchDatabase } from './lib/database';
import { machineLine } from './lib/machine';
import { cpuMillis, findDatabasePid, machineBusyMillis, ownCpuMillis } from './lib/proc';
import { fmtInt, mark } from './lib/stats';

/**
 * `npm run bench -- import`: 100k generated lead rows (bench/import-data.ts: Chinese names,
 * companies and provinces, 1 in 12 rows an earlier person again, 1 in 33 unusable) written as a GBK
 * CSV (Chinese Excel's "CSV (逗号分隔)"), a UTF-8 CSV with BOM and an XLSX with shared strings, each
 * imported by `node dist/cli/main.js import FILE --source website` (compiled as `npm run build`
 * does) into a fresh database. Figures: rows/s of the import itself (from the command's summary:
 * read, validate, dedupe, write; not process start-up), peak RSS of the command's process (VmHWM),
 * CPU of the command and of the database. Targets (docs BENCHMARKS.md): ≥ 5,000 rows/s and peak RSS < 300 MB. Fails only on
 * correctness: counts in the database that differ from what the generator says.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const ORG_FIXTURE = path.resolve(__dirname, '../test/fixtures/org.test.jsonc');
const SOURCE_ID = 'website';
const ROWS = 100_000;
const SMOKE_ROWS = 5_000;
const TARGET_ROWS_PER_SECOND = 5_000;
const TARGET_RSS_MB = 300;
const SAMPLE_MS = 50;

interface Run {
  label: string;
  bytes: number;
  summary: CliSummary;
  maxRssMb: number;
  childCpuMs: number | null;
  databaseCpuMs: number | null;
  wallMs: number;
  otherCores: number | null;
  failures: string[];
}

/** What `leadrelay import` printed, read back from its summary lines. */
interface CliSummary {
  rows: number;
  created: number;
  merged: number;
  rejected: number;
  rejectsFile: string | null;
  elapsedMs: number;
  rowsPerSecond: number;
}

const num = (text: string) => Number(text.replace(/,/g, ''));

export function parseSummary(lines: string[]): CliSummary {
  const text = lines.join('\n');
  const counts =
    /数据行 ([\d,]+)：新建 ([\d,]+)，合并（重复）([\d,]+)，拒绝 ([\d,]+)(?:（见 (.+?)）)?$/m.exec(text);
  const timing = /耗时 ([\d.]+) 秒，([\d,]+) 行\/秒/.exec(text);
  if (!counts || !timing) throw new Error(`unexpected import summary:\n${text}`);
  return {
    rows: num(counts[1]!),
    created: num(counts[2]!),
    merged: num(counts[3]!),
    rejected: num(counts[4]!),
    rejectsFile: counts[5] ?? null,
    elapsedMs: Number(timing[1]) * 1000,
    rowsPerSecond: num(timing[2]!),
  };
}

/**
 * The shipped form of the command: `npm run build`'s compiler run (tsconfig.build.json) into a
 * scratch directory laid out like the Docker image (dist/ beside node_modules, drizzle, cards,
 * config), so the figures are those of `node dist/cli/main.js`, not of tsx compiling on the fly.
 */
function buildCli(dir: string, log: (message: string) => void): string {
  const app = path.join(dir, 'app');
  log('compiling src/ as `npm run build` does (tsconfig.build.json) into a scratch directory');
  const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  // Type errors elsewhere in a working tree do not stop tsc from emitting; the check is the file.
  spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist'), '--sourceMap', 'false'],
    {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    },
  );
  const main = path.join(app, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error(`the build did not produce ${main}`);
  for (const link of ['node_modules', 'drizzle', 'cards', 'config']) {
    symlinkSync(path.join(REPO_ROOT, link), path.join(app, link));
  }
  return main;
}

/** Peak RSS (VmHWM) and CPU of a running process, sampled until it exits. */
function sampleProcess(pid: number): { stop(): { maxRssKb: number; cpuMs: number | null } } {
  let maxRssKb = 0;
  let cpuMs: number | null = null;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) maxRssKb = Math.max(maxRssKb, Number(hwm[1]));
      cpuMs = cpuMillis(pid) ?? cpuMs;
    } catch {
      // Gone already.
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return { maxRssKb, cpuMs };
    },
  };
}

async function runCli(
  main: string,
  file: string,
  databaseUrl: string,
): Promise<{ lines: string[]; maxRssKb: number; cpuMs: number | null }> {
  const child = spawn(process.execPath, [main, 'import', file, '--source', SOURCE_ID], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      LEADRELAY_CONFIG: ORG_FIXTURE,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = registerCleanup(async () => {
    child.kill('SIGKILL');
  });
  const sampler = sampleProcess(child.pid!);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  // The progress lines (stderr, not a terminal here) go to the operator.
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[import] ${line}\n`));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  unregister();
  const sampled = sampler.stop();
  if (code !== 0) throw new Error(`leadrelay import exited with code ${code}:\n${lines.join('\n')}`);
  return { lines, ...sampled };
}

async function count(pool: mysql.Pool, sql: string): Promise<number> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>(sql);
  return Number(rows[0]?.n ?? 0);
}

async function importOnce(
  main: string,
  label: string,
  file: string,
  expected: Expected,
  log: (message: string) => void,
): Promise<Run> {
  const database = await createBenchDatabase('import');
  try {
    const databasePid = findDatabasePid();
    log(`${label}: importing ${path.basename(file)} into ${database.name}`);
    const databaseBefore = cpuMillis(databasePid);
    const machineBefore = machineBusyMillis();
    const ownBefore = ownCpuMillis();
    const started = performance.now();
    const result = await runCli(main, file, database.url);
    const wallMs = performance.now() - started;
    const databaseAfter = cpuMillis(databasePid);
    const machineAfter = machineBusyMillis();
    const databaseCpuMs =
      databaseBefore === null || databaseAfter === null ? null : databaseAfter - databaseBefore;
    // Cores kept busy by everything but the import, the database and this process.
    const otherCores =
      machineBefore === null || machineAfter === null || databaseCpuMs === null || result.cpuMs === null
        ? null
        : Math.max(
            0,
            machineAfter - machineBefore - databaseCpuMs - result.cpuMs - (ownCpuMillis() - ownBefore),
          ) / wallMs;
    const summary = parseSummary(result.lines);

    const failures: string[] = [];
    const expect = (what: string, actual: number, wanted: number) => {
      if (actual !== wanted) failures.push(`${label}: ${what} ${fmtInt(actual)}, expected ${fmtInt(wanted)}`);
    };
    expect('summary rows', summary.rows, expected.rows);
    expect('summary created', summary.created, expected.people);
    expect('summary merged', summary.merged, expected.duplicates);
    expect('summary rejected', summary.rejected, expected.invalid);
    expect('leads', await count(database.pool, 'SELECT COUNT(*) AS n FROM leads'), expected.people);
    expect(
      'lead.created events',
      await count(database.pool, "SELECT COUNT(*) AS n FROM lead_events WHERE type = 'lead.created'"),
      expected.people,
    );
    expect(
      'lead.duplicate events',
      await count(database.pool, "SELECT COUNT(*) AS n FROM lead_events WHERE type = 'lead.duplicate'"),
      expected.duplicates,
    );
    expect(
      'pending lead.assign timers',
      await count(
        database.pool,
        "SELECT COUNT(*) AS n FROM timers WHERE kind = 'lead.assign' AND status = 'pending'",
      ),
      expected.people,
    );
    expect(
      'rejected_payloads',
      await count(database.pool, 'SELECT COUNT(*) AS n FROM rejected_payloads'),
      expected.invalid,
    );
    const rejectsLines = summary.rejectsFile ? countLines(summary.rejectsFile) - 1 : 0;
    expect('rejects file rows', rejectsLines, expected.invalid);
    log(
      `  ${fmtInt(summary.rowsPerSecond)} rows/s, peak RSS ${(result.maxRssKb / 1024).toFixed(0)} MB, ` +
        `${failures.length === 0 ? 'counts as expected' : failures.join('; ')}`,
    );
    return {
      label,
      bytes: statSync(file).size,
      summary,
      maxRssMb: result.maxRssKb / 1024,
      childCpuMs: result.cpuMs,
      databaseCpuMs:
        databaseBefore === null || databaseAfter === null ? null : databaseAfter - databaseBefore,
      wallMs,
      otherCores,
      failures,
    };
  } finally {
    await database.drop().catch((error: unknown) => log(`could not drop ${database.name}: ${String(error)}`));
  }
}

function countLines(file: string): number {
  // Rows end in CRLF; a line break inside a quoted cell is a bare LF.
  return readFileSync(file, 'utf8')
    .split('\r\n')
    .filter((line) => line !== '').length;
}

async function runImportBench(options: BenchOptions): Promise<BenchReport> {
  const rows = Number(process.env.BENCH_IMPORT_ROWS) || (options.smoke ? SMOKE_ROWS : ROWS);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-bench-import-'));
  const unregister = registerCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const log = options.log;
  try {
    const machineDatabase = await createBenchDatabase('importver');
    const version = machineDatabase.version;
    await machineDatabase.drop();
    const machine = machineLine(version);

    log(`generating ${fmtInt(rows)} rows as GBK CSV, UTF-8 CSV and XLSX in ${dir}`);
    const files = [
      { label: 'CSV, GBK (Excel "CSV (逗号分隔)")', file: path.join(dir, 'leads-gbk.csv') },
      { label: 'CSV, UTF-8 with BOM', file: path.join(dir, 'leads-utf8.csv') },
      { label: 'XLSX (shared strings)', file: path.join(dir, 'leads.xlsx') },
    ];
    const expected = await writeCsv(files[0]!.file, rows, 'gb18030');
    await writeCsv(files[1]!.file, rows, 'utf8');
    await writeXlsx(files[2]!.file, rows);

    const main = buildCli(dir, log);
    const runs: Run[] = [];
    for (const { label, file } of files) runs.push(await importOnce(main, label, file, expected, log));
    const failures = runs.flatMap((r) => r.failures);
    return { markdown: render(options, rows, expected, runs, machine, failures), failures };
  } finally {
    unregister();
    rmSync(dir, { recursive: true, force: true });
  }
}

function render(
  options: BenchOptions,
  rows: number,
  expected: Expected,
  runs: Run[],
  machine: string,
  failures: string[],
): string {
  const judged = options.smoke ? ' (smoke run: indicative only, not judged)' : '';
  const slowest = Math.min(...runs.map((r) => r.summary.rowsPerSecond));
  const largest = Math.max(...runs.map((r) => r.maxRssMb));
  const perRow = (ms: number | null) => (ms === null ? 'n/a' : `${fmtInt((ms * 1000) / rows)} µs`);
  return [
    `## import${options.smoke ? ' (smoke)' : ''} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`npm run bench -- import\`: ${fmtInt(rows)} generated rows (bench/import-data.ts: Chinese names, ` +
      'companies, provinces, budgets and needs; 1 row in 12 an earlier person again in another phone format, ' +
      '1 in 33 unusable: a landline, a mistyped e-mail, no contact, a short mobile), the same rows as three ' +
      'files, each imported by `node dist/cli/main.js import FILE --source website` (src/ compiled as ' +
      '`npm run build` does, default batch of 1,000 rows, no server running) into a fresh database. rows/s = ' +
      "rows ÷ the import's own elapsed time from its summary (open, read, validate, dedupe, write; not process " +
      "start-up); peak RSS = VmHWM of the command's process; CPU/row = CPU time of the command and of the " +
      'database process ÷ rows; process wall = spawn to exit. Other processes = cores kept busy by everything ' +
      'else during the run (above ~0.1 the machine was shared and the timings suffer).',
    '',
    '| file | size | rows | created | merged | rejected | import s | rows/s | peak RSS | importer CPU/row | DB CPU/row | process wall s | other processes (cores) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...runs.map(
      (r) =>
        `| ${r.label} | ${(r.bytes / 2 ** 20).toFixed(1)} MB | ${fmtInt(r.summary.rows)} | ${fmtInt(r.summary.created)} | ` +
        `${fmtInt(r.summary.merged)} | ${fmtInt(r.summary.rejected)} | ${(r.summary.elapsedMs / 1000).toFixed(1)} | ` +
        `${fmtInt(r.summary.rowsPerSecond)} | ${r.maxRssMb.toFixed(0)} MB | ${perRow(r.childCpuMs)} | ` +
        `${perRow(r.databaseCpuMs)} | ${(r.wallMs / 1000).toFixed(1)} | ${r.otherCores === null ? 'n/a' : r.otherCores.toFixed(2)} |`,
    ),
    '',
    `- Slowest import: **${fmtInt(slowest)} rows/s** (target ≥ ${fmtInt(TARGET_ROWS_PER_SECOND)}) ` +
      `${mark(slowest >= TARGET_ROWS_PER_SECOND)}${judged}.`,
    `- Largest peak RSS: **${largest.toFixed(0)} MB** (target < ${TARGET_RSS_MB} MB) ${mark(largest < TARGET_RSS_MB)}${judged}.`,
    `- Expected from the generator: ${fmtInt(expected.people)} leads, ${fmtInt(expected.duplicates)} merged, ` +
      `${fmtInt(expected.invalid)} rejected. Checked after each run: the summary, leads, \`lead.created\` and ` +
      '`lead.duplicate` events, pending `lead.assign` timers, `rejected_payloads` and the rejects file.',
    `- Correctness: ${failures.length === 0 ? 'every count as expected in every run ✓' : `**${failures.length} failures** ✗`}`,
    '',
    machine,
  ].join('\n');
}

export const importBenchmark: Benchmark = {
  name: 'import',
  description:
    'leadrelay import of 100k rows (GBK CSV, UTF-8 CSV, XLSX) into a fresh database: rows/s and peak RSS',
  run: runImportBench,
};
