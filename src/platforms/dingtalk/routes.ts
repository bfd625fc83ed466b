import Router from '@koa/router';
import type { Context } from 'koa';
import type { DingtalkSettings } from '../../config/env';
import { rawHeaderMap } from '../../http/raw-headers';
import { parseJsonBody, readRawBody } from '../../http/read-body';
import type { Clock } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { InboundEvent } from '../types';
import { decodeEventAesKey, encryptedAnswer } from './crypto';
import {
  cardCallbackEvent,
  cardCallbackSchema,
  robotMessageEvent,
  robotMessageSchema,
  subscriptionEvent,
} from './events';
import {
  cardCallbackToken,
  verifyCardCallbackToken,
  verifyEventRequest,
  verifyRobotCallback,
} from './verify-callback';

export interface DingtalkRouteDeps {
  settings: DingtalkSettings;
  clock: Clock;
  logger: Logger;
  /** Stores the verified event durably (the inbox); processing happens after the answer. */
  accept(event: InboundEvent, appId: string): Promise<'accepted' | 'duplicate'>;
  /** Longest we wait for the store before answering 503 so DingTalk retries (its deadline is 1.5 s). */
  acceptTimeoutMs?: number;
}

/** RELIABILITY.md "Inbound" 1: callbacks are small. */
export const MAX_CALLBACK_BYTES = 64 * 1024;

type Status = 400 | 401 | 413 | 415 | 422 | 503;

function refuse(ctx: Context, status: Status, log: Logger, reason: string): void {
  log.warn({ status, reason, path: ctx.routerPath ?? ctx.path }, 'dingtalk callback refused');
  ctx.status = status;
  ctx.body = '';
}

/** Reads a JSON body under the cap: 415 → 413, before any signature is looked at. */
async function readBody(ctx: Context, log: Logger): Promise<Buffer | undefined> {
  if (!ctx.is('application/json')) {
    refuse(ctx, 415, log, 'content_type');
    return undefined;
  }
  try {
    return await readRawBody(ctx, MAX_CALLBACK_BYTES);
  } catch (error) {
    if (error instanceof AppError && error.status === 413) {
      refuse(ctx, 413, log, 'too_large');
      return undefined;
    }
    throw error;
  }
}

function parse(raw: Buffer): unknown | typeof MALFORMED {
  try {
    return parseJsonBody(raw);
  } catch {
    return MALFORMED;
  }
}
const MALFORMED = Symbol('malformed');

/**
 * DingTalk's HTTP callbacks, each rejected in the fixed order of RELIABILITY.md "Inbound" 2 (415, 413,
 * 400 missing headers or parameters, 401 signature, 400 malformed JSON, 422 schema), then stored in
 * the inbox (deduped) and answered at once; bodies are never logged.
 *
 * - `POST /callbacks/dingtalk`: robot messages (机器人接收消息, HTTP mode).
 * - `POST /callbacks/dingtalk/card/:token`: card clicks (the URL registered at start, verify-callback.ts).
 * - `POST /callbacks/dingtalk/events`: the encrypted event subscription, answered with the encrypted
 *   `success` (check_url included) well within DingTalk's 1500 ms. Mounted when configured.
 */
export function dingtalkCallbackRoutes(deps: DingtalkRouteDeps): Router {
  const { settings, logger } = deps;
  const router = new Router({ prefix: '/callbacks/dingtalk' });
  const cardToken = cardCallbackToken(settings.appSecret, settings.callbackRouteKey);
  const eventKey = settings.event ? decodeEventAesKey(settings.event.aesKey) : undefined;

  async function store(ctx: Context, event: InboundEvent, ok: () => void): Promise<void> {
    const storing = deps.accept(event, settings.appKey);
    storing.catch(() => undefined);
    const stored = await withTimeout(storing, deps.acceptTimeoutMs ?? 800);
    if (stored === 'timeout') {
      logger.error({ eventKind: event.kind }, 'inbox store too slow; answering 503 so DingTalk retries');
      ctx.status = 503;
      ctx.body = '';
      return;
    }
    logger.debug({ eventKind: event.kind, eventId: event.eventId, stored }, 'dingtalk callback accepted');
    ok();
  }

  router.post('/', async (ctx) => {
    const raw = await readBody(ctx, logger);
    if (!raw) return;
    const verified = verifyRobotCallback({
      // Raw: a repeated timestamp or sign header is an array here (Node would join it), so it counts as missing.
      headers: rawHeaderMap(ctx.req),
      secrets: [settings.appSecret],
      now: deps.clock.now(),
      windowSeconds: settings.windowSeconds,
    });
    if (!verified.ok) return refuse(ctx, verified.status, logger, verified.reason);
    const body = parse(raw);
    if (body === MALFORMED) return refuse(ctx, 400, logger, 'malformed_json');
    const message = robotMessageSchema.safeParse(body);
    if (!message.success) return refuse(ctx, 422, logger, 'schema');
    await store(ctx, robotMessageEvent(message.data, settings.robotCode), () => {
      ctx.status = 200;
      ctx.body = '';
    });
  });

  router.post('/card/:token', async (ctx) => {
    const raw = await readBody(ctx, logger);
    if (!raw) return;
    if (!verifyCardCallbackToken(ctx.params.token ?? '', cardToken))
      return refuse(ctx, 401, logger, 'bad_token');
    const body = parse(raw);
    if (body === MALFORMED) return refuse(ctx, 400, logger, 'malformed_json');
    const callback = cardCallbackSchema.safeParse(body);
    if (!callback.success) return refuse(ctx, 422, logger, 'schema');
    await store(ctx, cardCallbackEvent(callback.data, deps.clock.now()), () => {
      // An empty answer leaves the card as it is; the update follows through the outbox.
      ctx.status = 200;
      ctx.body = {};
    });
  });

  if (settings.event && eventKey) {
    const event = settings.event;
    router.post('/events', async (ctx) => {
      const raw = await readBody(ctx, logger);
      if (!raw) return;
      const body = parse(raw);
      const encrypt =
        body !== MALFORMED && body !== null && typeof body === 'object'
          ? (body as { encrypt?: unknown }).encrypt
          : undefined;
      const verified = verifyEventRequest({
        query: ctx.query,
        encrypt,
        token: event.token,
        aesKey: eventKey,
        appKey: settings.appKey,
        now: deps.clock.now(),
        windowSeconds: settings.windowSeconds,
      });
      // Unparseable bodies have no `encrypt`: the same 400 as missing parameters.
      if (!verified.ok) return refuse(ctx, verified.status, logger, verified.reason);
      const answer = () => {
        ctx.status = 200;
        ctx.body = encryptedAnswer({
          aesKey: eventKey,
          token: event.token,
          appKey: settings.appKey,
          nowMs: deps.clock.now().getTime(),
        });
      };
      if (/"EventType"\s*:\s*"check_url"/.test(verified.plaintext)) return answer();
      await store(ctx, subscriptionEvent(verified.plaintext, deps.clock.now()), answer);
    });
  }
  return router;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
