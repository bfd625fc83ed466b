/**
 * The DingTalk HTTP client: the v1.0 access token, the v1.0 APIs (robot messages, interactive cards,
 * card callback registration) and the custom group robot. It sends the exact body string it is given
 * (the outbox froze it), answers every send with a `SendResult` and never throws for platform or
 * network failures (platforms/types.ts).
 *
 * Outbound rules (RELIABILITY.md "Outbound delivery" 5): URLs come only from the configured bases;
 * redirects are never followed; no proxy from the environment. Logs carry the API, the outcome and the
 * code, never a body, a token, a secret or a robot access token (only its fingerprint).
 */
import axios, { type AxiosInstance, type AxiosRequestConfig, isAxiosError } from 'axios';
import type { DingtalkSettings } from '../../config/env';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { SendResult } from '../types';
import {
  classification,
  classifyApiAnswer,
  classifyRobotAnswer,
  type DingtalkAnswer,
  type DingtalkClassification,
  withKind,
} from './errors';
import { DINGTALK_API, fingerprint } from './render';
import { customRobotQuery } from './sign';
import { createTokenCache, type FetchedToken, type TokenCache } from './token-cache';

/**
 * DingTalk updates cards by `outTrackId` and needs no per-update token, but the domain only updates a
 * card it holds a token for (WeCom response codes are single use). Sent cards and clicks carry this
 * constant so DingTalk cards stay updatable; it is not a secret and is ignored when rendering.
 */
export const DINGTALK_UPDATE_TOKEN = 'dingtalk:outTrackId';

export interface DingtalkClientOptions {
  settings: Pick<DingtalkSettings, 'appKey' | 'appSecret' | 'apiBase' | 'oapiBase'>;
  clock: Clock;
  http?: AxiosInstance;
  timeoutMs?: number;
  logger: Logger;
  refreshMarginSeconds?: number;
}

export interface DingtalkClient {
  /** A v1.0 API call with the access token (`x-acs-dingtalk-access-token`); `api` is a DINGTALK_API. */
  callApi(api: string, body: string): Promise<SendResult>;
  /** The custom group robot: `POST {oapi}/robot/send?access_token=…&timestamp=…&sign=…`. */
  sendCustomRobot(robot: { accessToken: string; secret: string }, body: string): Promise<SendResult>;
  /** `POST /v1.0/card/callbacks/register` with `forceUpdate: true`: registering again is harmless. */
  registerCardCallback(input: { routeKey: string; url: string; apiSecret: string }): Promise<SendResult>;
}

/** A failed token fetch, carrying how the send that needed the token should end. */
export class DingtalkTokenError extends Error {
  constructor(readonly classification: DingtalkClassification) {
    super(classification.message);
    this.name = 'DingtalkTokenError';
  }
}

const MAX_ANSWER_BYTES = 64 * 1024;

function baseUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} 不是合法的 URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${name} 必须是 http(s) 地址`);
  if (url.search || url.hash || url.username || url.password) {
    throw new Error(`${name} 不能带查询参数、锚点或账号`);
  }
  return value.replace(/\/+$/, '');
}

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

const record = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.length > 0) : [];

function toFailure(c: DingtalkClassification, extra: { alreadyAccepted?: boolean } = {}): SendResult {
  const outcome = c.kind === 'ambiguous' ? 'ambiguous' : c.kind === 'permanent' ? 'permanent' : 'retry';
  return {
    ok: false,
    outcome,
    code: c.code,
    message: c.message,
    ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
    ...extra,
  };
}

/** The path and method of each v1.0 API we call. */
const ROUTES: Readonly<Record<string, { method: 'POST' | 'PUT'; path: string }>> = {
  [DINGTALK_API.batchSend]: { method: 'POST', path: '/v1.0/robot/oToMessages/batchSend' },
  [DINGTALK_API.groupSend]: { method: 'POST', path: '/v1.0/robot/groupMessages/send' },
  [DINGTALK_API.createCard]: { method: 'POST', path: '/v1.0/card/instances/createAndDeliver' },
  [DINGTALK_API.updateCard]: { method: 'PUT', path: '/v1.0/card/instances' },
  'card/callbacks/register': { method: 'POST', path: '/v1.0/card/callbacks/register' },
};

export function createDingtalkClient(options: DingtalkClientOptions): DingtalkClient {
  const { settings, logger } = options;
  const api = baseUrl(settings.apiBase, 'DINGTALK_API_BASE');
  const oapi = baseUrl(settings.oapiBase, 'DINGTALK_OAPI_BASE');
  const http = options.http ?? axios.create({ proxy: false });
  const requestConfig: AxiosRequestConfig = {
    timeout: options.timeoutMs ?? 5000,
    maxRedirects: 0,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    transformRequest: [(data: unknown) => data],
    maxContentLength: MAX_ANSWER_BYTES,
  };

  async function exchange(
    method: 'POST' | 'PUT',
    url: string,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<DingtalkAnswer> {
    try {
      const res = await http.request({
        ...requestConfig,
        method,
        url,
        data: body,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          Accept: 'application/json',
          ...headers,
        },
      });
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
    const answer = await exchange(
      'POST',
      `${api}/v1.0/oauth2/accessToken`,
      JSON.stringify({ appKey: settings.appKey, appSecret: settings.appSecret }),
    );
    const c = classifyApiAnswer(answer);
    if (c.kind !== 'ok') {
      // Idempotent: ambiguous is retry. A wrong key or secret (4xx) stays permanent.
      const kind = c.kind === 'permanent' ? 'permanent' : 'retry';
      throw new DingtalkTokenError(withKind(c, kind, `获取钉钉 accessToken 失败：${c.detail}`));
    }
    const body = record(answer.kind === 'http' ? answer.body : undefined);
    const token = typeof body.accessToken === 'string' ? body.accessToken : '';
    const expireIn = body.expireIn;
    if (!token || typeof expireIn !== 'number' || !(expireIn > 0)) {
      throw new DingtalkTokenError(
        classification('retry', 'bad_answer', '获取钉钉 accessToken 失败：应答缺少 accessToken 或 expireIn'),
      );
    }
    return { token, expiresInSeconds: expireIn };
  }

  const tokens: TokenCache = createTokenCache({
    fetchToken,
    clock: options.clock,
    refreshMarginSeconds: options.refreshMarginSeconds,
  });

  function tokenFailure(apiName: string, error: unknown): SendResult {
    const c =
      error instanceof DingtalkTokenError
        ? { ...error.classification, code: `token_${error.classification.code}` }
        : classification('retry', 'token_failed', '获取钉钉 accessToken 失败');
    logger.warn({ api: apiName, outcome: c.kind, code: c.code }, 'dingtalk: access token unavailable');
    return toFailure(c);
  }

  /** What a successful answer still says about delivery (invalid or throttled users, failed spaces). */
  function inspectOk(apiName: string, requestBody: string, answerBody: unknown): SendResult {
    const body = record(answerBody);
    if (apiName === DINGTALK_API.batchSend) {
      const asked = strings(record(parseJson(requestBody)).userIds);
      const invalid = new Set(strings(body.invalidStaffIdList));
      const throttled = new Set(strings(body.flowControlledStaffIdList));
      if (asked.length > 0 && asked.every((u) => invalid.has(u))) {
        return toFailure(
          classification(
            'permanent',
            'recipients_invalid',
            '钉钉接受了请求，但接收人都无效（userId 不存在或不在机器人可见范围）',
          ),
        );
      }
      if (asked.some((u) => throttled.has(u))) {
        // Nothing reached a throttled member; one user per request, so the whole send waits.
        return toFailure(
          classification('retry', 'recipients_flow_controlled', '接收人被钉钉流控', { retryAfterMs: 60_000 }),
        );
      }
      const key = typeof body.processQueryKey === 'string' ? body.processQueryKey : undefined;
      return { ok: true, ...(key ? { platformMessageId: key } : {}) };
    }
    if (apiName === DINGTALK_API.groupSend) {
      const key = typeof body.processQueryKey === 'string' ? body.processQueryKey : undefined;
      return { ok: true, ...(key ? { platformMessageId: key } : {}) };
    }
    if (apiName === DINGTALK_API.createCard) {
      if (body.success === false) {
        return toFailure(
          classification('permanent', 'card_not_created', '钉钉未能创建卡片（success=false）'),
        );
      }
      const results = Array.isArray(record(body.result).deliverResults)
        ? (record(body.result).deliverResults as unknown[]).map(record)
        : [];
      if (results.length > 0 && results.every((r) => r.success === false)) {
        return toFailure(
          classification(
            'permanent',
            'card_not_delivered',
            '卡片已创建但未能投放（用户或群无效，或机器人不在群里）',
          ),
        );
      }
      const outTrackId =
        typeof record(parseJson(requestBody)).outTrackId === 'string'
          ? (record(parseJson(requestBody)).outTrackId as string)
          : undefined;
      return {
        ok: true,
        ...(outTrackId ? { platformMessageId: outTrackId } : {}),
        updateToken: DINGTALK_UPDATE_TOKEN,
      };
    }
    return { ok: true };
  }

  async function callApi(apiName: string, body: string): Promise<SendResult> {
    const route = ROUTES[apiName];
    if (!route) return toFailure(classification('permanent', 'unknown_api', `未知的钉钉接口 ${apiName}`));
    const post = (token: string) =>
      exchange(route.method, `${api}${route.path}`, body, { 'x-acs-dingtalk-access-token': token });
    let token: string;
    try {
      token = await tokens.get();
    } catch (error) {
      return tokenFailure(apiName, error);
    }
    let answer = await post(token);
    let c = classifyApiAnswer(answer);
    if (c.kind === 'refresh_token') {
      logger.info({ api: apiName, code: c.code }, 'dingtalk: access token refused, refreshing once');
      tokens.invalidate(token);
      try {
        token = await tokens.get();
      } catch (error) {
        return tokenFailure(apiName, error);
      }
      answer = await post(token);
      c = classifyApiAnswer(answer);
      if (c.kind === 'refresh_token') c = withKind(c, 'retry', `${c.detail}：新 token 也被拒绝`);
    }
    const log = { api: apiName, outcome: c.kind, code: c.code };
    if (c.kind !== 'ok') {
      logger.warn(log, 'dingtalk: send failed');
      // A card whose outTrackId already exists was created by an earlier (ambiguous) attempt.
      const errorCode = answer.kind === 'http' ? String(record(answer.body).code ?? '') : '';
      const exists =
        apiName === DINGTALK_API.createCard &&
        /outTrackId/i.test(errorCode) &&
        /exist|repeat|duplicat/i.test(errorCode);
      return toFailure(c, exists ? { alreadyAccepted: true } : {});
    }
    const result = inspectOk(apiName, body, answer.kind === 'http' ? answer.body : undefined);
    if (result.ok) logger.debug(log, 'dingtalk: sent');
    else logger.warn({ ...log, outcome: result.outcome, code: result.code }, 'dingtalk: not delivered');
    return result;
  }

  return {
    callApi,
    async sendCustomRobot(robot, body) {
      const robotId = fingerprint(robot.accessToken);
      if (!robot.accessToken || !robot.secret) {
        return toFailure(
          classification('permanent', 'robot_missing', '自定义机器人 accessToken 或 secret 为空'),
        );
      }
      // Signed now, not at render time: the timestamp must be fresh (DingTalk allows an hour).
      const query = `access_token=${encodeURIComponent(robot.accessToken)}&${customRobotQuery(robot.secret, options.clock.now().getTime())}`;
      const answer = await exchange('POST', `${oapi}/robot/send?${query}`, body);
      const c = classifyRobotAnswer(answer);
      const log = { api: 'robot/send', robot: robotId, outcome: c.kind, code: c.code };
      if (c.kind !== 'ok') {
        logger.warn(log, 'dingtalk: custom robot send failed');
        return toFailure(c);
      }
      logger.debug(log, 'dingtalk: custom robot sent');
      return { ok: true };
    },
    registerCardCallback: ({ routeKey, url, apiSecret }) =>
      callApi(
        'card/callbacks/register',
        JSON.stringify({ callbackRouteKey: routeKey, callbackUrl: url, apiSecret, forceUpdate: true }),
      ),
  };
}
