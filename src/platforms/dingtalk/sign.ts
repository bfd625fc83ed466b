/**
 * DingTalk's HMAC signatures (PLATFORMS.md "DingTalk"): one algorithm, two uses.
 *
 * - Robot message callbacks (HTTP mode, 机器人接收消息): headers `timestamp` (ms) and
 *   `sign = base64(HmacSHA256(key = appSecret, timestamp + "\n" + appSecret))`. The body is NOT signed.
 * - The custom group robot (自定义机器人 加签): `sign = urlencode(base64(HmacSHA256(key = secret,
 *   timestamp + "\n" + secret)))`, appended to the webhook URL with `&timestamp=&sign=`.
 *
 * Pure functions in the style of bolt-js `verify-request.ts`: "now" is injected, comparisons are
 * constant-time after a length check, and the staleness window is ours (300 s, RELIABILITY.md inbound
 * rule 4), stricter than DingTalk's documented hour.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `base64(HmacSHA256(secret, timestamp + "\n" + secret))`, not URL-encoded. */
export function dingtalkSign(secret: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

/** Milliseconds since the epoch, digits only. */
const MS_TIMESTAMP_RE = /^\d{1,15}$/;

export type DingtalkSignCheck = 'ok' | 'missing' | 'invalid_timestamp' | 'stale' | 'future' | 'bad_sign';

export interface VerifyDingtalkSignInput {
  timestamp: unknown;
  sign: unknown;
  /** The app secret, plus the previous one during a rotation. Empty ones are skipped. */
  secrets: readonly string[];
  now: Date;
  windowSeconds: number;
}

/**
 * Checks a robot callback's `timestamp` + `sign` headers. Every secret is tried (no early exit), so
 * the timing does not tell which one matched.
 */
export function verifyDingtalkSign(input: VerifyDingtalkSignInput): DingtalkSignCheck {
  const { timestamp, sign } = input;
  if (typeof timestamp !== 'string' || typeof sign !== 'string' || !timestamp || !sign) return 'missing';
  if (!MS_TIMESTAMP_RE.test(timestamp)) return 'invalid_timestamp';
  const age = input.now.getTime() - Number(timestamp);
  if (age > input.windowSeconds * 1000) return 'stale';
  if (-age > input.windowSeconds * 1000) return 'future';
  const given = Buffer.from(sign, 'utf8');
  let matched = false;
  for (const secret of input.secrets) {
    if (typeof secret !== 'string' || secret.length === 0) continue;
    const expected = Buffer.from(dingtalkSign(secret, timestamp), 'utf8');
    const equal = expected.length === given.length && timingSafeEqual(expected, given);
    matched = equal || matched;
  }
  return matched ? 'ok' : 'bad_sign';
}

/** `timestamp=…&sign=…` for a custom robot post (sign URL-encoded, as the robot docs require). */
export function customRobotQuery(secret: string, nowMs: number): string {
  const timestamp = String(nowMs);
  return `timestamp=${timestamp}&sign=${encodeURIComponent(dingtalkSign(secret, timestamp))}`;
}
