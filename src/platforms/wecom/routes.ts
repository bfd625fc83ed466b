import Router from '@koa/router';
import type { Context } from 'koa';
import type { WecomSettings } from '../../config/env';
import { readRawBody } from '../../http/read-body';
import type { Clock } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { InboundEvent } from '../types';
import { decodeAesKey } from './crypto';
import { toInboundEvent } from './events';
import { verifyWecomRequest, type WecomCallbackQuery } from './verify-callback';
import { MAX_XML_BYTES, parseWecomXml, WecomXmlError } from './xml';

export interface WecomRouteDeps {
  settings: WecomSettings;
  clock: Clock;
  logger: Logger;
  /** Stores the verified event durably (the inbox); processing happens after the answer. */
  accept(event: InboundEvent, appId: string): Promise<'accepted' | 'duplicate'>;
  /** Longest we wait for the store before answering 503 so WeCom retries (its deadline is 5 s; we keep every answer under 1 s). */
  acceptTimeoutMs?: number;
}

const XML_TYPES = ['text/xml', 'application/xml', 'text/plain'];
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Every signature failure looks the same from outside: a bare 401 (RELIABILITY.md "Inbound" 3). */
function refuse(ctx: Context, status: 400 | 401 | 413 | 415, log: Logger, reason: string): void {
  log.warn({ status, reason, path: ctx.path }, 'wecom callback refused');
  ctx.status = status;
  ctx.body = '';
}

/**
 * `GET /callbacks/wecom` (URL verification, path 90930) and `POST /callbacks/wecom` (messages and
 * events, 90238). Both go through the same `verifyWecomRequest`: there is no side door. Order:
 * 415 → 413 → 400 (missing parameters, malformed XML, DOCTYPE) → 401 (window, signature, ciphertext,
 * receive id) → store → 200 with an empty body. Bodies are never logged.
 */
export function wecomCallbackRoutes(deps: WecomRouteDeps): Router {
  const router = new Router({ prefix: '/callbacks/wecom' });
  const aesKey = decodeAesKey(deps.settings.encodingAesKey);
  const verify = (query: WecomCallbackQuery, encrypt: string) =>
    verifyWecomRequest({
      query,
      encrypt,
      tokens: deps.settings.tokens,
      aesKey,
      corpId: deps.settings.corpId,
      now: deps.clock.now(),
      windowSeconds: deps.settings.windowSeconds,
    });

  router.get('/', (ctx) => {
    const query = ctx.query as WecomCallbackQuery;
    const verified = verify(query, typeof query.echostr === 'string' ? query.echostr : '');
    if (!verified.ok) return refuse(ctx, verified.status, deps.logger, verified.reason);
    // The plain echostr, nothing else: no quotes, no BOM, no newline (90930).
    ctx.type = 'text/plain';
    ctx.body = verified.plaintext;
  });

  router.post('/', async (ctx) => {
    const type = ctx.request.type;
    if (type && !XML_TYPES.includes(type)) return refuse(ctx, 415, deps.logger, 'content_type');
    let raw: Buffer;
    try {
      raw = await readRawBody(ctx, MAX_XML_BYTES);
    } catch (error) {
      if (error instanceof AppError && error.status === 413)
        return refuse(ctx, 413, deps.logger, 'too_large');
      throw error;
    }
    const query = ctx.query as WecomCallbackQuery;
    if (!query.msg_signature || !query.timestamp || !query.nonce) {
      return refuse(ctx, 400, deps.logger, 'missing_params');
    }
    let envelope: Record<string, string>;
    try {
      // Strict: `toString('utf8')` would turn invalid bytes into U+FFFD and read the rest as if fine.
      envelope = parseWecomXml(STRICT_UTF8.decode(raw));
    } catch (error) {
      if (error instanceof TypeError) return refuse(ctx, 400, deps.logger, 'invalid_utf8');
      return refuse(ctx, 400, deps.logger, error instanceof WecomXmlError ? `xml_${error.code}` : 'xml');
    }
    const verified = verify(query, envelope.Encrypt ?? '');
    if (!verified.ok) return refuse(ctx, verified.status, deps.logger, verified.reason);

    let event: InboundEvent;
    try {
      event = toInboundEvent(parseWecomXml(verified.plaintext));
    } catch (error) {
      // Signed by WeCom but not a message we can read: acknowledge, or WeCom retries it forever.
      deps.logger.warn(
        { reason: error instanceof WecomXmlError ? error.code : 'inner_xml' },
        'wecom event unreadable',
      );
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    const storing = deps.accept(event, deps.settings.corpId);
    // If we give up waiting, a late failure must not become an unhandled rejection.
    storing.catch(() => undefined);
    const stored = await withTimeout(storing, deps.acceptTimeoutMs ?? 800);
    if (stored === 'timeout') {
      // Not known to be stored: a non-200 makes WeCom retry, and the inbox key drops a double.
      deps.logger.error({ eventKind: event.kind }, 'inbox store too slow; answering 503 so WeCom retries');
      ctx.status = 503;
      ctx.body = '';
      return;
    }
    deps.logger.debug({ eventKind: event.kind, eventId: event.eventId, stored }, 'wecom callback accepted');
    ctx.status = 200;
    ctx.body = '';
  });

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
