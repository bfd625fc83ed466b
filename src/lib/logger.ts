import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';
import { serializeError } from './error-text';
import { redactContacts } from './mask';

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

/** Strings of a log object with contact details masked; Errors are left to `serializeError`. */
function redactStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactContacts(value);
  if (depth > 6 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactStrings(item, depth + 1);
  return out;
}

/**
 * pino JSON logs. Bodies are never logged; secrets are redacted by path as a second line of defence
 * (RELIABILITY.md: logs carry ids, never raw bodies or secrets); errors are logged without the data
 * they carry, and phone numbers and e-mail addresses are masked in every line.
 */
export function createLogging(options: { level: string; destination?: pino.DestinationStream }): Logging {
  const storage = new AsyncLocalStorage<LogContext>();
  const logger = pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => ({ ...storage.getStore() }),
      // Errors without the statements and values they carry (database errors quote customer data).
      serializers: { err: serializeError, error: serializeError },
      // Third line: any phone number or e-mail address that reached a log line anyway is masked.
      formatters: { log: (object) => redactStrings(object, 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? redactContacts(arg) : arg)) as Parameters<
              typeof method
            >,
          );
        },
      },
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
