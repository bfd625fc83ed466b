/**
 * Classification of WeCom API answers (RELIABILITY.md "Outbound delivery", rule 3). Acts on the HTTP
 * status and `errcode` only, never on `errmsg` (PLATFORMS.md: WeCom's texts change, its codes do not).
 * Codes come from the global error code list (developer.work.weixin.qq.com/document/path/90313).
 *
 * - `ok`: errcode 0.
 * - `refresh_token`: 40014 (invalid access_token) and 42001 (expired), 91039: drop the token, fetch a
 *   new one and send once more. 40001 is NOT one of them in WeCom: it means "不合法的secret参数" (a
 *   configuration error, answered by gettoken), unlike WeChat Official Accounts where it means an
 *   invalid token. Refreshing cannot fix it, so it is permanent.
 * - `retry`: -1 (busy: "建议稍候重试"), 6000 (data version conflict, "稍后重试"), 45009 (frequency limit;
 *   90313: the block lasts as long as the limit's window, a minute for per-minute limits), 45033
 *   (concurrency limit), HTTP 5xx except 502/504, 408, 429, and network errors raised before anything
 *   was sent (connection refused, DNS failure, unreachable host).
 * - `ambiguous`: the request may have reached WeCom and been processed: a timeout, a reset or hang-up
 *   after connecting, HTTP 502/504 (a gateway gave up waiting for an upstream that may still process
 *   it), or HTTP 200 with a body that is not a WeCom answer. The outbox retries these only inside the
 *   duplicate-check window (90236), where WeCom drops a byte-identical resend.
 * - `permanent`: everything else, notably 81013 (every recipient invalid), 40058 (invalid parameter),
 *   the Template_Card codes 42027–42047, 43012 (app has no callback URL), 93000 (robot key invalid),
 *   other 4xx and redirects (we never follow them). Unknown errcodes are permanent too: an alert is
 *   cheaper than an endless retry loop on an error nobody understands.
 *
 * Decision on 42014 ("任务卡片消息的task_id不合法": reused, empty or too long; render.ts validates the
 * format, so in practice "reused"): `permanent`, code `wecom_42014`. It is not turned into a success:
 * the classifier cannot know whether an earlier attempt was ambiguous, and a reused card id without one
 * is a bug that must be seen. A byte-identical retry inside the duplicate-check window never reaches
 * the task_id check (the duplicate check answers first, 90236), so 42014 on a retry means the window
 * had passed or the payload changed. The outbox, which knows the history, should record a 42014 that
 * follows an ambiguous attempt of the same row as `maybe_sent` (most likely delivered), not as dead.
 * The same reasoning applies to an invalid response_code (single use, 94888) after an ambiguous
 * update_template_card.
 */

export type WecomOutcomeKind = 'ok' | 'refresh_token' | 'retry' | 'ambiguous' | 'permanent';

/** What came back from one HTTP exchange with WeCom. */
export type WecomAnswer =
  | {
      kind: 'http';
      status: number;
      /** The parsed JSON body, or undefined when it was not JSON. */
      body: unknown;
      /** `Retry-After` header, when present (429/503). */
      retryAfter?: string;
    }
  | {
      kind: 'network';
      /** Node/axios error code: ECONNREFUSED, ECONNRESET, ECONNABORTED, ETIMEDOUT, ... */
      code: string | undefined;
      message: string;
    };

export interface WecomClassification {
  kind: WecomOutcomeKind;
  /** Stable machine code: `wecom_<errcode>`, `http_<status>`, `net_<code>`, `bad_answer`. */
  code: string;
  /** Chinese first, for admins and alerts; never contains secrets or message content. */
  message: string;
  /** `message` without the trailing "what happens next" note, for callers that change the kind. */
  detail: string;
  errcode?: number;
  retryAfterMs?: number;
}

/** 90313: access_token invalid / expired. */
export const REFRESH_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40014, 42001]);

/** 90313: busy, version conflict, frequency and concurrency limits. */
export const RETRY_ERRCODES: ReadonlySet<number> = new Set([-1, 6000, 45009, 45033]);

/** Frequency limits: 90313 says the block lasts as long as the window; per-minute limits are the usual. */
const RATE_LIMIT_ERRCODES: ReadonlySet<number> = new Set([45009, 45033]);
const RATE_LIMIT_WAIT_MS = 60_000;

