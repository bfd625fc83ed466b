import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logging } from '../lib/logger';

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new UUID), returns
 * it on every response, attaches it to every log line written while the request runs, and writes one
 * access-log line per request: method, route, status, duration. Never headers or bodies.
 */
export function requestContext(logging: Logging): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    await logging.runWithContext({ requestId }, async () => {
      try {
        await next();
      } finally {
        // A request shed under overload is counted, not logged one by one (http/load-shedding.ts):
        // thousands of error lines a second would only deepen the overload.
        if (ctx.state.shed !== true) {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const level = ctx.status >= 500 ? 'error' : 'info';
          logging.logger[level](
            { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 },
            'request',
          );
        }
      }
    });
  };
}
