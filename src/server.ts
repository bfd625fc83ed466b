import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type Koa from 'koa';
import { type AppDeps, createApp } from './app';
import { dingtalkSettings, wecomSettings } from './config/env';
import { readJournal } from './db/migrate';
import { handleInboundEvent } from './inbound/handle-inbound-event';
import { createInbox } from './inbox/inbox';
import { createIntakeCoalescer } from './leads/intake-coalescer';
import { reminderTimerHandlers } from './leads/reminders';
import { createMetrics, type Metrics } from './metrics/metrics';
import { readBacklog } from './metrics/read-backlog';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerOptions } from './outbox/worker';
import { createDingtalkPlatform } from './platforms/dingtalk/adapter';
import { createDingtalkClient, type DingtalkClient } from './platforms/dingtalk/client';
import { type CallbackRegistration, registerCardCallback } from './platforms/dingtalk/register-callback';
import type { DingtalkStream } from './platforms/dingtalk/stream';
import type { ChatPlatform, PlatformName } from './platforms/types';
import { createWecomPlatform } from './platforms/wecom/adapter';
import { createWecomClient } from './platforms/wecom/client';
import { privacyTimerHandlers, schedulePurge } from './privacy/purge-timer';
import { type DigestScheduler, startDigestScheduler } from './reports/digest';
import { leadDepsOf, type Runtime } from './runtime';
import { slaTimerHandlers } from './sla/handlers';
import { createSourceKeyAuthenticator } from './sources/api-keys';
import {
  createTimerWorker,
  type TimerHandlers,
  type TimerWorker,
  type TimerWorkerOptions,
} from './timers/worker';

export interface RunningServer {
  server: Server;
  url: string;
  deps: AppDeps;
  outbox: OutboxWorker;
  timers: TimerWorker;
  /** Graceful stop: refuse new work, let in-flight requests finish (up to the grace), close the pool. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  port: number;
  host: string;
  /** Run the outbox worker and the inbox sweeper in this process (default true). */
  workers?: boolean;
  outbox?: Partial<OutboxWorkerOptions>;
  timers?: Partial<TimerWorkerOptions>;
  /** Prometheus metrics (main.ts passes one with process metrics); a fresh registry by default. */
  metrics?: Metrics;
  /** Schedule the teams' digests and catch up a missed one on start (default true). */
  digests?: boolean;
  /** Adds routes to the app before it listens (benchmarks mount their baseline route this way). */
  configureApp?: (app: Koa, deps: AppDeps) => void;
}

/** The DingTalk client of this deployment (shared by the adapter and the callback registration). */
function createDingtalk(runtime: Runtime): { platform: ChatPlatform; client: DingtalkClient } | null {
  const settings = dingtalkSettings(runtime.env);
  if (!settings) return null;
  const client = createDingtalkClient({
    settings,
    clock: runtime.clock,
    logger: runtime.logging.logger,
    timeoutMs: settings.timeoutMs,
  });
  // A group is a team: its DingTalk group and custom robot come from the org config (secrets usually
  // `${ENV}`), read at send time so no secret sits in the outbox.
  const teams = new Map(runtime.org.teams.map((t) => [t.id, t] as const));
  const platform = createDingtalkPlatform({
    settings,
    client,
    resolveGroup: (groupKey) => {
      const team = teams.get(groupKey);
      if (!team) return undefined;
      const openConversationId = team.dingtalk?.openConversationId;
      const robot = team.digest?.robot?.dingtalk;
      if (!openConversationId && !robot) return undefined;
      return { ...(openConversationId ? { openConversationId } : {}), ...(robot ? { robot } : {}) };
    },
  });
  return { platform, client };
}

/** The chat platforms this deployment has credentials for. */
export function createPlatforms(runtime: Runtime): Map<PlatformName, ChatPlatform> {
  const platforms = new Map<PlatformName, ChatPlatform>();
  const wecom = wecomSettings(runtime.env);
  if (wecom) {
    const client = createWecomClient({
      settings: wecom,
      clock: runtime.clock,
      logger: runtime.logging.logger,
      timeoutMs: wecom.timeoutMs,
    });
    // A group is a team: its robot's webhook key comes from the org config (usually `${ENV}`), read
    // at send time so the secret never sits in the outbox.
    const robots = new Map(
      runtime.org.teams.flatMap((t) =>
        t.digest?.robot?.wecom ? [[t.id, t.digest.robot.wecom] as const] : [],
      ),
    );
    platforms.set(
      'wecom',
      createWecomPlatform({ settings: wecom, client, resolveRobotKey: (groupKey) => robots.get(groupKey) }),
    );
  }
  const dingtalk = createDingtalk(runtime);
  if (dingtalk) platforms.set('dingtalk', dingtalk.platform);
  return platforms;
}

/** The metrics of one server: counters in memory, the backlog gauges read from its database. */
export function createServerMetrics(runtime: Runtime, options: { processMetrics?: boolean } = {}): Metrics {
  return createMetrics({
    readBacklog: () => readBacklog(runtime.database.db),
    onBacklogError: (error) =>
      runtime.logging.logger.warn({ err: (error as Error).message }, 'metrics: backlog read failed'),
    processMetrics: options.processMetrics ?? false,
    now: () => Date.now(),
  });
}

