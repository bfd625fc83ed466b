import type { Middleware } from 'koa';
import type { Logger } from '../lib/logger';

/**
 * Load shedding (RELIABILITY.md "Tests that prove it": past saturation the server answers 503 with
 * `Retry-After`, never a hang). Without it, requests beyond what the database pool serves queue in
 * the pool without a bound: answers slow down for everyone until clients time out, and WeCom gives up
 * on callbacks that would have been answered in milliseconds a little later.
 *
 * So at most `maxInFlight` requests are handled at once per instance; the next one is answered 503
 * `overloaded` at once, before its body is read, with `Retry-After`. Lead sources, WeCom and DingTalk
 * all retry a 503. Probes and the metrics scrape are never shed: a load balancer must still see the
 * instance alive and ready, and an operator must see why it sheds.
 *
 * A request counts from its headers to its answer, so a client trickling its body occupies a slot
 * until the server's request timeout cuts it (server.ts); the suite `npm run test:load` checks that a
 * few dozen such clients do not hurt the others.
 */
export interface LoadSheddingOptions {
  maxInFlight: number;
  retryAfterSeconds: number;
  /** Called once per shed request (metrics). */
  onShed?: () => void;
  /** Told at most once a second how many requests were shed, instead of one access-log line each. */
  logger?: Pick<Logger, 'warn'>;
}

const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics']);

export function loadShedding(options: LoadSheddingOptions): Middleware & { readonly inFlight: number } {
  let inFlight = 0;
  let shedSinceLog = 0;
  let logPending = false;
  const flushLog = () => {
    logPending = false;
    options.logger?.warn(
      { shed: shedSinceLog, maxInFlight: options.maxInFlight },
      'overloaded: requests answered 503 in the last second',
    );
    shedSinceLog = 0;
  };
  const middleware = (async (ctx, next) => {
    if (NEVER_SHED.has(ctx.path)) return next();
    if (inFlight >= options.maxInFlight) {
      options.onShed?.();
      ctx.state.shed = true;
      shedSinceLog++;
      if (!logPending) {
        logPending = true;
        setTimeout(flushLog, 1000).unref();
      }
      ctx.status = 503;
      ctx.set('Retry-After', String(options.retryAfterSeconds));
      ctx.body = { error: 'overloaded', message: '服务器繁忙，请稍后重试' };
      return;
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  }) as Middleware & { readonly inFlight: number };
  Object.defineProperty(middleware, 'inFlight', { get: () => inFlight });
  return middleware;
}
