import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { registerCleanup } from './cleanup';

export interface ChildServer {
  url: string;
  pid: number;
  /** SIGTERM (graceful stop in the child), SIGKILL after 15 s; safe to call twice. */
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '../..');
/** The key of the JSON line a server child prints once it listens: `{"benchServerUrl": "http://…"}`. */
export const URL_KEY = 'benchServerUrl';

/**
 * Runs a TypeScript server script in its own Node process (`node --import tsx`), so the load
 * generator never shares the server's event loop. The script prints one JSON line
 * `{"benchServerUrl": …}` on stdout once it listens, stops gracefully on SIGTERM, and stops when its
 * stdin closes (the parent died). Its other stdout lines (logs) are passed on to stderr.
 */
export async function startChildServer(
  script: string,
  env: Record<string, string>,
  options: { cpuProfileDir: string | null; log(message: string): void },
): Promise<ChildServer> {
  const nodeArgs = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, '--cpu-prof-interval=500']
    : [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      unregister();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    })();
    return stopping;
  };
  const unregister = registerCleanup(stop);
  try {
    const url = await readUrl(child, exited);
    options.log(`server child pid ${child.pid} listening on ${url}`);
    return { url, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function readUrl(child: ChildProcess, exited: Promise<number | null>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error('server child did not report its URL within 60 s')),
      60_000,
    );
    let found = false;
    lines.on('line', (line) => {
      if (!found && line.includes(`"${URL_KEY}"`)) {
        const url = (JSON.parse(line) as Record<string, unknown>)[URL_KEY];
        if (typeof url === 'string') {
          found = true;
          clearTimeout(timer);
          resolve(url);
          return;
        }
      }
      // The server's own log lines (BENCH_LOG_LEVEL) go to stderr, out of the report's way.
      process.stderr.write(`[server] ${line}\n`);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server child exited with code ${code} before listening`));
    });
  });
}

/**
 * The child's side of the protocol above: announce the server's URL on stdout, then stop it
 * gracefully on SIGTERM, SIGINT or when the parent closes stdin (the parent died), and exit normally
 * so that `--cpu-prof` writes its profile.
 */
export function serveAsChild(
  running: { url: string; stop(): Promise<void> },
  /** The key the parent looks for (reliability/lib/child.ts has its own). */
  key: string = URL_KEY,
): void {
  process.stdout.write(`${JSON.stringify({ [key]: running.url, pid: process.pid })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('child: error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}
