import { z } from 'zod';
import { checkOutboundUrls } from './outbound-urls';

/**
 * The process environment, parsed once at start into one frozen object (the composition root passes
 * it on; nothing else reads `process.env`). Unknown variables are ignored; a bad value stops start-up
 * with the variable's name.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const bytes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(fallback);

export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\//, '必须是 mysql:// 开头的连接串')
    .default('mysql://root@127.0.0.1:3306/leadrelay'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LEADRELAY_CONFIG: z.string().default('config/leadrelay.example.jsonc'),
  ADMIN_API_KEY: z.string().min(16, 'ADMIN_API_KEY 至少 16 个字符').optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Body cap of the intake API, in bytes. */
  INTAKE_MAX_BYTES: bytes(64 * 1024),
  /** How long an API key lookup is cached per instance; revocation takes effect within this. */
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /** Requests handled at once per instance; past it the answer is 503 with Retry-After (load shedding). */
  MAX_IN_FLIGHT_REQUESTS: z.coerce.number().int().min(1).max(100_000).default(128),
  /** Bearer token `GET /metrics` requires; unset, the endpoint is open (block it at the proxy). */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN 至少 16 个字符').optional(),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),

  // WeCom self-built app (企业微信自建应用). WeCom is enabled when WECOM_CORP_ID is set.
  WECOM_CORP_ID: z.string().min(1).optional(),
  WECOM_AGENT_ID: z.coerce.number().int().positive().optional(),
  WECOM_SECRET: z.string().min(1).optional(),
  WECOM_TOKEN: z.string().min(1).optional(),
  /** The previous callback token, accepted during a rotation. */
  WECOM_TOKEN_PREVIOUS: z.string().min(1).optional(),
  WECOM_ENCODING_AES_KEY: z.string().length(43, 'EncodingAESKey 必须是 43 个字符').optional(),
  WECOM_API_BASE: z.url({ protocol: /^https?$/ }).default('https://qyapi.weixin.qq.com'),
  /** Answer deadline of WeCom API calls; past it a send is ambiguous (it may have been accepted). */
  WECOM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),

  // DingTalk app (钉钉企业内部应用) with its robot. DingTalk is enabled when DINGTALK_APP_KEY is set.
  DINGTALK_APP_KEY: z.string().min(1).optional(),
  DINGTALK_APP_SECRET: z.string().min(1).optional(),
  /** The app robot's robotCode (机器人 → 消息推送); usually the same as the AppKey. */
  DINGTALK_ROBOT_CODE: z.string().min(1).optional(),
  /** `http`: callbacks to our public URL; `stream`: a WebSocket we open ourselves (no public URL). */
  DINGTALK_MODE: z.enum(['http', 'stream']).default('http'),
  DINGTALK_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.dingtalk.com'),
  DINGTALK_OAPI_BASE: z.url({ protocol: /^https?$/ }).default('https://oapi.dingtalk.com'),
  /** Id of the card template built in DingTalk's card builder (docs/dingtalk-card.md). */
  DINGTALK_CARD_TEMPLATE_ID: z.string().min(1).optional(),
  /** callbackRouteKey the card callback URL is registered under (HTTP mode). */
  DINGTALK_CALLBACK_ROUTE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, '只能是 1–64 个字母、数字、_ 或 -')
    .default('leadrelay'),
  /** Our public base URL (https://crm.example.com): where DingTalk posts card clicks in HTTP mode. */
  DINGTALK_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Event subscription (事件订阅) token and aes_key; both or neither. */
  DINGTALK_EVENT_TOKEN: z.string().min(1).optional(),
  DINGTALK_EVENT_AES_KEY: z.string().length(43, 'aes_key 必须是 43 个字符').optional(),
  /** Answer deadline of DingTalk API calls; past it a send is ambiguous (it may have been accepted). */
  DINGTALK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),

  /** Callback timestamp window in seconds (RELIABILITY.md: 300 s, stricter than the platforms). */
  CALLBACK_WINDOW_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),

  /**
   * The bundled emulator (demo, tests, benchmarks): an API base may point at this origin and otherwise
   * only at the platforms' own hosts (config/outbound-urls.ts). On loopback only; never set in a real
   * deployment.
   */
  EMULATOR_URL: z.url({ protocol: /^https?$/ }).optional(),
});

