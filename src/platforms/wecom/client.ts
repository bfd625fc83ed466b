/**
 * The WeCom HTTP client: access token (91039), message/send (90236), update_template_card (94888) and
 * the group robot webhook (91770). It posts the exact body string it is given (the outbox froze it, and
 * WeCom's duplicate check compares the request JSON), answers every call with a `SendResult` and never
 * throws for platform or network failures (platforms/types.ts).
 *
 * Outbound rules (RELIABILITY.md "Outbound delivery" 5): URLs are built only from `settings.apiBase`;
 * redirects are never followed (`maxRedirects: 0`, a 3xx is a permanent error). Logs carry the API, the
 * outcome and the code: never a body, a token, the secret or a robot key (only its fingerprint).
 */
import { createHash } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosRequestConfig, isAxiosError } from 'axios';
import type { WecomSettings } from '../../config/env';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { SendResult } from '../types';
import {
  classification,
  classifyWecomAnswer,
  type WecomAnswer,
  type WecomClassification,
  withKind,
} from './errors';
import { createTokenCache, type FetchedToken, type TokenCache } from './token-cache';

export interface WecomClientOptions {
  settings: Pick<WecomSettings, 'corpId' | 'secret' | 'apiBase'>;
  clock: Clock;
  /** For tests or a custom agent; redirects, timeout and status handling are set per request anyway. */
  http?: AxiosInstance;
  /** Whole-request timeout; a send that times out is `ambiguous`. */
  timeoutMs?: number;
  logger: Logger;
  /** Token refresh margin (token-cache.ts), default 300 s. */
  refreshMarginSeconds?: number;
}

export interface WecomClient {
  /** POST /cgi-bin/message/send (90236). */
  sendMessage(body: string): Promise<SendResult>;
  /** POST /cgi-bin/message/update_template_card (94888). */
  updateTemplateCard(body: string): Promise<SendResult>;
  /** POST /cgi-bin/webhook/send?key= (91770). No access token. */
  sendGroupRobot(key: string, body: string): Promise<SendResult>;
}

/** A failed gettoken, carrying how the send that needed the token should end. */
export class WecomTokenError extends Error {
  constructor(readonly classification: WecomClassification) {
    super(classification.message);
    this.name = 'WecomTokenError';
  }
}

/** Answers are small JSON objects; anything bigger is not WeCom. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A short, non-reversible name for a robot key in logs. */
export function robotKeyFingerprint(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 12);
}

