/**
 * The server child of `npm run bench -- digest`: the real server, started as src/main.ts does
 * (openRuntime from the environment, then startServer: same app, pool, workers), so the reports API
 * answers exactly as deployed, plus one extra route mounted on the same Koa app through
 * `configureApp`:
 *
 *   GET /bench/baseline?from=YYYY-MM-DD&to=YYYY-MM-DD&team=ID: the cohort a report reads (the team's
 *   leads created in the period, the same local dates to instants), counted by one indexed
 *   `COUNT(*)` on `leads_team_created_idx` through the same pool; 200 `{ newLeads }`.
 *
 * That route is the floor the reports are measured against (docs BENCHMARKS.md): the same HTTP
 * stack, admin check and period parsing, and the cheapest query over the same rows. Prints
 * `{"benchServerUrl": …}` on stdout when listening; SIGTERM or a closed stdin stops it gracefully.
 */
import Router from '@koa/router';
import type mysql from 'mysql2/promise';
import { assertAdmin } from '../src/http/auth';
import { periodOfLocalDates } from '../src/reports/report-period';
import { openRuntime } from '../src/runtime';
import { startServer } from '../src/server';
import { serveAsChild } from './lib/child';

export const BASELINE_PATH = '/bench/baseline';

async function main(): Promise<void> {
  const runtime = await openRuntime();
  const { env, org, database } = runtime;
  const running = await startServer(runtime, {
    port: 0,
    host: '127.0.0.1',
    configureApp: (app) => {
      const baseline = new Router();
      baseline.get(BASELINE_PATH, async (ctx) => {
        assertAdmin(ctx, env.ADMIN_API_KEY);
        const { from, to, team } = ctx.query as Record<string, string>;
        const timeZone = org.teams.find((t) => t.id === team)?.timezone ?? org.timezone;
        const period = periodOfLocalDates(timeZone, from ?? '', to ?? from ?? '');
        if (!period || !team) {
          ctx.status = 400;
          ctx.body = { error: 'from, to and team are required' };
          return;
        }
        const [rows] = await database.pool.query<mysql.RowDataPacket[]>(
          'SELECT COUNT(*) AS n FROM leads WHERE team_id = ? AND created_at >= ? AND created_at < ?',
          [team, period.from, period.to],
        );
        ctx.body = { newLeads: Number(rows[0]?.n ?? 0) };
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
