/**
 * Classification of DingTalk answers (RELIABILITY.md "Outbound delivery", rule 3). Two API styles:
 *
 * - The v1.0 APIs on api.dingtalk.com answer 200 with the result, or an HTTP error status with
 *   `{code, message, requestid}` where `code` is a string. We act on the status and `code`, never on
 *   `message`:
 *   - 401, or `code` InvalidAuthentication (an invalid or expired access token): `refresh_token`, drop
 *     the token and send once more.
 *   - 403 with a `Forbidden.AccessDenied.QpsLimit…` code (the per-API / per-app QPS limits) and 429:
 *     `retry` after `retryAfterMs` (1 s for QPS limits, or `Retry-After`).
 *   - 403 otherwise (`Forbidden.AccessDenied.AccessTokenPermissionDenied`: the app lacks a permission):
 *     `permanent`.
 *   - 5xx: `retry`, except 502/504 (a gateway gave up on an upstream that may still process it):
 *     `ambiguous`. Other 4xx (`param.*`, invalid users, bad template): `permanent`.
 * - The custom group robot on oapi.dingtalk.com answers HTTP 200 `{errcode, errmsg}`: 0 ok; 130101
 *   (more than 20 messages a minute: the robot is throttled for 10 minutes) `retry` after 10 minutes;
 *   -1 (busy) and 90018 / 88 (QPS) `retry`; everything else `permanent` (310000 signature, keyword or
 *   IP check failed; 300001 unknown access_token; 400102 robot disabled).
 *
 * Network failures as for WeCom: refused before connecting → `retry`; a timeout or a cut after the
 * request was written → `ambiguous` (DingTalk may have processed it).
 */

export type DingtalkOutcomeKind = 'ok' | 'refresh_token' | 'retry' | 'ambiguous' | 'permanent';

export type DingtalkAnswer =
  | { kind: 'http'; status: number; body: unknown; retryAfter?: string }
  | { kind: 'network'; code: string | undefined; message: string };

export interface DingtalkClassification {
  kind: DingtalkOutcomeKind;
  /** Stable machine code: `dingtalk_<code>`, `dingtalk_<errcode>`, `http_<status>`, `net_<code>`, `bad_answer`. */
  code: string;
  /** Chinese, for admins and alerts; never contains secrets or message content. */
  message: string;
  detail: string;
  retryAfterMs?: number;
}

/** 130101: "send too fast, exceed 20 times per minute": the robot is throttled for 10 minutes. */
export const ROBOT_THROTTLE_ERRCODE = 130101;
export const ROBOT_THROTTLE_WAIT_MS = 10 * 60_000;
const QPS_WAIT_MS = 1000;

const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_INVALID_URL',
]);

const ROBOT_RETRY_ERRCODES: ReadonlySet<number> = new Set([-1, 88, 90018, ROBOT_THROTTLE_ERRCODE]);

const ROBOT_ERRCODE_TEXT: Readonly<Record<number, string>> = {
  [-1]: '钉钉系统繁忙',
  88: '钉钉接口调用频率超过限制',
  90018: '钉钉接口调用频率超过限制',
  [ROBOT_THROTTLE_ERRCODE]: '自定义机器人每分钟超过 20 条，已被限流 10 分钟',
  300001: '自定义机器人 access_token 不存在（检查 teams[].digest.robot.dingtalk.accessToken）',
  310000: '自定义机器人安全设置校验失败（加签、关键词或 IP，检查 secret）',
  400102: '自定义机器人已停用',
};

const KIND_TEXT: Readonly<Record<DingtalkOutcomeKind, string>> = {
  ok: '成功',
  refresh_token: '将刷新 access_token 后重试一次',
  retry: '稍后重试',
  ambiguous: '结果不明，钉钉可能已处理',
  permanent: '不会重试',
};

export function classification(
  kind: DingtalkOutcomeKind,
  code: string,
  detail: string,
  extra: { retryAfterMs?: number } = {},
): DingtalkClassification {
  return { kind, code, detail, message: `${detail}（${KIND_TEXT[kind]}）`, ...extra };
}

