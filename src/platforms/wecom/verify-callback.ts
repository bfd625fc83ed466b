/**
 * The single gate for inbound WeCom callbacks. The GET URL check (90930: decrypt `echostr`, answer
 * the plaintext) and the POST message/event callback (90238, 90240: decrypt `<Encrypt>`) both call
 * `verifyWecomRequest`, so the verification path has no side door (RELIABILITY.md, inbound rule 6).
 *
 * Order (RELIABILITY.md, inbound rule 2): missing query parameters → 400; timestamp outside the
 * window → 401; bad signature → 401; ciphertext that does not decrypt, or decrypts to another
 * receiveid → 401 (the signature was valid, but the content is not ours: treat it as forged). The
 * route must render every 401 the same bare way; `reason` is for logs only.
 */
import { checkTimestamp, decryptMessage, verifySignature, WecomCryptoError } from './crypto';

/**
 * Query parameters as the framework hands them over, already URL-decoded (90930 asks for it).
 * Typed `unknown` because frameworks may give arrays or objects for repeated or bracketed keys;
 * anything but a non-empty string counts as missing.
 */
export interface WecomCallbackQuery {
  msg_signature?: unknown;
  timestamp?: unknown;
  nonce?: unknown;
  echostr?: unknown;
}

export interface VerifyWecomRequestInput {
  query: WecomCallbackQuery;
  /**
   * The ciphertext the signature covers: `query.echostr` for the GET URL check, the `Encrypt` field of
   * the parsed body for a POST. Empty means missing.
   */
  encrypt: string;
  /** The current callback token, plus the previous one during a rotation. */
  tokens: readonly string[];
  /** From `decodeAesKey`, at config time. */
  aesKey: Buffer;
  /** The receiveid expected inside the plaintext: the corpid for a self-built app (91144). */
  corpId: string;
  now: Date;
  /** Defaults to 300 s (RELIABILITY.md, inbound rule 4). */
  windowSeconds?: number;
}

export type WecomRejectReason =
  | 'missing_params'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'bad_ciphertext'
  | 'receiveid_mismatch';

export type VerifyWecomRequestResult =
  | { ok: true; plaintext: string }
  | { ok: false; status: 400; reason: 'missing_params' }
  | { ok: false; status: 401; reason: Exclude<WecomRejectReason, 'missing_params'> };

export const DEFAULT_WINDOW_SECONDS = 300;

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

export function verifyWecomRequest(input: VerifyWecomRequestInput): VerifyWecomRequestResult {
  const { query, encrypt } = input;
  const signature = query.msg_signature;
  const timestamp = query.timestamp;
  const nonce = query.nonce;
  if (
    !nonEmptyString(signature) ||
    !nonEmptyString(timestamp) ||
    !nonEmptyString(nonce) ||
    !nonEmptyString(encrypt)
  ) {
    return { ok: false, status: 400, reason: 'missing_params' };
  }

  // A timestamp that is not whole seconds cannot be inside the window either: same 401 as a stale one,
  // so the caller learns nothing more from a malformed value than from an old one.
  if (checkTimestamp(timestamp, input.now, input.windowSeconds ?? DEFAULT_WINDOW_SECONDS) !== 'ok') {
    return { ok: false, status: 401, reason: 'stale_timestamp' };
  }

  if (!verifySignature({ tokens: input.tokens, timestamp, nonce, encrypt, signature })) {
    return { ok: false, status: 401, reason: 'bad_signature' };
  }

  try {
    return { ok: true, plaintext: decryptMessage(input.aesKey, encrypt, input.corpId) };
  } catch (error) {
    // 'bad_key' is our misconfiguration, not the sender's fault: let it surface as a 500.
    if (!(error instanceof WecomCryptoError) || error.reason === 'bad_key') throw error;
    if (error.reason === 'receiveid_mismatch')
      return { ok: false, status: 401, reason: 'receiveid_mismatch' };
    return { ok: false, status: 401, reason: 'bad_ciphertext' };
  }
}
