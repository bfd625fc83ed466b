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
import { URL_KEY } from './lib/child';

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
  process.stdout.write(`${JSON.stringify({ [URL_KEY]: running.url, pid: process.pid })}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      // A normal exit, so that `--cpu-prof` writes its profile.
      () => process.exit(0),
      (error: unknown) => {
        console.error('bench server child: error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((error: unknown) => {
  console.error('bench server child failed:', error);
  process.exit(1);
});