export type Env = Readonly<z.infer<typeof envSchema>>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`环境变量有误:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

const WECOM_REQUIRED = [
  'WECOM_CORP_ID',
  'WECOM_AGENT_ID',
  'WECOM_SECRET',
  'WECOM_TOKEN',
  'WECOM_ENCODING_AES_KEY',
] as const;

const DINGTALK_REQUIRED = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET', 'DINGTALK_ROBOT_CODE'] as const;

export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset": docker-compose and .env files produce them for blank lines.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  // WeCom is all or nothing: half a configuration would fail at the first callback instead of now.
  const wecomSet = WECOM_REQUIRED.filter((name) => result.data[name] !== undefined);
  if (wecomSet.length > 0 && wecomSet.length < WECOM_REQUIRED.length) {
    const missing = WECOM_REQUIRED.filter((name) => result.data[name] === undefined);
    throw new EnvError([
      `已设置 ${wecomSet.join(', ')}，但缺少 ${missing.join(', ')}（企业微信需要全部设置）`,
    ]);
  }
  // DingTalk too: the app key, its secret and the robot code, or none of them.
  const dingtalkSet = DINGTALK_REQUIRED.filter((name) => result.data[name] !== undefined);
  if (dingtalkSet.length > 0 && dingtalkSet.length < DINGTALK_REQUIRED.length) {
    const missing = DINGTALK_REQUIRED.filter((name) => result.data[name] === undefined);
    throw new EnvError([
      `已设置 ${dingtalkSet.join(', ')}，但缺少 ${missing.join(', ')}（钉钉需要全部设置）`,
    ]);
  }
  if (
    (result.data.DINGTALK_EVENT_TOKEN === undefined) !==
    (result.data.DINGTALK_EVENT_AES_KEY === undefined)
  ) {
    throw new EnvError(['DINGTALK_EVENT_TOKEN 与 DINGTALK_EVENT_AES_KEY 需要同时设置（钉钉事件订阅）']);
  }
  // Outbound URLs: the platforms' hosts or the configured emulator, nothing else (RELIABILITY.md
  // "Outbound delivery" 5): a mistyped or planted base would receive the app secrets.
  const outbound = checkOutboundUrls(result.data);
  if (outbound.length > 0) throw new EnvError(outbound);
  return Object.freeze(result.data);
}

/** The WeCom settings when WeCom is configured, else null. */
export function wecomSettings(env: Env) {
  if (!env.WECOM_CORP_ID) return null;
  return {
    corpId: env.WECOM_CORP_ID,
    agentId: env.WECOM_AGENT_ID!,
    secret: env.WECOM_SECRET!,
    tokens: [env.WECOM_TOKEN!, ...(env.WECOM_TOKEN_PREVIOUS ? [env.WECOM_TOKEN_PREVIOUS] : [])],
    encodingAesKey: env.WECOM_ENCODING_AES_KEY!,
    apiBase: env.WECOM_API_BASE,
    windowSeconds: env.CALLBACK_WINDOW_SECONDS,
    timeoutMs: env.WECOM_TIMEOUT_MS,
  };
}

export type WecomSettings = NonNullable<ReturnType<typeof wecomSettings>>;

/** The DingTalk settings when DingTalk is configured, else null. */
export function dingtalkSettings(env: Env) {
  if (!env.DINGTALK_APP_KEY) return null;
  return {
    appKey: env.DINGTALK_APP_KEY,
    appSecret: env.DINGTALK_APP_SECRET!,
    robotCode: env.DINGTALK_ROBOT_CODE!,
    mode: env.DINGTALK_MODE,
    apiBase: env.DINGTALK_API_BASE,
    oapiBase: env.DINGTALK_OAPI_BASE,
    cardTemplateId: env.DINGTALK_CARD_TEMPLATE_ID ?? null,
    callbackRouteKey: env.DINGTALK_CALLBACK_ROUTE_KEY,
    publicUrl: env.DINGTALK_PUBLIC_URL ?? null,
    event:
      env.DINGTALK_EVENT_TOKEN && env.DINGTALK_EVENT_AES_KEY
        ? { token: env.DINGTALK_EVENT_TOKEN, aesKey: env.DINGTALK_EVENT_AES_KEY }
        : null,
    windowSeconds: env.CALLBACK_WINDOW_SECONDS,
    timeoutMs: env.DINGTALK_TIMEOUT_MS,
  };
}

export type DingtalkSettings = NonNullable<ReturnType<typeof dingtalkSettings>>;
