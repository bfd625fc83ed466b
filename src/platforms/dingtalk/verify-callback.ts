/**
 * The gates of inbound DingTalk HTTP callbacks (RELIABILITY.md "Inbound" 2–4), pure functions with an
 * injected clock. The route renders every 401 the same bare way; `reason` is for logs only.
 *
 * - Robot messages: headers `timestamp` (ms) and `sign` (sign.ts), our 300 s window.
 * - Card clicks: DingTalk posts to the URL we registered with `/v1.0/card/callbacks/register`. How
 *   DingTalk uses the registered `apiSecret` to sign a click is not documented where we could confirm
 *   it, so the adapter does not depend on it: the registered URL itself carries a secret path segment,
 *   an HMAC of the app secret (`cardCallbackToken`), compared in constant time. Only DingTalk (which
 *   holds the registration) and we know the URL. A replayed click has no effect (the inbox dedupes it).
 * - The encrypted event subscription: `msg_signature` (DingTalk also sends it as `signature`),
 *   `timestamp`, `nonce` over the body's `encrypt`, then decryption with the app key as receive id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DingtalkCryptoError, decryptEvent, verifyEventSignature } from './crypto';
import { verifyDingtalkSign } from './sign';

export type RobotCallbackCheck =
  | { ok: true }
  | { ok: false; status: 400; reason: 'missing_headers' }
  | { ok: false; status: 401; reason: 'stale_timestamp' | 'bad_signature' };

export function verifyRobotCallback(input: {
  headers: Record<string, string | string[] | undefined>;
  secrets: readonly string[];
  now: Date;
  windowSeconds: number;
}): RobotCallbackCheck {
  const single = (name: string) => {
    const v = input.headers[name];
    // A repeated header is as bad as a missing one: which copy would DingTalk have meant?
    return typeof v === 'string' ? v : undefined;
  };
  const check = verifyDingtalkSign({
    timestamp: single('timestamp'),
    sign: single('sign'),
    secrets: input.secrets,
    now: input.now,
    windowSeconds: input.windowSeconds,
  });
  switch (check) {
    case 'ok':
      return { ok: true };
    case 'missing':
      return { ok: false, status: 400, reason: 'missing_headers' };
    case 'bad_sign':
      return { ok: false, status: 401, reason: 'bad_signature' };
    default:
      // invalid, stale or future timestamps: the same 401.
      return { ok: false, status: 401, reason: 'stale_timestamp' };
  }
}

/** The secret path segment of our registered card callback URL: hex HMAC of the app secret. */
export function cardCallbackToken(appSecret: string, routeKey: string): string {
  return createHmac('sha256', appSecret).update(`leadrelay:card-callback:${routeKey}`, 'utf8').digest('hex');
}

/** The `apiSecret` we register with the callback URL (required by the API; derived, never the app secret). */
export function cardApiSecret(appSecret: string, routeKey: string): string {
  return createHmac('sha256', appSecret)
    .update(`leadrelay:card-api-secret:${routeKey}`, 'utf8')
    .digest('base64url')
    .slice(0, 32);
}

export function verifyCardCallbackToken(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export type EventCheck =
  | { ok: true; plaintext: string }
  | { ok: false; status: 400; reason: 'missing_params' }
  | {
      ok: false;
      status: 401;
      reason: 'stale_timestamp' | 'bad_signature' | 'bad_ciphertext' | 'receiveid_mismatch';
    };

/** DingTalk event timestamps are milliseconds; seconds are accepted too. */
function eventTimestampMs(timestamp: string): number | undefined {
  if (!/^\d{1,15}$/.test(timestamp)) return undefined;
  const n = Number(timestamp);
  return timestamp.length >= 13 ? n : n * 1000;
}

export function verifyEventRequest(input: {
  query: Record<string, unknown>;
  encrypt: unknown;
  token: string;
  aesKey: Buffer;
  appKey: string;
  now: Date;
  windowSeconds: number;
}): EventCheck {
  const { query } = input;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const signature = str(query.msg_signature) ?? str(query.signature);
  const timestamp = str(query.timestamp);
  const nonce = str(query.nonce);
  const encrypt = str(input.encrypt);
  if (!signature || !timestamp || !nonce || !encrypt)
    return { ok: false, status: 400, reason: 'missing_params' };
  const ms = eventTimestampMs(timestamp);
  if (ms === undefined || Math.abs(input.now.getTime() - ms) > input.windowSeconds * 1000) {
    return { ok: false, status: 401, reason: 'stale_timestamp' };
  }
  if (!verifyEventSignature({ tokens: [input.token], timestamp, nonce, encrypt, signature })) {
    return { ok: false, status: 401, reason: 'bad_signature' };
  }
  try {
    return { ok: true, plaintext: decryptEvent(input.aesKey, encrypt, input.appKey) };
  } catch (error) {
    if (!(error instanceof DingtalkCryptoError) || error.reason === 'bad_key') throw error;
    return {
      ok: false,
      status: 401,
      reason: error.reason === 'receiveid_mismatch' ? 'receiveid_mismatch' : 'bad_ciphertext',
    };
  }
}
