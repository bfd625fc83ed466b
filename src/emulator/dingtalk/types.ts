/**
 * Types of the DingTalk emulator, the stand-in for api.dingtalk.com and oapi.dingtalk.com in tests
 * and the demo (PLATFORMS.md "What the emulator must reproduce").
 */
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock';

export interface DingtalkMemberConfig {
  /** The staff id (userId / senderStaffId). */
  userId: string;
  name: string;
  title?: string;
}

export interface DingtalkGroupConfig {
  openConversationId: string;
  name: string;
  /** Members of the group (staff ids); the app robot is in every configured group. */
  members: string[];
}

export interface DingtalkCustomRobotConfig {
  accessToken: string;
  secret: string;
  name: string;
}

export interface DingtalkEmulatorConfig {
  appKey: string;
  appSecret: string;
  robotCode: string;
  /** The only card template id createAndDeliver accepts. */
  cardTemplateId?: string;
  /** How the robot's messages reach the app: HTTP callbacks to `callbackUrl`, or Stream frames. */
  mode?: 'http' | 'stream';
  /** The robot's message callback URL (HTTP mode). */
  callbackUrl?: string;
  members: DingtalkMemberConfig[];
  groups?: DingtalkGroupConfig[];
  customRobots?: DingtalkCustomRobotConfig[];
  /** The encrypted event subscription (事件订阅): where events go, and its token and aes_key. */
  events?: { url?: string; token: string; aesKey: string };
}

/**
 * Answers we could not confirm in DingTalk's documentation: configurable, and the adapter must not
 * depend on them (PLATFORMS.md).
 */
export interface DingtalkUnconfirmed {
  /** v1.0 error `code` of a createAndDeliver whose outTrackId already exists (HTTP 400). */
  outTrackIdExists: string;
  /** v1.0 error `code` of a wrong appKey/appSecret at /v1.0/oauth2/accessToken (HTTP 400). */
  invalidAppCredentials: string;
  /** Whether card clicks over HTTP carry `timestamp` + `sign` headers made with the registered apiSecret. */
  signCardCallbacks: boolean;
}

export interface DingtalkRateLimits {
  /** Custom robot: 20 messages a minute (documented), then throttled (130101). */
  customRobotPerMinute: number;
  /** How long an over-limit custom robot stays throttled (documented: 10 minutes). */
  customRobotThrottleMs: number;
  /** v1.0 API calls per second per app (403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi). */
  apiPerSecond: number;
  /** Robot messages per member per minute (flowControlledStaffIdList beyond). Unconfirmed. */
  perMemberPerMinute: number;
  /** App robot messages and cards per group per minute (403 QpsLimitForApi beyond). Unconfirmed. */
  perGroupPerMinute: number;
}

export interface DingtalkEmulatorOptions {
  dingtalk: DingtalkEmulatorConfig;
  clock?: Clock;
  /** Token lifetime, seconds (7200). */
  tokenTtlSeconds?: number;
  /** Stream: an unacknowledged frame is pushed again after this long (DingTalk: within 60 s). */
  repushMs?: number;
  /** HTTP callbacks: answer deadline (DingTalk 1.5 s) and attempts in all. */
  callbackTimeoutMs?: number;
  callbackRetries?: number;
  rateLimits?: Partial<DingtalkRateLimits>;
  unconfirmed?: Partial<DingtalkUnconfirmed>;
  logger?: Logger;
}

export interface DingtalkSettings {
  appKey: string;
  appSecret: string;
  robotCode: string;
  cardTemplateId: string | undefined;
  mode: 'http' | 'stream';
  callbackUrl: string | undefined;
  members: DingtalkMemberConfig[];
  groups: DingtalkGroupConfig[];
  customRobots: DingtalkCustomRobotConfig[];
  events: { url?: string; token: string; aesKey: string } | undefined;
  clock: Clock;
  tokenTtlSeconds: number;
  repushMs: number;
  callbackTimeoutMs: number;
  callbackRetries: number;
  rateLimits: DingtalkRateLimits;
  unconfirmed: DingtalkUnconfirmed;
  logger: Logger;
}

export type JsonObject = Record<string, unknown>;

export interface DingtalkCard {
  outTrackId: string;
  cardTemplateId: string;
  callbackType: 'HTTP' | 'STREAM';
  callbackRouteKey: string | undefined;
  /** The variables as last created or updated. */
  params: Record<string, string>;
  /** `IM_ROBOT.<userId>` or `IM_GROUP.<openConversationId>`. */
  space: { type: 'IM_ROBOT' | 'IM_GROUP'; id: string };
  createdAt: string;
  updatedAt: string | undefined;
  updates: number;
}

export interface DingtalkChatMessage {
  seq: number;
  at: string;
  /** 'out' = robot → member/group; 'in' = member → robot (sent by the emulator as a callback). */
  direction: 'out' | 'in';
  /** sampleText, sampleMarkdown, card, text/markdown (custom robot), click. */
  kind: string;
  sender?: string;
  text?: string;
  title?: string;
  markdown?: string;
  /** For cards: the outTrackId (the card itself lives in `cards`, updated in place). */
  outTrackId?: string;
  via?: 'app' | 'custom_robot';
}

export type DingtalkFault =
  | { kind: 'http'; status: number; code?: string }
  | { kind: 'errcode'; errcode: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'accept_then_drop' };

export interface CallbackAttempt {
  attempt: number;
  status?: number;
  error?: string;
  body?: string;
  ms?: number;
}

export interface CallbackOutcome {
  ok: boolean;
  via: 'http' | 'stream';
  attempts: CallbackAttempt[];
  /** The JSON the app received (robot message or card callback). */
  payload: JsonObject;
  /** Stream: the frame's messageId. */
  messageId?: string;
}
