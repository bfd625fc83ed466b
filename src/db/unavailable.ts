/**
 * Whether an error means "the database cannot be reached right now" (restarting, down, the
 * connection lost mid-query, too many connections) rather than "this statement failed": a request
 * that hits one is answered 503 with Retry-After, so clients and platforms try again, instead of a
 * 500 (found by `npm run test:chaos` while MariaDB restarted).
 */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_CONNECTION_KILLED',
]);

/** MySQL/MariaDB errnos: 1040 too many connections, 1053 shutdown in progress, 1927 connection killed. */
const CONNECTION_ERRNOS = new Set([1040, 1053, 1927]);

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  // drizzle wraps driver errors; the driver's code sits on the cause.
  for (let depth = 0; current && depth < 4; depth++) {
    const { code, errno, fatal } = current as { code?: unknown; errno?: unknown; fatal?: unknown };
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    if (typeof errno === 'number' && CONNECTION_ERRNOS.has(errno)) return true;
    // mysql2 marks errors that broke the connection itself as fatal.
    if (fatal === true && typeof code === 'string' && !code.startsWith('ER_')) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
