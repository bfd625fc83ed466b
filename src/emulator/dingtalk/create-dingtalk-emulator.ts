/**
 * The DingTalk half of the emulator (PLATFORMS.md "What the emulator must reproduce"): the v1.0
 * access token with expiry, robot messages one-to-one and in groups, interactive cards
 * (createAndDeliver to IM_ROBOT / IM_GROUP, PUT updates by outTrackId, callback registration), the
 * custom group robot with its signature and 20-a-minute throttle (130101 for ten minutes), QPS limits,
 * signed HTTP callbacks and a Stream gateway (WebSocket) with re-push of unacknowledged frames, the
 * encrypted event subscription, fault injection, a JSON API and a page. It shares the emulator's HTTP
 * server (create-emulator.ts) and keeps no module-level state.
 */
import type { Server } from 'node:http';
import type { Router } from '@koa/router';
import type Koa from 'koa';
import pino from 'pino';
import { createSystemClock } from '../../lib/clock';
import { registerDingtalkApi } from './api';
import { DingtalkControl } from './control';
import { registerDingtalkEmulatorApi } from './emulator-api';
import { DingtalkFaults } from './faults';
import { DINGTALK_PAGE_CSP, DINGTALK_PAGE_SCRIPT, DINGTALK_PAGE_STYLE, renderDingtalkPage } from './page';
import { DingtalkEmulatorState } from './state';
import { StreamGateway } from './stream-gateway';
import type { DingtalkEmulatorOptions, DingtalkSettings } from './types';

export interface DingtalkEmulator {
  readonly state: DingtalkEmulatorState;
  readonly control: DingtalkControl;
  /** Fault middleware (before the routes) and the routes. */
  install(app: Koa, router: Router): void;
  /** The Stream gateway's WebSocket upgrades, once the server listens. */
  attach(server: Server, baseUrl: string): void;
  close(): void;
}

export function resolveDingtalkSettings(options: DingtalkEmulatorOptions): DingtalkSettings {
  const d = options.dingtalk;
  if (new Set(d.members.map((m) => m.userId)).size !== d.members.length) {
    throw new Error('dingtalk emulator: member userIds must be unique');
  }
  if (
    d.events &&
    (d.events.aesKey.length !== 43 || Buffer.from(`${d.events.aesKey}=`, 'base64').length !== 32)
  ) {
    throw new Error('dingtalk emulator: events.aesKey must be 43 base64 characters');
  }
  return {
    appKey: d.appKey,
    appSecret: d.appSecret,
    robotCode: d.robotCode,
    cardTemplateId: d.cardTemplateId,
    mode: d.mode ?? 'http',
    callbackUrl: d.callbackUrl,
    members: [...d.members],
    groups: [...(d.groups ?? [])],
    customRobots: [...(d.customRobots ?? [])],
    events: d.events ? { ...d.events } : undefined,
    clock: options.clock ?? createSystemClock(),
    tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
    repushMs: options.repushMs ?? 60_000,
    callbackTimeoutMs: options.callbackTimeoutMs ?? 1500,
    callbackRetries: options.callbackRetries ?? 3,
    rateLimits: {
      customRobotPerMinute: 20,
      customRobotThrottleMs: 10 * 60_000,
      apiPerSecond: 40,
      perMemberPerMinute: 40,
      perGroupPerMinute: 40,
      ...options.rateLimits,
    },
    unconfirmed: {
      outTrackIdExists: 'param.outTrackIdExist',
      invalidAppCredentials: 'invalidClientIdOrSecret',
      signCardCallbacks: true,
      ...options.unconfirmed,
    },
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}

export function createDingtalkEmulator(options: DingtalkEmulatorOptions): DingtalkEmulator {
  const settings = resolveDingtalkSettings(options);
  const state = new DingtalkEmulatorState(settings);
  const faults = new DingtalkFaults();
  const stream = new StreamGateway(state, settings);
  const control = new DingtalkControl(state, settings, faults, stream);
  return {
    state,
    control,
    install(app, router) {
      app.use(faults.middleware());
      registerDingtalkApi(router, { state, settings, openStream: () => stream.open() });
      registerDingtalkEmulatorApi(router, state, control);
      router.get('/dingtalk', (ctx) => {
        ctx.type = 'text/html; charset=utf-8';
        ctx.set('Content-Security-Policy', DINGTALK_PAGE_CSP);
        ctx.body = renderDingtalkPage(settings);
      });
      router.get('/dingtalk/page.js', (ctx) => {
        ctx.type = 'application/javascript; charset=utf-8';
        ctx.body = DINGTALK_PAGE_SCRIPT;
      });
      router.get('/dingtalk/page.css', (ctx) => {
        ctx.type = 'text/css; charset=utf-8';
        ctx.body = DINGTALK_PAGE_STYLE;
      });
    },
    attach: (server, baseUrl) => stream.attach(server, baseUrl),
    close() {
      faults.close();
      control.close();
      stream.close();
    },
  };
}
