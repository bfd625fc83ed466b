import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures on lead intake (RELIABILITY.md, inbound rule 8; standardwebhooks.com,
 * spec v1): a source that sets `sources[].signing` must send
 *
 *   webhook-id: msg_…               unique per message; a retry repeats it
 *   webhook-timestamp: 1700000000   Unix seconds; refused more than the tolerance away from now
 *   webhook-signature: v1,<base64>  space-separated, one per secret while rotating
 *
 * where each `v1` signature is base64(HMAC-SHA256(key, `${id}.${timestamp}.${raw body}`)) and the key
 * is the base64 part of the `whsec_…` secret. Only `v1` entries are read (`v1a`, the asymmetric
 * variant, is not offered). Written on node:crypto rather than the reference `standardwebhooks` npm
 * package, whose SHA-256 is pure JavaScript; the tests check this code against that package.
 */

export const SECRET_PREFIX = 'whsec_';
/** The spec's secrets are 24–64 random bytes; we generate 32. */
const SECRET_BYTES = 32;
export const DEFAULT_TOLERANCE_SECONDS = 300;
const MAX_ID_LENGTH = 191;
const MAX_SIGNATURE_HEADER = 2_000;

export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key of a `whsec_…` secret (the schema checked its shape). */
export function signingKey(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

/** HMAC-SHA256 of `${id}.${timestamp}.${body}`: the bytes a `v1` signature carries in base64. */
function mac(key: Buffer, id: string, timestamp: number | string, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}

export function signPayload(
  key: Buffer,
  id: string,
  timestamp: number | string,
  body: Buffer | string,
): string {
  return `v1,${mac(key, id, timestamp, body).toString('base64')}`;
}

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type SignatureFailure =
  | 'missing_headers'
  | 'invalid_webhook_id'
  | 'invalid_timestamp'
  | 'stale_timestamp'
  | 'invalid_signature';

export type SignatureCheck =
  | { ok: true; webhookId: string }
  | { ok: false; reason: SignatureFailure; message: string };

const fail = (reason: SignatureFailure, message: string): SignatureCheck => ({ ok: false, reason, message });

/** Checks one request against a source's keys (any of them may have signed it: secret rotation). */
export function verifySignature(input: {
  keys: readonly Buffer[];
  headers: SignedHeaders;
  body: Buffer;
  now: Date;
  toleranceSeconds?: number;
}): SignatureCheck {
  const { id, timestamp, signature } = input.headers;
  if (!id || !timestamp || !signature) {
    const missing = [
      !id && 'webhook-id',
      !timestamp && 'webhook-timestamp',
      !signature && 'webhook-signature',
    ].filter(Boolean);
    return fail('missing_headers', `此来源要求 Standard Webhooks 签名，缺少请求头 ${missing.join('、')}`);
  }
  if (id.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id)) {
    return fail('invalid_webhook_id', 'webhook-id 必须是 1–191 个可见 ASCII 字符');
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return fail('invalid_timestamp', 'webhook-timestamp 必须是 Unix 秒数（整数）');
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const skew = Number(timestamp) - Math.floor(input.now.getTime() / 1000);
  if (Math.abs(skew) > tolerance) {
    return fail(
      'stale_timestamp',
      `webhook-timestamp 与服务器时间相差 ${Math.abs(skew)} 秒，超过允许的 ${tolerance} 秒（请检查发送方时钟，或这是一次重放）`,
    );
  }
  if (signature.length > MAX_SIGNATURE_HEADER) return fail('invalid_signature', 'webhook-signature 过长');
  const offered: Buffer[] = [];
  for (const entry of signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    offered.push(Buffer.from(entry.slice(comma + 1), 'base64'));
  }
  if (offered.length === 0) return fail('invalid_signature', 'webhook-signature 中没有 v1 签名');
  for (const key of input.keys) {
    const expected = mac(key, id, timestamp, input.body);
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        return { ok: true, webhookId: id };
      }
    }
  }
  return fail('invalid_signature', 'webhook-signature 验证失败：签名与请求体或密钥不符');
}
