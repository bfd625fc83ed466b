/**
 * Types shared by the WeCom emulator. The emulator stands in for qyapi.weixin.qq.com in tests and in
 * the demo (PLATFORMS.md, "What the emulator must reproduce").
 */
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock';

export interface WecomMemberConfig {
  userid: string;
  name: string;
  /** Shown under the name on the page, e.g. 华东大区 · 主管. */
  title?: string;
}

export interface WecomRobotConfig {
  key: string;
  name: string;
}

export interface WecomEmulatorConfig {
  corpId: string;
  corpSecret: string;
  agentId: number | string;
  token: string;
  encodingAesKey: string;
  callbackUrl?: string;
  members: WecomMemberConfig[];
  groupRobots?: WecomRobotConfig[];
}

export interface RateLimits {
  /** path 90454: 30 app messages per minute per member per app; the excess is silently dropped. */
  perMemberPerMinute: number;
  /** path 90454: 1000 per hour per member per app. */
  perMemberPerHour: number;
  /** path 91770: 20 messages per minute per group robot. */
  perRobotPerMinute: number;
}

/**
 * Error codes we could not confirm in WeCom's documentation. The adapter must not depend on their
 * exact values (PLATFORMS.md), so they are configurable; the defaults are the closest documented
 * global codes (path 90313).
 */
export interface UnconfirmedErrcodes {
  /** update_template_card with an unknown, used or >72 h old response_code (path 94888 names no code). */
  responseCodeInvalid: number;
  /** markdown over 2048 bytes (app) or text/markdown over the robot limits: 45002 "消息内容大小超过限制". */
  contentTooLong: number;
  /** Generic invalid request parameter: 40058 "不合法的参数". */
  invalidParameter: number;
}

/** How gettoken answers while a token is still valid (path 91039; see create-emulator.ts). */
export type TokenIssuance = 'new' | 'reuse';

export interface EmulatorOptions {
  wecom: WecomEmulatorConfig;
  clock?: Clock;
  tokenTtlSeconds?: number;
  tokenIssuance?: TokenIssuance;
  callbackTimeoutMs?: number;
  /** Attempts in all (path 90238: three). */
  callbackRetries?: number;
  rateLimits?: Partial<RateLimits>;
  duplicateCheckDefaultSeconds?: number;
  responseCodeTtlSeconds?: number;
  errcodes?: Partial<UnconfirmedErrcodes>;
  logger?: Logger;
}

/** Options with every default filled in. */
export interface WecomSettings {
  corpId: string;
  corpSecret: string;
  agentId: number;
  token: string;
  encodingAesKey: string;
  callbackUrl: string | undefined;
  members: WecomMemberConfig[];
  groupRobots: WecomRobotConfig[];
  clock: Clock;
  tokenTtlSeconds: number;
  tokenIssuance: TokenIssuance;
  callbackTimeoutMs: number;
  callbackRetries: number;
  rateLimits: RateLimits;
  duplicateCheckDefaultSeconds: number;
  duplicateCheckMaxSeconds: number;
  responseCodeTtlSeconds: number;
  errcodes: UnconfirmedErrcodes;
  logger: Logger;
}

/** A JSON object as parsed from a request body. */
export type JsonObject = Record<string, unknown>;

export interface CardView {
  cardType: string;
  taskId: string | undefined;
  /** The template_card object as last sent or updated. */
  card: JsonObject;
  /** Set by update_template_card with `button.replace_name`: the buttons are greyed out. */
  disabled: boolean;
  replaceName: string | undefined;
  updatedAt: string | undefined;
}

export interface ChatMessage {
  seq: number;
  /** 'out' = app → member (message/send); 'in' = member → app (sent by the emulator as a callback). */
  direction: 'out' | 'in';
  at: string;
  msgtype: string;
  msgid: string | undefined;
  text?: string;
  markdown?: string;
  card?: CardView;
  /** Text over 2048 bytes is truncated by WeCom (path 90236). */
  truncated?: boolean;
  /** Documented recommendations the request broke (e.g. button text over 10 characters). */
  warnings?: string[];
  event?: { taskId: string; eventKey: string; responseCode: string };
}

export interface GroupMessage {
  seq: number;
  at: string;
  msgtype: string;
  /** The message body as sent (text, markdown, image, news or template_card object). */
  body: JsonObject;
}

export type Fault =
  | { kind: 'errcode'; errcode: number; errmsg?: string }
  | { kind: 'http'; status: number }
  /** Hold the request for `ms`, then drop the connection without processing it. */
  | { kind: 'timeout'; ms: number }
  /** Hold the request for `ms`, then process and answer it normally. */
  | { kind: 'delay'; ms: number }
  /** Process the request, then destroy the socket without answering (an ambiguous send). */
  | { kind: 'accept_then_drop' };

export interface CallbackAttempt {
  attempt: number;
  status?: number;
  error?: string;
  body?: string;
}

export interface CallbackOutcome {
  ok: boolean;
  attempts: CallbackAttempt[];
  /** The decrypted XML that was sent, for assertions. */
  plaintext: string;
  createTime: number;
  msgId?: string;
  responseCode?: string;
}

export interface VerifyOutcome {
  ok: boolean;
  status?: number;
  error?: string;
  body?: string;
  expected: string;
}
