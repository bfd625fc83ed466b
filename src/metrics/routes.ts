import Router from '@koa/router';
import type { Env } from '../config/env';
import { bearerToken, secretsEqual } from '../http/auth';
import { unauthorized } from '../lib/errors';
import type { Metrics } from './metrics';

export interface MetricsRouteDeps {
  metrics: Metrics;
  env: Pick<Env, 'METRICS_TOKEN'>;
}

/**
 * `GET /metrics` in the Prometheus text format. With `METRICS_TOKEN` set, a scrape must send
 * `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: …}`); without it the
 * endpoint is open, for a network where only Prometheus reaches the port. It carries counts, route
 * templates and source ids, never personal data; the backlog it reads from MySQL is cached for a
 * few seconds, so scraping it often costs one query per interval.
 */
export function metricsRoutes(deps: MetricsRouteDeps): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    const expected = deps.env.METRICS_TOKEN;
    if (expected) {
      const token = bearerToken(ctx);
      if (!token || !secretsEqual(token, expected)) throw unauthorized('指标令牌无效（METRICS_TOKEN）');
    }
    const text = await deps.metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.contentType;
    ctx.body = text;
  });
  return router;
}