/**
 * Connection never made, so nothing was sent: safe to retry without the duplicate check. Anything not
 * listed here counts as possibly sent.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_INVALID_URL',
]);

/** Readable texts for the codes we see most (90313). Anything else gets a generic text with the code. */
const ERRCODE_TEXT: Readonly<Record<number, string>> = {
  [-1]: '企业微信系统繁忙',
  6000: '企业微信数据版本冲突',
  40001: '企业微信 secret 不正确（检查 WECOM_SECRET）',
  40003: '无效的 UserID',
  40008: '消息类型不合法',
  40013: '企业 CorpID 不正确（检查 WECOM_CORP_ID）',
  40014: 'access_token 无效',
  40035: '参数不合法（接收人为空）',
  40056: 'agentid 不合法（检查 WECOM_AGENT_ID）',
  40058: '参数不合法',
  41001: '缺少 access_token',
  42001: 'access_token 已过期',
  42014: '卡片 task_id 已存在或不合法（若此前有一次结果不明的发送，卡片很可能已送达）',
  43012: '应用未配置回调 URL，不能发送可交互卡片',
  44004: '消息内容为空',
  45002: '消息内容超过长度限制',
  45009: '接口调用频率超过限制',
  45033: '接口并发调用超过限制',
  48002: '应用无权调用该接口',
  50002: '成员不在应用可见范围内',
  60020: '服务器 IP 不在企业微信的可信 IP 名单中',
  81013: '所有接收人都无效或不在应用可见范围内',
  93000: '群机器人 webhook key 无效',
  301002: 'access_token 与 agentid 不属于同一个应用',
};

const KIND_TEXT: Readonly<Record<WecomOutcomeKind, string>> = {
  ok: '成功',
  refresh_token: '将刷新 access_token 后重试一次',
  retry: '稍后重试',
  ambiguous: '结果不明，企业微信可能已处理',
  permanent: '不会重试',
};

/** `detail（what happens next）`. */
export function describeWecomOutcome(detail: string, kind: WecomOutcomeKind): string {
  return `${detail}（${KIND_TEXT[kind]}）`;
}

/** The same classification with another kind, its message rewritten to match. */
export function withKind(
  c: WecomClassification,
  kind: WecomOutcomeKind,
  detail = c.detail,
): WecomClassification {
  return { ...c, kind, detail, message: describeWecomOutcome(detail, kind) };
}

/** Builds a classification whose message matches its kind. */
export function classification(
  kind: WecomOutcomeKind,
  code: string,
  detail: string,
  extra: { errcode?: number; retryAfterMs?: number } = {},
): WecomClassification {
  return { kind, code, message: describeWecomOutcome(detail, kind), detail, ...extra };
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

function classifyErrcode(errcode: number): WecomClassification {
  const code = `wecom_${errcode}`;
  const text = ERRCODE_TEXT[errcode] ?? `企业微信返回错误码 ${errcode}`;
  let kind: WecomOutcomeKind;
  if (errcode === 0) kind = 'ok';
  else if (REFRESH_TOKEN_ERRCODES.has(errcode)) kind = 'refresh_token';
  else if (RETRY_ERRCODES.has(errcode)) kind = 'retry';
  else kind = 'permanent';
  return classification(kind, code, text, {
    errcode,
    ...(RATE_LIMIT_ERRCODES.has(errcode) ? { retryAfterMs: RATE_LIMIT_WAIT_MS } : {}),
  });
}

function classifyHttpStatus(status: number, retryAfter: string | undefined): WecomClassification {
  const code = `http_${status}`;
  let kind: WecomOutcomeKind;
  if (status === 502 || status === 504) kind = 'ambiguous';
  else if (status >= 500 || status === 408 || status === 429) kind = 'retry';
  else kind = 'permanent';
  const detail =
    status >= 300 && status < 400
      ? `企业微信接口返回重定向 HTTP ${status}（不跟随重定向，检查 WECOM_API_BASE）`
      : `企业微信接口返回 HTTP ${status}`;
  const wait = parseRetryAfter(retryAfter);
  return classification(
    kind,
    code,
    detail,
    wait !== undefined && kind !== 'permanent' ? { retryAfterMs: wait } : {},
  );
}

/** The errcode of a WeCom JSON answer, or undefined when the body is not one. */
export function errcodeOf(body: unknown): number | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const errcode = (body as { errcode?: unknown }).errcode;
  return typeof errcode === 'number' && Number.isInteger(errcode) ? errcode : undefined;
}

/** Classifies one answer (or network failure) of a WeCom API call. */
export function classifyWecomAnswer(answer: WecomAnswer): WecomClassification {
  if (answer.kind === 'network') {
    const netCode = answer.code ?? 'UNKNOWN';
    const code = `net_${netCode}`;
    if (NOT_SENT_CODES.has(netCode)) {
      return classification('retry', code, `无法连接企业微信接口（${netCode}）`);
    }
    const timedOut = netCode === 'ECONNABORTED' || netCode === 'ETIMEDOUT';
    const detail = timedOut ? '请求企业微信接口超时' : `与企业微信接口的连接中断（${netCode}）`;
    return classification('ambiguous', code, detail);
  }
  if (answer.status !== 200) return classifyHttpStatus(answer.status, answer.retryAfter);
  const errcode = errcodeOf(answer.body);
  if (errcode === undefined) {
    return classification(
      'ambiguous',
      'bad_answer',
      '企业微信接口返回了无法识别的内容（HTTP 200，非 errcode JSON）',
    );
  }
  return classifyErrcode(errcode);
}
