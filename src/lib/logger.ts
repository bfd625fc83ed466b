import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Per-request (or per-job) context carried into every log line without passing it around. */
export interface LogContext {
  requestId?: string;
  job?: string;
}

export interface Logging {
  logger: Logger;
  /** Runs `fn` with `context` attached to every log line written inside it. */
  runWithContext<T>(context: LogContext, fn: () => T): T;
  context(): LogContext | undefined;
}

/**
 * pino JSON logs. Bodies are never logged; secrets are redacted by path as a second line of defence
 * (RELIABILITY.md: logs carry ids, never raw bodies or secrets).
 */
export function createLogging(options: { level: string; destination?: pino.DestinationStream }): Logging {
  const storage = new AsyncLocalStorage<LogContext>();
  const logger = pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => ({ ...storage.getStore() }),
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["idempotency-key"]',
          'headers.authorization',
          '*.password',
          '*.secret',
          '*.apiKey',
          '*.token',
          'body',
          '*.body',
        ],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
  return {
    logger,
    runWithContext: (context, fn) => storage.run({ ...storage.getStore(), ...context }, fn),
    context: () => storage.getStore(),
  };
}
