import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of a process from /proc (Linux only; null elsewhere or when unreadable), so a benchmark can
 * say how much server and database CPU one request costs, a figure that holds up better than req/s
 * on a noisy shared machine.
 */
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU milliseconds used so far by `pid` (all threads). */
export function cpuMillis(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : null;
  } catch {
    return null;
  }
}

/** The local mariadbd/mysqld process, when the database runs on this machine. */
export function findDatabasePid(): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') return Number(entry);
    } catch {
      // The process went away while we looked.
    }
  }
  return null;
}

/**
 * Busy CPU milliseconds of the whole machine so far (all cores: user, nice, system, irq, softirq,
 * steal; not idle or iowait), from /proc/stat; null where unreadable.
 */
export function machineBusyMillis(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const ticks = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : null;
  } catch {
    return null;
  }
}

/** This process's own CPU milliseconds (user + system). */
export function ownCpuMillis(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Measures, over a window, how many cores the processes outside the benchmark (not the server child,
 * the database or this process) kept busy: on a shared machine, a figure above ~0.1 means someone else
 * was running something and the window's timings are suspect.
 */
export function otherLoadMeter(pids: (number | null)[]): () => number | null {
  const sample = () => {
    const machine = machineBusyMillis();
    const ours = pids.map(cpuMillis);
    if (machine === null || ours.some((v) => v === null)) return null;
    return {
      machine,
      ours: (ours as number[]).reduce((a, b) => a + b, 0) + ownCpuMillis(),
      at: performance.now(),
    };
  };
  const start = sample();
  return () => {
    const end = sample();
    if (!start || !end || end.at <= start.at) return null;
    return Math.max(0, end.machine - start.machine - (end.ours - start.ours)) / (end.at - start.at);
  };
}
