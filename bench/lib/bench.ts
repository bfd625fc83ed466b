/** What every benchmark in bench/ receives and returns. See bench/run.ts for the registry. */
export interface BenchOptions {
  /** Seconds per measured scenario (`--duration`, default 15; 2 in a smoke run). */
  durationSeconds: number;
  /** True when `--duration` was given: a benchmark with a default of its own keeps it otherwise. */
  durationGiven?: boolean;
  /** Seconds of load before each scenario whose figures are discarded (JIT, pool, buffer pool). */
  warmupSeconds: number;
  /** Concurrent HTTP connections of the load generator (`--connections`, default 50). */
  connections: number;
  /** `--smoke` or `CI=true`: short run, timings are shown but never judged. */
  smoke: boolean;
  /** `--profile`: write a V8 CPU profile of the server child into this directory. */
  cpuProfileDir: string | null;
  /** Progress for the operator (stderr); the report itself goes to stdout. */
  log(message: string): void;
}

export interface BenchReport {
  /** A self-contained markdown block: heading, table, targets, machine line. */
  markdown: string;
  /** Correctness failures (non-2xx, connection errors, lost rows). A timing never lands here. */
  failures: string[];
}

export interface Benchmark {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchReport>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
