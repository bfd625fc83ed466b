import { readFileSync } from 'node:fs';

/** Resident set size of a process in MB (VmRSS from /proc), or null when it cannot be read. */
export function rssMb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface RssSample {
  /** Seconds since the sampler started. */
  t: number;
  mb: number;
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 1000) {
  const samples: RssSample[] = [];
  const started = performance.now();
  const take = () => {
    const mb = rssMb(pid);
    if (mb !== null) samples.push({ t: (performance.now() - started) / 1000, mb });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    /** Seconds since start, for marking phases. */
    now: () => (performance.now() - started) / 1000,
    stop: () => clearInterval(timer),
  };
}

/** Least-squares slope of RSS over time, in MB per minute, and the fit's start and end values. */
export function rssTrend(samples: RssSample[]): {
  slopeMbPerMin: number;
  first: number;
  last: number;
  peak: number;
} {
  const n = samples.length;
  if (n < 2)
    return {
      slopeMbPerMin: 0,
      first: samples[0]?.mb ?? 0,
      last: samples[0]?.mb ?? 0,
      peak: samples[0]?.mb ?? 0,
    };
  const meanT = samples.reduce((s, x) => s + x.t, 0) / n;
  const meanM = samples.reduce((s, x) => s + x.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - meanT) * (x.mb - meanM);
    den += (x.t - meanT) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  return {
    slopeMbPerMin: slope * 60,
    first: samples[0]!.mb,
    last: samples[n - 1]!.mb,
    peak: Math.max(...samples.map((x) => x.mb)),
  };
}

/**
 * The V8 heap in use, read from the server's own `GET /metrics` (prom-client's default metrics,
 * `leadrelay_nodejs_heap_size_used_bytes`) every `everyMs`, on the clock of `now`.
 */
export function sampleHeap(metricsUrl: string, now: () => number, everyMs = 2000) {
  const samples: RssSample[] = [];
  const take = async () => {
    try {
      const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) })).text();
      const match = /^leadrelay_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
      if (match) samples.push({ t: now(), mb: Number(match[1]) / 1048576 });
    } catch {
      // A scrape that times out under saturation is simply missing.
    }
  };
  const timer = setInterval(() => void take(), everyMs);
  return { samples, stop: () => clearInterval(timer) };
}

/**
 * The heap left after garbage collection, approximated by the lowest reading of each window: what a
 * leak makes grow, whatever V8 does with the rest (RSS follows the heap's capacity, not its content).
 */
export function liveHeap(samples: RssSample[], windowS = 20): RssSample[] {
  const windows = new Map<number, RssSample>();
  for (const x of samples) {
    const k = Math.floor(x.t / windowS);
    const low = windows.get(k);
    if (!low || x.mb < low.mb) windows.set(k, { t: k * windowS + windowS / 2, mb: x.mb });
  }
  return [...windows.values()].sort((a, b) => a.t - b.t);
}
