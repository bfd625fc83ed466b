import Router from '@koa/router';
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../app';
import { migrationStatus } from '../db/migrate';

/**
 * `/healthz`: the process answers (liveness). `/readyz`: the database answers and every shipped
 * migration is applied (readiness: a load balancer sends traffic only then).
 */
export function healthRoutes(deps: AppDeps): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await deps.db.execute(sql`SELECT 1`);
      const migrations = await migrationStatus(deps.db, deps.journal);
      const ready = migrations.pending === 0 && !deps.isShuttingDown();
      ctx.status = ready ? 200 : 503;
      ctx.body = {
        status: ready ? 'ready' : 'not_ready',
        database: 'ok',
        migrations,
        ...(deps.isShuttingDown() ? { shuttingDown: true } : {}),
      };
    } catch (error) {
      deps.logger.warn({ err: (error as Error).message }, 'readiness check failed');
      ctx.status = 503;
      ctx.body = { status: 'not_ready', database: 'unreachable' };
    }
  });
  return router;
}
