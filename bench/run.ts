/**
 * `npm run bench` runs every benchmark, `npm run bench -- NAME [NAME…]` the named ones.
 *
 * Flags: --duration SECONDS (per scenario, default 15), --connections N (default 50), --record
 * (prepend the report to bench/RESULTS.md), --smoke (also when CI=true: 2 s per scenario, timings
 * never judged), --profile (V8 CPU profile of the server child, summarised on stderr).
 *
 * Environment: BENCH_DATABASE_URL (MySQL/MariaDB server for the throw-away databases, default
 * mysql://root@127.0.0.1:3306/), DATABASE_POOL_SIZE (passed to the server child as in production),
 * BENCH_LOG_LEVEL (the server child's LOG_LEVEL, default silent; `error` shows why requests failed).
 *
 * Exit code: 0 when every benchmark ran without errors, 1 on errors (non-2xx, lost rows, a crash)
 * or an unknown name; never because of a timing. To add a benchmark, write bench/NAME.ts exporting
 * a `Benchmark` and list it in BENCHMARKS.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callbacksBenchmark } from './callbacks';
import { digestBenchmark } from './digest';
import { importBenchmark } from './import';
import { intakeBenchmark } from './intake';
import type { Benchmark, BenchOptions } from './lib/bench';
import { runCleanups } from './lib/cleanup';
import { mainThreadProfile, summariseProfile } from './lib/profile';
import { prependResults, RESULTS_FILE } from './lib/results';
import { speedToLeadBenchmark } from './speed-to-lead';
import { timersBenchmark } from './timers';

const BENCHMARKS: Benchmark[] = [
  intakeBenchmark,
  callbacksBenchmark,
  speedToLeadBenchmark,
  timersBenchmark,
  importBenchmark,
  digestBenchmark,
];

interface Cli {
  names: string[];
  record: boolean;
  profile: boolean;
  options: Omit<BenchOptions, 'cpuProfileDir'>;
}

function listing(): string {
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  return BENCHMARKS.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`).join('\n');
}

function usage(): string {
  return [
    'usage: npm run bench -- [NAME…] [--duration SECONDS] [--connections N] [--record] [--smoke] [--profile]',
    '',
    'benchmarks:',
    listing(),
  ].join('\n');
}

function positiveInt(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!raw || !Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive whole number`);
  return value;
}

function parseCli(argv: string[]): Cli {
  const names: string[] = [];
  let record = false;
  let profile = false;
  let smoke = process.env.CI === 'true' || process.env.CI === '1';
  let duration: number | undefined;
  let connections = 50;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--duration':
        duration = positiveInt(flag, value());
        break;
      case '--connections':
        connections = positiveInt(flag, value());
        break;
      case '--record':
        record = true;
        break;
      case '--smoke':
        smoke = true;
        break;
      case '--profile':
        profile = true;
        break;
      case '--help':
      case '-h':
        console.log(usage());
        process.exit(0);
        break;
      default:
        if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
        names.push(arg);
    }
  }
  return {
    names,
    record,
    profile,
    options: {
      durationSeconds: duration ?? (smoke ? 2 : 15),
      durationGiven: duration !== undefined,
      warmupSeconds: smoke ? 1 : 3,
      connections,
      smoke,
      log: (message) => process.stderr.write(`[bench] ${message}\n`),
    },
  };
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage()}`);
    return 1;
  }
  const unknown = cli.names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; available:\n${listing()}`);
    return 1;
  }
  const selected = cli.names.length > 0 ? BENCHMARKS.filter((b) => cli.names.includes(b.name)) : BENCHMARKS;

  const blocks: string[] = [];
  let failed = false;
  for (const benchmark of selected) {
    const cpuProfileDir = cli.profile
      ? mkdtempSync(path.join(os.tmpdir(), `leadrelay-bench-${benchmark.name}-`))
      : null;
    cli.options.log(`${benchmark.name}: ${benchmark.description}`);
    try {
      const report = await benchmark.run({ ...cli.options, cpuProfileDir });
      console.log(`\n${report.markdown}\n`);
      blocks.push(report.markdown);
      if (report.failures.length > 0) {
        failed = true;
        console.error(`${benchmark.name} FAILED:\n${report.failures.map((f) => `  - ${f}`).join('\n')}`);
      }
    } catch (error) {
      failed = true;
      console.error(`${benchmark.name} crashed:`, error);
    }
    const profile = cpuProfileDir ? mainThreadProfile(cpuProfileDir) : null;
    if (profile) console.error(`\n${summariseProfile(profile)}\n`);
  }
  if (cli.record && blocks.length > 0) {
    prependResults(blocks);
    cli.options.log(`recorded in ${path.relative(process.cwd(), RESULTS_FILE)}`);
  }
  return failed ? 1 : 0;
}

// Ctrl-C reaches this process twice (from the terminal and relayed by tsx): clean up once, ignore
// the repeats instead of dying half-way through dropping the database.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n[bench] ${signal}: cleaning up\n`);
    void runCleanups().finally(() => process.exit(130));
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
