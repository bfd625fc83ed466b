import type { Db, Tx } from './client';

/** MySQL error numbers a transaction may be retried on. */
export const ER_DUP_ENTRY = 1062;
export const ER_LOCK_WAIT_TIMEOUT = 1205;
export const ER_LOCK_DEADLOCK = 1213;

export function mysqlErrno(error: unknown): number | undefined {
  let current: unknown = error;
  // drizzle wraps driver errors; the errno sits on the cause.
  for (let depth = 0; current && depth < 4; depth++) {
    const errno = (current as { errno?: unknown }).errno;
    if (typeof errno === 'number') return errno;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface TransactionOptions {
  /** Retry the whole function on these errnos (deadlocks and lock waits always). */
  retryOn?: number[];
  attempts?: number;
  /** Defaults to the session's READ COMMITTED (set per connection in client.ts). */
  isolationLevel?: 'read committed' | 'repeatable read';
}

/**
 * Runs `fn` in one transaction, re-running it from the start when MySQL reports a deadlock, a lock
 * wait timeout, or (when asked) a duplicate key: a unique index decided a race and the next attempt
 * will see the winner's committed row. `fn` must therefore be free of side effects outside `tx`.
 */
export async function withTransaction<T>(
  db: Db,
  fn: (tx: Tx) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retryable = new Set([ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, ...(options.retryOn ?? [])]);
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(
        fn,
        options.isolationLevel ? { isolationLevel: options.isolationLevel } : undefined,
      );
    } catch (error) {
      const errno = mysqlErrno(error);
      if (attempt >= attempts || errno === undefined || !retryable.has(errno)) throw error;
      // A short, jittered pause lets the winner commit before we look again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
