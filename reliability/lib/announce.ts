import { serveAsChild } from '../../bench/lib/child';
import { READY_KEY } from './child';

/**
 * The child's side of lib/child.ts: announce the URL on stdout, then stop gracefully on SIGTERM or
 * SIGINT, or when stdin closes (the suite died), and exit. The bench's protocol under this suite's key.
 */
export function announce(running: { url: string; stop(): Promise<void> }): void {
  serveAsChild(running, READY_KEY);
}

/** A number from the environment, or the fallback. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
}
