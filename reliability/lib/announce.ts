import { READY_KEY } from './child';

/**
 * The child's side of lib/child.ts: announce the URL on stdout, then stop gracefully on SIGTERM or
 * SIGINT, or when stdin closes (the suite died), and exit.
 */
export function announce(running: { url: string; stop(): Promise<void> }): void {
  process.stdout.write(`${JSON.stringify({ [READY_KEY]: running.url, pid: process.pid })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('reliability child: error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

/** A number from the environment, or the fallback. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
}
