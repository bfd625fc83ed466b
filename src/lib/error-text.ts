import { redactContacts } from './mask';

/**
 * Error text that is safe to log or store (`last_error` columns): database errors carry the statement
 * and its parameters (drizzle's `Failed query: … params: 张伟,+8613812345678`, mysql2's `sql`) and
 * MySQL quotes the offending value (`Duplicate entry '+8613812345678-phone'`), i.e. customer data.
 * Found by the PII scan (test/abuse/pii-scan.test.ts): a failed lead write logged the lead.
 */

/** `Failed query: <sql>\nparams: <values>` becomes `Failed query: <sql>`; quoted values become '…'. */
export function redactErrorText(text: string): string {
  const withoutParams = text.replace(/\nparams:[^\n]*/g, '');
  // MySQL's messages quote the values they complain about; keep the words, drop the values.
  const withoutValues = withoutParams.replace(
    /(Duplicate entry|Incorrect \w+ value:?|Data too long for column|Out of range value for column|value|entry) '((?:[^'\\]|\\.)*)'/g,
    (_m, words: string) => `${words} '…'`,
  );
  return redactContacts(withoutValues);
}

/**
 * The error described without any data it carried: `Name: message` (`withName`, the default), or the
 * message alone. A drizzle query error is described by its statement and the driver's error.
 */
export function describeError(error: unknown, withName = true): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const message = redactErrorText(error.message);
    const name = typeOf(error);
    // drizzle wraps the driver's error (its `query` and `params` are the statement and the values).
    if (cause instanceof Error && 'query' in error && 'params' in error) {
      return `${withName ? `${name}: ` : ''}${message.split('\n')[0]}: ${describeError(cause)}`;
    }
    return withName ? `${name}: ${message}` : message;
  }
  return redactErrorText(String(error));
}

/** The class name (`DrizzleQueryError` leaves `name` as plain `Error`). */
function typeOf(error: Error): string {
  const ctor = error.constructor?.name;
  return ctor && ctor !== 'Error' && ctor !== 'Object' ? ctor : error.name;
}

/** Properties of database errors that hold statements or values: never logged. */
const DATA_PROPERTIES = new Set(['query', 'params', 'sql', 'values', 'parameters', 'body', 'data']);

/**
 * pino's `err` serializer, without the data: type, message and stack (redacted), the driver's codes,
 * the cause (the same way). Strings under `err` are redacted too.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (typeof error === 'string') return redactErrorText(error);
  if (!(error instanceof Error)) return error;
  const out: Record<string, unknown> = {
    type: typeOf(error),
    message: redactErrorText(error.message),
  };
  if (error.stack) {
    // The stack's first lines repeat the message; keep only the frames.
    const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line));
    out.stack = [`${out.type}: ${out.message}`, ...frames].join('\n');
  }
  for (const [key, value] of Object.entries(error)) {
    if (DATA_PROPERTIES.has(key) || key === 'cause') continue;
    if (typeof value === 'string')
      out[key] = key === 'sqlMessage' ? redactErrorText(value) : redactContacts(value);
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 5) out.cause = serializeError(cause, depth + 1);
  return out;
}
