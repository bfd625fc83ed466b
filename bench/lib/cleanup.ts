/**
 * Things to undo if the run is interrupted (Ctrl-C) before a benchmark's own `finally` gets to them:
 * stop the server child, drop the database. Each benchmark registers and unregisters its own.
 */
const cleanups = new Set<() => Promise<void>>();

export function registerCleanup(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

export async function runCleanups(): Promise<void> {
  const pending = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of pending) await fn().catch(() => undefined);
}
