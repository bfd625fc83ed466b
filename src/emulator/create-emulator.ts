/**
 * A local stand-in for qyapi.weixin.qq.com, for tests and the demo (PLATFORMS.md, "What the emulator
 * must reproduce"): gettoken with expiring tokens, message/send with the duplicate check, task_id
 * uniqueness and per-member limits, update_template_card with single-use 72-hour response codes, the
 * group robot webhook, signed and encrypted member callbacks with retries, fault injection, a JSON
 * API and a page. No module-level state: every call makes an independent emulator, and time comes
 * only from the injected clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import Koa from 'koa';
import pino from 'pino';
import { createSystemClock } from '../lib/clock';
import { createDingtalkEmulator, type DingtalkEmulator } from './dingtalk/create-dingtalk-emulator';
import type { DingtalkEmulatorConfig, DingtalkEmulatorOptions } from './dingtalk/types';
import { CallbackSender } from './wecom/callback-sender';
import { WecomControl } from './wecom/control';
import { registerEmulatorApi } from './wecom/emulator-api';
import { FaultInjector } from './wecom/faults';
import type { RouteDeps } from './wecom/http-util';
import { handleMessageSend } from './wecom/message-send';
import { PAGE_CSP, renderPage } from './wecom/page';
import { handleRobotSend } from './wecom/robot-webhook';
import { WecomEmulatorState } from './wecom/state';
import { handleGettoken } from './wecom/token-route';
import type { EmulatorOptions, WecomSettings } from './wecom/types';
import { handleUpdateTemplateCard } from './wecom/update-card';

export type { DingtalkEmulator } from './dingtalk/create-dingtalk-emulator';
export type { EmulatorStats } from './wecom/state';
export type * from './wecom/types';
export { WecomControl, WecomEmulatorState };

export interface Emulator {
  /** Listens on `port` (0 = any free port) and resolves to the base URL. */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  /** The base URL once started, '' before. */
  readonly url: string;
  readonly state: WecomEmulatorState;
  readonly control: WecomControl;
  /** The DingTalk emulator, when `dingtalk` settings were given (src/emulator/dingtalk/). */
  readonly dingtalk: DingtalkEmulator | undefined;
}

/** DingTalk's part of the options: its app, members and groups, plus its own timings and limits. */
export type DingtalkEmulatorSettings = DingtalkEmulatorConfig &
  Omit<DingtalkEmulatorOptions, 'dingtalk' | 'clock' | 'logger'>;

function resolveSettings(options: EmulatorOptions): WecomSettings {
  const w = options.wecom;
  if (Buffer.from(`${w.encodingAesKey}=`, 'base64').length !== 32 || w.encodingAesKey.length !== 43) {
    throw new Error('wecom emulator: encodingAesKey must be 43 base64 characters (path 91144)');
  }
  const agentId = Number(w.agentId);
  if (!Number.isInteger(agentId)) throw new Error('wecom emulator: agentId must be an integer');
  if (new Set(w.members.map((m) => m.userid)).size !== w.members.length) {
    throw new Error('wecom emulator: member userids must be unique');
  }
  return {
    corpId: w.corpId,
    corpSecret: w.corpSecret,
    agentId,
    token: w.token,
    encodingAesKey: w.encodingAesKey,
    callbackUrl: w.callbackUrl,
    members: [...w.members],
    groupRobots: [...(w.groupRobots ?? [])],
    clock: options.clock ?? createSystemClock(),
    tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
    // path 91039 once said repeated gettoken calls return the same token while valid; the current page
    // no longer does. 'new' issues a fresh token each call and keeps older ones valid until expiry.
    tokenIssuance: options.tokenIssuance ?? 'new',
    callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
    callbackRetries: options.callbackRetries ?? 3,
    rateLimits: {
      perMemberPerMinute: 30,
      perMemberPerHour: 1000,
      perRobotPerMinute: 20,
      ...options.rateLimits,
    },
    duplicateCheckDefaultSeconds: options.duplicateCheckDefaultSeconds ?? 1800,
    duplicateCheckMaxSeconds: 4 * 3600,
    responseCodeTtlSeconds: options.responseCodeTtlSeconds ?? 72 * 3600,
    errcodes: {
      responseCodeInvalid: 40058,
      contentTooLong: 45002,
      invalidParameter: 40058,
      ...options.errcodes,
    },
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}

function buildApp(
  deps: RouteDeps,
  faults: FaultInjector,
  control: WecomControl,
  dingtalk: DingtalkEmulator | undefined,
): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 413) {
        ctx.status = 413;
        ctx.body = { errcode: 45002, errmsg: 'request body too large' };
        return;
      }
      deps.settings.logger.error({ err, path: ctx.path }, 'wecom emulator: handler failed');
      ctx.status = 500;
      ctx.body = { errcode: -1, errmsg: 'system busy (emulator error)' };
    }
  });
  app.use(faults.middleware());
  const router = new Router();
  dingtalk?.install(app, router);
  router.get('/cgi-bin/gettoken', (ctx) => handleGettoken(ctx, deps));
  router.post('/cgi-bin/message/send', (ctx) => handleMessageSend(ctx, deps));
  router.post('/cgi-bin/message/update_template_card', (ctx) => handleUpdateTemplateCard(ctx, deps));
  router.post('/cgi-bin/webhook/send', (ctx) => handleRobotSend(ctx, deps));
  registerEmulatorApi(router, deps, control);
  router.get('/', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', PAGE_CSP);
    const page = renderPage(deps.settings);
    // The DingTalk chats have their own page (dingtalk/page.ts); link it from the WeCom top bar.
    ctx.body = dingtalk
      ? page.replace('<span id="live"', '<a class="corp" href="/dingtalk">钉钉模拟器 →</a><span id="live"')
      : page;
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

export function createEmulator(options: EmulatorOptions & { dingtalk?: DingtalkEmulatorSettings }): Emulator {
  const settings = resolveSettings(options);
  let dingtalk: DingtalkEmulator | undefined;
  if (options.dingtalk) {
    const {
      repushMs,
      tokenTtlSeconds,
      callbackTimeoutMs,
      callbackRetries,
      rateLimits,
      unconfirmed,
      ...config
    } = options.dingtalk;
    dingtalk = createDingtalkEmulator({
      dingtalk: config,
      clock: settings.clock,
      logger: settings.logger,
      ...(repushMs !== undefined ? { repushMs } : {}),
      ...(tokenTtlSeconds !== undefined ? { tokenTtlSeconds } : {}),
      ...(callbackTimeoutMs !== undefined ? { callbackTimeoutMs } : {}),
      ...(callbackRetries !== undefined ? { callbackRetries } : {}),
      ...(rateLimits ? { rateLimits } : {}),
      ...(unconfirmed ? { unconfirmed } : {}),
    });
  }
  const state = new WecomEmulatorState(settings);
  const deps: RouteDeps = { state, settings };
  const faults = new FaultInjector();
  const sender = new CallbackSender(deps);
  const control = new WecomControl(deps, sender, faults);
  const app = buildApp(deps, faults, control, dingtalk);
  let server: Server | undefined;
  let url = '';

  return {
    get url() {
      return url;
    },
    state,
    control,
    dingtalk,
    async start(port = 0, host = '127.0.0.1') {
      if (server) throw new Error('wecom emulator: already started');
      const s = createServer(app.callback());
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => resolve());
      });
      server = s;
      const address = s.address() as AddressInfo;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
      dingtalk?.attach(s, url);
      settings.logger.info({ url }, 'wecom emulator listening');
      return url;
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      url = '';
      faults.close();
      sender.close();
      dingtalk?.close();
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    },
  };
}