function baseUrl(apiBase: string): string {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error('WECOM_API_BASE 不是合法的 URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error('WECOM_API_BASE 必须是 http(s) 地址');
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new Error('WECOM_API_BASE 不能带查询参数、锚点或账号');
  }
  return apiBase.replace(/\/+$/, '');
}

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function stringField(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `a|b` (message/send) or `["a","b"]` (update_template_card), as the answers spell invalid users. */
function idList(value: unknown): string[] {
  if (typeof value === 'string') return value.split('|').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

/**
 * Users the request addressed that the answer says did not get it (invaliduser; unlicenseduser, users
 * without an interface licence, 90236). Only computed for requests that name users explicitly.
 */
function undeliveredRecipients(
  api: string,
  requestBody: string,
  answer: unknown,
): { all: boolean; count: number } {
  const request = parseJson(requestBody);
  if (request === null || typeof request !== 'object' || answer === null || typeof answer !== 'object') {
    return { all: false, count: 0 };
  }
  const req = request as Record<string, unknown>;
  const ans = answer as Record<string, unknown>;
  const addressed = api === 'message/send' ? idList(req.touser) : idList(req.userids);
  if (addressed.length === 0 || addressed.includes('@all')) return { all: false, count: 0 };
  const missing = new Set([...idList(ans.invaliduser), ...idList(ans.unlicenseduser)]);
  const count = addressed.filter((u) => missing.has(u)).length;
  return { all: count === addressed.length, count };
}

function toFailure(c: WecomClassification): SendResult {
  const outcome = c.kind === 'ambiguous' ? 'ambiguous' : c.kind === 'permanent' ? 'permanent' : 'retry';
  return {
    ok: false,
    outcome,
    code: c.code,
    message: c.message,
    ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
    // 42014: the task_id is taken, which after an ambiguous first attempt is our own card (90236).
    ...(c.errcode === 42014 ? { alreadyAccepted: true } : {}),
  };
}

export function createWecomClient(options: WecomClientOptions): WecomClient {
  const { settings, logger } = options;
  const base = baseUrl(settings.apiBase);
  const timeoutMs = options.timeoutMs ?? 5000;
  // proxy: false: outbound calls go straight to the configured base, never to a proxy from the
  // environment (RELIABILITY.md outbound rule 5). A caller needing a proxy passes its own instance.
  const http = options.http ?? axios.create({ proxy: false });

  const requestConfig: AxiosRequestConfig = {
    timeout: timeoutMs,
    maxRedirects: 0,
    validateStatus: () => true,
    responseType: 'text',
    // Keep the raw answer text and send the body string untouched (axios would otherwise trim it).
    transformResponse: [(data: unknown) => data],
    transformRequest: [(data: unknown) => data],
    maxContentLength: MAX_ANSWER_BYTES,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  };

  async function exchange(method: 'GET' | 'POST', url: string, body?: string): Promise<WecomAnswer> {
    try {
      const res = await http.request({ ...requestConfig, method, url, data: body });
      const retryAfter = res.headers['retry-after'];
      return {
        kind: 'http',
        status: res.status,
        body: parseJson(res.data),
        ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      };
    } catch (error) {
      if (isAxiosError(error)) return { kind: 'network', code: error.code, message: error.message };
      const err = error as NodeJS.ErrnoException;
      return { kind: 'network', code: err.code, message: String(err.message) };
    }
  }

  async function fetchToken(): Promise<FetchedToken> {
    const query = `corpid=${encodeURIComponent(settings.corpId)}&corpsecret=${encodeURIComponent(settings.secret)}`;
    const answer = await exchange('GET', `${base}/cgi-bin/gettoken?${query}`);
    const c = classifyWecomAnswer(answer);
    if (c.kind !== 'ok') {
      // gettoken is idempotent, so "ambiguous" is just "retry"; a token error here cannot be cured by
      // refreshing either. Wrong corpid/secret (40013/40001) stay permanent.
      const kind = c.kind === 'permanent' ? 'permanent' : 'retry';
      throw new WecomTokenError(withKind(c, kind, `获取 access_token 失败：${c.detail}`));
    }
    const body = answer.kind === 'http' ? (answer.body as Record<string, unknown>) : {};
    const token = stringField(body, 'access_token');
    const expiresIn = body.expires_in;
    if (!token || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new WecomTokenError(
        classification('retry', 'bad_answer', '获取 access_token 失败：应答缺少 access_token 或 expires_in'),
      );
    }
    return { token, expiresInSeconds: expiresIn };
  }

  const tokens: TokenCache = createTokenCache({
    fetchToken,
    clock: options.clock,
    refreshMarginSeconds: options.refreshMarginSeconds,
  });

  function tokenFailure(api: string, error: unknown): SendResult {
    const c: WecomClassification =
      error instanceof WecomTokenError
        ? { ...error.classification, code: `gettoken_${error.classification.code}` }
        : classification('retry', 'gettoken_failed', '获取 access_token 失败');
    logger.warn({ api, outcome: c.kind, code: c.code }, 'wecom: access token unavailable');
    return toFailure(c);
  }

  function finish(
    api: string,
    body: string,
    answer: WecomAnswer,
    c: WecomClassification,
    extra = {},
  ): SendResult {
    const log = { api, outcome: c.kind, code: c.code, ...extra };
    if (c.kind !== 'ok') {
      logger.warn(log, 'wecom: send failed');
      return toFailure(c);
    }
    const answerBody = answer.kind === 'http' ? answer.body : undefined;
    const undelivered = undeliveredRecipients(api, body, answerBody);
    if (undelivered.all) {
      // errcode 0 but nobody on the list got it (invalid or unlicensed users): as 81013 would say.
      logger.warn({ ...log, outcome: 'permanent' }, 'wecom: no recipient received the message');
      return {
        ok: false,
        outcome: 'permanent',
        code: 'recipients_undeliverable',
        message: '企业微信接受了请求，但所有接收人都无效或无接口许可（不会重试）',
      };
    }
    if (undelivered.count > 0)
      logger.warn({ ...log, undelivered: undelivered.count }, 'wecom: some recipients invalid');
    else logger.debug(log, 'wecom: sent');
    const msgid = stringField(answerBody, 'msgid');
    const responseCode = stringField(answerBody, 'response_code');
    return {
      ok: true,
      ...(msgid !== undefined ? { platformMessageId: msgid } : {}),
      ...(responseCode !== undefined ? { updateToken: responseCode } : {}),
    };
  }

  /** A token API call; on 40014/42001 the token is dropped and the same bytes are sent once more. */
  async function callWithToken(api: 'message/send' | 'message/update_template_card', body: string) {
    const post = (token: string) =>
      exchange('POST', `${base}/cgi-bin/${api}?access_token=${encodeURIComponent(token)}`, body);
    let token: string;
    try {
      token = await tokens.get();
    } catch (error) {
      return tokenFailure(api, error);
    }
    let answer = await post(token);
    let c = classifyWecomAnswer(answer);
    if (c.kind === 'refresh_token') {
      logger.info({ api, code: c.code }, 'wecom: access token refused, refreshing once');
      tokens.invalidate(token);
      try {
        token = await tokens.get();
      } catch (error) {
        return tokenFailure(api, error);
      }
      answer = await post(token);
      c = classifyWecomAnswer(answer);
      if (c.kind === 'refresh_token') {
        // A brand-new token refused at once: WeCom is confused or the clock is off. Later, not now.
        c = withKind(c, 'retry', `${c.detail}：新 token 也被拒绝`);
      }
    }
    return finish(api, body, answer, c);
  }

  return {
    sendMessage: (body) => callWithToken('message/send', body),
    updateTemplateCard: (body) => callWithToken('message/update_template_card', body),
    async sendGroupRobot(key, body) {
      const robot = robotKeyFingerprint(key);
      if (key.length === 0) {
        return toFailure(classification('permanent', 'robot_key_missing', '群机器人 key 为空'));
      }
      const answer = await exchange(
        'POST',
        `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(key)}`,
        body,
      );
      const c = classifyWecomAnswer(answer);
      // No token here: a token errcode cannot occur, and if it did, refreshing would not help.
      const final = c.kind === 'refresh_token' ? withKind(c, 'permanent') : c;
      return finish('webhook/send', body, answer, final, { robot });
    },
  };
}
