/**
 * The server child of `npm run bench -- callbacks` and `speed-to-lead`: the real server, started
 * exactly as src/main.ts does (openRuntime from the environment, WeCom from the WECOM_* variables, then
 * startServer with its workers), plus one route mounted on the same Koa app through `configureApp`:
 *
 *   POST /bench/bare: answers 200 with an empty body without reading the request (the "bare Koa 200"
 *   of docs/BENCHMARKS.md), behind the same middleware as every other route.
 *
 * Prints `{"benchServerUrl": …}` on stdout when listening; SIGTERM or a closed stdin stops it.
 */
import Router from '@koa/router';
import { openRuntime } from '../src/runtime';
import { startServer } from '../src/server';
import { serveAsChild } from './lib/child';

const BARE_PATH = '/bench/bare';

async function main(): Promise<void> {
  const runtime = await openRuntime();
  const running = await startServer(runtime, {
    port: 0,
    host: '127.0.0.1',
    configureApp: (app) => {
      const bare = new Router();
      bare.post(BARE_PATH, (ctx) => {
        ctx.status = 200;
        ctx.body = '';
      });
      app.use(bare.routes());
      app.use(bare.allowedMethods());
    },
  });
  serveAsChild(running);
}

main().catch((error: unknown) => {
  console.error('bench server child failed:', error);
  process.exit(1);
});
