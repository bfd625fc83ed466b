/**
 * The server child of `npm run bench -- intake`: the real server, started exactly as src/main.ts does
 * (openRuntime from the environment, then startServer: same app, pool, workers and socket timeouts),
 * plus one extra route mounted on the same Koa app through `configureApp`:
 *
 *   POST /bench/baseline: read and parse the JSON body with the same helpers and size cap as the
 *   intake, then one raw `INSERT INTO bench_baseline` through the same mysql2 pool; 201 `{ id }`.
 *
 * That route is the physical floor the intake is measured against (docs BENCHMARKS.md).
 * BENCH_WORKERS=off starts it with `workers: false` (no outbox, timer or inbox workers: the request
 * path alone); anything else (default) runs them in this process, as deployed. Prints
 * `{"benchServerUrl": …}` on stdout when listening; SIGTERM or a closed stdin stops it gracefully.
 */
import Router from '@koa/router';
import type { ResultSetHeader } from 'mysql2';
import { assertJsonContentType, parseJsonBody, readRawBody } from '../src/http/read-body';
import { openRuntime } from '../src/runtime';
import { startServer } from '../src/server';
import { serveAsChild } from './lib/child';

const BASELINE_PATH = '/bench/baseline';

async function main(): Promise<void> {
  const runtime = await openRuntime();
  const { env, database } = runtime;
  const running = await startServer(runtime, {
    port: 0,
    host: '127.0.0.1',
    workers: process.env.BENCH_WORKERS !== 'off',
    configureApp: (app) => {
      const baseline = new Router();
      baseline.post(BASELINE_PATH, async (ctx) => {
        assertJsonContentType(ctx);
        const body = parseJsonBody(await readRawBody(ctx, env.INTAKE_MAX_BYTES));
        const [result] = await database.pool.query<ResultSetHeader>(
          'INSERT INTO bench_baseline (payload, created_at) VALUES (?, NOW(3))',
          [JSON.stringify(body)],
        );
        ctx.status = 201;
        ctx.body = { id: result.insertId };
      });
      app.use(baseline.routes());
      app.use(baseline.allowedMethods());
    },
  });
  serveAsChild(running);
}

main().catch((error: unknown) => {
  console.error('bench server child failed:', error);
  process.exit(1);
});
