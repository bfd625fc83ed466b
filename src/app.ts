import Koa from 'koa';
import { availabilityRoutes } from './availability/routes';
import type { DingtalkSettings, Env, WecomSettings } from './config/env';
import type { readJournal } from './db/migrate';
import { healthRoutes } from './health/routes';
import { errorHandler } from './http/error-handler';
import { loadShedding } from './http/load-shedding';
import { requestContext } from './http/request-context';
import type { Inbox } from './inbox/inbox';
import type { AssignDeps } from './leads/assign-lead';
import type { IntakeDeps } from './leads/intake';
import { leadRoutes } from './leads/routes';
import type { Logging } from './lib/logger';
import type { Metrics } from './metrics/metrics';
import { requestDurations } from './metrics/request-durations';
import { metricsRoutes } from './metrics/routes';
import { openApiRoutes } from './openapi/routes';
import { dingtalkCallbackRoutes } from './platforms/dingtalk/routes';
import { wecomCallbackRoutes } from './platforms/wecom/routes';
import { reportRoutes } from './reports/routes';
import type { SourceKeyAuthenticator } from './sources/api-keys';

/** Everything the HTTP app needs, built by the composition root (main.ts) or by a test. */
export interface AppDeps extends IntakeDeps, AssignDeps {
  env: Env;
  logging: Logging;
  sourceKeys: SourceKeyAuthenticator;
  journal: ReturnType<typeof readJournal>;
  inbox: Inbox;
  /** Prometheus registry and recorders of this server (GET /metrics). */
  metrics: Metrics;
  /** Set when WeCom is configured: its callback routes are mounted. */
  wecom: WecomSettings | null;
  /** Set when DingTalk is configured: its callback routes are mounted. */
  dingtalk?: DingtalkSettings | null;
  /** Wakes the outbox worker after a transaction that queued messages has committed. */
  notifyOutbox(): void;
  /** Wakes the timer worker after a transaction that scheduled a timer due soon has committed. */
  notifyTimers(): void;
  isShuttingDown(): boolean;
}

/** The Koa app with its middleware and routers. It never listens: main.ts and tests do. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  app.use(requestContext(deps.logging));
  app.use(requestDurations(deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(
    loadShedding({ maxInFlight: deps.env.MAX_IN_FLIGHT_REQUESTS, retryAfterSeconds: 1, logger: deps.logger }),
  );
  const routers = [healthRoutes(deps), leadRoutes(deps), availabilityRoutes(deps), reportRoutes(deps)];
  routers.push(metricsRoutes(deps), openApiRoutes());
  if (deps.wecom) {
    routers.push(
      wecomCallbackRoutes({
        settings: deps.wecom,
        clock: deps.clock,
        logger: deps.logger,
        accept: (event, appId) => deps.inbox.accept(event, appId),
      }),
    );
  }
  if (deps.dingtalk) {
    routers.push(
      dingtalkCallbackRoutes({
        settings: deps.dingtalk,
        clock: deps.clock,
        logger: deps.logger,
        accept: (event, appId) => deps.inbox.accept(event, appId),
      }),
    );
  }
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