export function withKind(
  c: DingtalkClassification,
  kind: DingtalkOutcomeKind,
  detail = c.detail,
): DingtalkClassification {
  return { ...c, kind, detail, message: `${detail}（${KIND_TEXT[kind]}）` };
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

function stringProp(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The v1.0 error code (`param.cardTemplateIdEmpty`, `InvalidAuthentication`), if the body has one. */
export function errorCodeOf(body: unknown): string | undefined {
  return stringProp(body, 'code');
}

function classifyNetwork(answer: Extract<DingtalkAnswer, { kind: 'network' }>): DingtalkClassification {
  const netCode = answer.code ?? 'UNKNOWN';
  const code = `net_${netCode}`;
  if (NOT_SENT_CODES.has(netCode)) return classification('retry', code, `无法连接钉钉接口（${netCode}）`);
  const timedOut = netCode === 'ECONNABORTED' || netCode === 'ETIMEDOUT';
  return classification(
    'ambiguous',
    code,
    timedOut ? '请求钉钉接口超时' : `与钉钉接口的连接中断（${netCode}）`,
  );
}

/** Classifies one answer of a v1.0 API call (api.dingtalk.com). */
export function classifyApiAnswer(answer: DingtalkAnswer): DingtalkClassification {
  if (answer.kind === 'network') return classifyNetwork(answer);
  const { status } = answer;
  const errorCode = errorCodeOf(answer.body);
  const code = errorCode ? `dingtalk_${errorCode}` : `http_${status}`;
  if (status >= 200 && status < 300) {
    if (answer.body === null || typeof answer.body !== 'object') {
      return classification(
        'ambiguous',
        'bad_answer',
        `钉钉接口返回了无法识别的内容（HTTP ${status}，非 JSON）`,
      );
    }
    return classification('ok', 'ok', '成功');
  }
  if (status === 401 || errorCode === 'InvalidAuthentication') {
    return classification('refresh_token', code, 'access_token 无效或已过期');
  }
  if (status === 429 || (status === 403 && errorCode !== undefined && /QpsLimit|Throttl/i.test(errorCode))) {
    const wait = parseRetryAfter(answer.retryAfter) ?? QPS_WAIT_MS;
    return classification('retry', code, '钉钉接口调用频率超过限制', { retryAfterMs: wait });
  }
  if (status === 502 || status === 504) {
    return classification('ambiguous', code, `钉钉接口网关超时 HTTP ${status}`);
  }
  if (status >= 500 || status === 408) {
    const wait = parseRetryAfter(answer.retryAfter);
    return classification(
      'retry',
      code,
      `钉钉接口返回 HTTP ${status}`,
      wait !== undefined ? { retryAfterMs: wait } : {},
    );
  }
  if (status >= 300 && status < 400) {
    return classification(
      'permanent',
      code,
      `钉钉接口返回重定向 HTTP ${status}（不跟随重定向，检查 DINGTALK_API_BASE）`,
    );
  }
  if (status === 403)
    return classification('permanent', code, `钉钉拒绝调用（应用缺少权限？）${errorCode ?? ''}`);
  return classification('permanent', code, `钉钉接口拒绝了请求 HTTP ${status} ${errorCode ?? ''}`.trim());
}

/** Classifies one answer of the custom group robot (oapi.dingtalk.com/robot/send). */
export function classifyRobotAnswer(answer: DingtalkAnswer): DingtalkClassification {
  if (answer.kind === 'network') return classifyNetwork(answer);
  if (answer.status !== 200) {
    const c = classifyApiAnswer({ ...answer, body: undefined });
    // No token here: refreshing cannot cure a 401.
    return c.kind === 'refresh_token' ? withKind(c, 'permanent') : c;
  }
  const body = answer.body;
  const errcode =
    body !== null && typeof body === 'object' && typeof (body as { errcode?: unknown }).errcode === 'number'
      ? (body as { errcode: number }).errcode
      : undefined;
  if (errcode === undefined) {
    return classification(
      'ambiguous',
      'bad_answer',
      '自定义机器人返回了无法识别的内容（HTTP 200，非 errcode JSON）',
    );
  }
  if (errcode === 0) return classification('ok', 'ok', '成功');
  const code = `dingtalk_${errcode}`;
  const text = ROBOT_ERRCODE_TEXT[errcode] ?? `自定义机器人返回错误码 ${errcode}`;
  if (!ROBOT_RETRY_ERRCODES.has(errcode)) return classification('permanent', code, text);
  const wait =
    errcode === ROBOT_THROTTLE_ERRCODE ? ROBOT_THROTTLE_WAIT_MS : errcode === -1 ? undefined : 60_000;
  return classification('retry', code, text, wait !== undefined ? { retryAfterMs: wait } : {});
}