/** Wires the app, the outbox worker and the inbox from a runtime, and listens. */
export async function startServer(runtime: Runtime, options: ServerOptions): Promise<RunningServer> {
  const { env, org, logging, clock, database } = runtime;
  // The intake path and the workers must agree on which platforms exist.
  let shuttingDown = false;
  const platforms = createPlatforms(runtime);
  const leadDeps = leadDepsOf(runtime);
  const metrics = options.metrics ?? createServerMetrics(runtime);
  const outbox = createOutboxWorker({
    db: database.db,
    batchPool: database.batchPool,
    platforms,
    logger: logging.logger,
    options: options.outbox,
  });
  const timers = createTimerWorker({
    db: database.db,
    logger: logging.logger,
    handlers: notifyingOutbox(
      {
        ...slaTimerHandlers(leadDeps, { onBreach: (breach) => metrics.countSlaBreach(breach) }),
        ...reminderTimerHandlers(leadDeps),
        ...privacyTimerHandlers(leadDeps),
      },
      () => outbox.notify(),
    ),
    // Many handlers may wait on one coalesced assignment batch; the pool limits real DB work.
    options: options.timers,
  });
  const inbox = createInbox({
    db: database.db,
    pool: database.pool,
    logger: logging.logger,
    now: () => clock.now(),
    handle: async (event) => {
      await handleInboundEvent(leadDeps, event);
      // Card clicks and chat messages queue replies and card updates.
      if (event.kind === 'card_action' || event.kind === 'text') outbox.notify();
    },
  });
  // Concurrent lead submissions share transactions (leads/intake-coalescer.ts); one per server.
  const intakeCoalescer = createIntakeCoalescer(leadDeps);
  const deps: AppDeps = {
    ...leadDeps,
    intakeCoalescer,
    env,
    logging,
    journal: readJournal(),
    sourceKeys: createSourceKeyAuthenticator({
      db: database.db,
      sourceIds: new Set(org.sources.map((s) => s.id)),
      cacheSeconds: env.API_KEY_CACHE_SECONDS,
      now: () => Date.now(),
    }),
    inbox,
    metrics,
    wecom: wecomSettings(env),
    dingtalk: dingtalkSettings(env),
    notifyOutbox: () => outbox.notify(),
    notifyTimers: () => timers.notify(),
    isShuttingDown: () => shuttingDown,
  };
  const app = createApp(deps);
  options.configureApp?.(app, deps);
  // Slow clients must not hold sockets forever (slowloris): cap header and whole-request time. Node
  // enforces both only when it checks its connections, every 30 s by default, which let a client
  // trickling 1 byte/s keep its socket for up to 40 s past the header deadline: check every second
  // (`npm run test:load` measures when slow clients are cut).
  const server = createServer(
    {
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
    },
    app.callback(),
  );
  server.listen({ port: options.port, host: options.host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // DingTalk's inbound side: a Stream connection, or (HTTP mode) the card callback registration.
  const dingtalk = dingtalkSettings(env);
  let stream: DingtalkStream | undefined;
  let registration: CallbackRegistration | undefined;
  if (dingtalk?.mode === 'stream') {
    // Loaded only here: dingtalk-stream and its client cost ~5 MB of heap a WeCom-only server never uses.
    const { createDingtalkStream } = await import('./platforms/dingtalk/stream');
    stream = createDingtalkStream({
      settings: dingtalk,
      clock,
      logger: logging.logger,
      accept: (event, appId) => inbox.accept(event, appId),
    });
    void stream.start();
  } else if (dingtalk) {
    const client = createDingtalkClient({
      settings: dingtalk,
      clock,
      logger: logging.logger,
      timeoutMs: dingtalk.timeoutMs,
    });
    registration = registerCardCallback({ settings: dingtalk, client, logger: logging.logger });
  }
  let digests: DigestScheduler | undefined;
  if (options.workers !== false) {
    outbox.start();
    timers.start();
    inbox.startSweeper();
    // The daily retention purge: one timer row per local date, whichever instance schedules it first.
    void schedulePurge(leadDeps).catch((error) =>
      logging.logger.error({ err: error }, 'privacy: scheduling the purge failed'),
    );
    if (options.digests !== false) {
      const instance = `${hostname()}:${process.pid}`;
      const scheduler = startDigestScheduler(leadDeps, { instance, onQueued: () => outbox.notify() });
      digests = scheduler;
      // A digest whose time passed while no instance was up goes out now, marked late.
      void scheduler
        .catchUp()
        .catch((error) => logging.logger.error({ err: error }, 'digest catch-up failed'));
    }
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      digests?.stop();
      stream?.stop();
      registration?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, env.SHUTDOWN_GRACE_MS).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      // Submissions already handed to a shared transaction are written before the pool closes.
      await intakeCoalescer.drain();
      // Let sends and inbound processing in progress record their results before the pool closes.
      await Promise.all([outbox.stop(), timers.stop(), inbox.stop()]);
      await database.close();
    })();
    return stopping;
  };
  return { server, url, deps, outbox, timers, stop };
}

/** Timer handlers queue messages; wake the outbox as soon as each one has committed. */
function notifyingOutbox(handlers: TimerHandlers, notify: () => void): TimerHandlers {
  return Object.fromEntries(
    Object.entries(handlers).map(([kind, handle]) => [
      kind,
      async (timer: Parameters<TimerHandlers[string]>[0]) => {
        await handle(timer);
        notify();
      },
    ]),
  );
}
