import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppDeps, createApp } from './app';
import { readJournal } from './db/migrate';
import type { Runtime } from './runtime';
import { createSourceKeyAuthenticator } from './sources/api-keys';

export interface RunningServer {
  server: Server;
  url: string;
  deps: AppDeps;
  /** Graceful stop: refuse new work, let in-flight requests finish (up to the grace), close the pool. */
  stop(): Promise<void>;
}

/** Wires the app from a runtime and listens. Used by main.ts, the demo and end-to-end tests. */
export async function startServer(
  runtime: Runtime,
  listen: { port: number; host: string },
): Promise<RunningServer> {
  const { env, org, logging, clock, database } = runtime;
  let shuttingDown = false;
  const deps: AppDeps = {
    env,
    org,
    db: database.db,
    clock,
    logging,
    logger: logging.logger,
    journal: readJournal(),
    sourceKeys: createSourceKeyAuthenticator({
      db: database.db,
      sourceIds: new Set(org.sources.map((s) => s.id)),
      cacheSeconds: env.API_KEY_CACHE_SECONDS,
      now: () => Date.now(),
    }),
    isShuttingDown: () => shuttingDown,
  };
  const app = createApp(deps);
  const server = app.listen({ port: listen.port, host: listen.host });
  // Slow clients must not hold sockets forever (slowloris): cap header and whole-request time.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, env.SHUTDOWN_GRACE_MS).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      await database.close();
    })();
    return stopping;
  };
  return { server, url, deps, stop };
}
