import Koa from 'koa';
import type { Env } from './config/env';
import type { OrgConfig } from './config/org-types';
import type { Db } from './db/client';
import type { readJournal } from './db/migrate';
import { healthRoutes } from './health/routes';
import { errorHandler } from './http/error-handler';
import { requestContext } from './http/request-context';
import { leadRoutes } from './leads/routes';
import type { Clock } from './lib/clock';
import type { Logger, Logging } from './lib/logger';
import type { SourceKeyAuthenticator } from './sources/api-keys';

/** Everything the HTTP app needs, built by the composition root (main.ts) or by a test. */
export interface AppDeps {
  env: Env;
  org: OrgConfig;
  db: Db;
  clock: Clock;
  logging: Logging;
  logger: Logger;
  sourceKeys: SourceKeyAuthenticator;
  journal: ReturnType<typeof readJournal>;
  isShuttingDown(): boolean;
}

/** The Koa app with its middleware and routers. It never listens: main.ts and tests do. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  app.use(requestContext(deps.logging));
  app.use(errorHandler(deps.logger));
  for (const router of [healthRoutes(deps), leadRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
