/**
 * WeCom callback crypto (加解密方案, developer.work.weixin.qq.com/document/path/91144).
 *
 * Pure functions, in the style of bolt-js `verify-request.ts`: the caller injects "now", every
 * signature comparison is constant-time, and nothing here reads the clock or the environment.
 *
 * Decision (brief: "re-implement decrypt with node crypto, your call"): encryption and decryption
 * are implemented here with `node:crypto` directly, and `@wecom/crypto` is only used for the
 * signature hash. Its `decrypt` cannot be hardened from outside:
 * - it takes the EncodingAESKey string, not the key bytes, and re-parses it on every call;
 * - it decodes base64 leniently (Node skips invalid characters), so garbage turns into "bytes";
 * - `pkcs7Unpad` returns the data untouched when the pad byte is outside 1..32 and never checks that
 *   the pad bytes agree;
 * - it trusts the declared 4-byte length, so a length past the end yields a truncated message and an
 *   empty receiveid instead of an error, and a short plaintext makes `readUInt32BE` throw a
 *   RangeError;
 * - it does not compare the receiveid at all.
 * The algorithm is small (AES-256-CBC, IV = key[0..16], PKCS#7 to 32 bytes) and is pinned by the
 * independent vectors and by WeCom's own sample in test/platforms/wecom/crypto-vectors.test.ts, plus
 * an interop check against `@wecom/crypto` in both directions.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { getSignature } from '@wecom/crypto';

/** 91144: AESKey is 32 bytes; the IV is its first 16 bytes. */
const AES_KEY_BYTES = 32;
const IV_BYTES = 16;
/** 91144: plaintext = random(16) + msg_len(4, big-endian) + msg + receiveid. */
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const HEADER_BYTES = RANDOM_BYTES + LENGTH_BYTES;
/** 91144: PKCS#7 padding to a multiple of 32 bytes (not AES's 16), so the pad byte is 1..32. */
const PAD_BLOCK = 32;

/** EncodingAESKey: 43 characters of [a-zA-Z0-9] (91144); we also accept the other base64 letters. */
const ENCODING_AES_KEY_RE = /^[A-Za-z0-9+/]{43}$/;
/** Canonical padded base64 only: Node's decoder silently skips anything else. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** msg_signature is a lowercase hex sha1 (91144). */
const SIGNATURE_HEX_LENGTH = 40;

export type WecomCryptoErrorReason =
  /** The AES key is not 32 bytes (a configuration error, not a forged request). */
  | 'bad_key'
  /** The ciphertext is not canonical base64. */
  | 'bad_base64'
  /** The PKCS#7 pad byte is outside 1..32 or the pad bytes disagree. */
  | 'bad_padding'
  /** The ciphertext is not a whole number of 32-byte blocks, or the declared msg_len runs past the end. */
  | 'bad_length'
  /** The trailing receiveid is not ours (another corp's or suite's message). */
  | 'receiveid_mismatch';

export class WecomCryptoError extends Error {
  constructor(
    readonly reason: WecomCryptoErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'WecomCryptoError';
  }
}

/**
 * `AESKey = base64decode(EncodingAESKey + "=")` (91144). Call it when loading config so a bad key
 * fails at startup, not on the first callback. The error never echoes the key.
 */
export function decodeAesKey(encodingAesKey: string): Buffer {
  if (typeof encodingAesKey !== 'string' || !ENCODING_AES_KEY_RE.test(encodingAesKey)) {
    const length = typeof encodingAesKey === 'string' ? encodingAesKey.length : 0;
    throw new WecomCryptoError(
      'bad_key',
      `EncodingAESKey 必须是 43 个字母或数字 (WeCom 91144); got ${length} characters or invalid characters`,
    );
  }
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== AES_KEY_BYTES) {
    // Unreachable with the regex above; kept so the invariant is checked where it is relied on.
    throw new WecomCryptoError('bad_key', `EncodingAESKey 解码后必须是 32 字节; got ${key.length}`);
  }
  return key;
}

/** `msg_signature = sha1(sort([token, timestamp, nonce, encrypt]).join(''))` (91144). */
export function computeSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return getSignature(token, timestamp, nonce, encrypt);
}

export interface VerifySignatureInput {
  /** The current token, plus the previous one during a rotation (RELIABILITY.md, inbound rule 3). */
  tokens: readonly string[];
  timestamp: string;
  nonce: string;
  /** The `Encrypt` element of a POST body, or the `echostr` query parameter of the GET check (90930). */
  encrypt: string;
  /** The `msg_signature` query parameter. */
  signature: string;
}

/**
 * Constant-time check of `msg_signature` against every configured token. Every token is tried (no
 * early exit) so the timing does not say which one matched. Empty tokens are skipped: with an empty
 * token anyone could compute a valid signature.
 */
export function verifySignature(input: VerifySignatureInput): boolean {
  const given = Buffer.from(input.signature, 'utf8');
  if (given.length !== SIGNATURE_HEX_LENGTH) return false;
  let matched = false;
  for (const token of input.tokens) {
    if (typeof token !== 'string' || token.length === 0) continue;
    const expected = Buffer.from(
      computeSignature(token, input.timestamp, input.nonce, input.encrypt),
      'utf8',
    );
    // Both are 40 bytes here; the length check stays because timingSafeEqual throws otherwise.
    const equal = expected.length === given.length && timingSafeEqual(expected, given);
    matched = equal || matched;
  }
  return matched;
}

export type TimestampCheck = 'ok' | 'stale' | 'future' | 'invalid';

/** Seconds since the epoch, as WeCom sends them (90930): digits only, no sign, no fraction. */
const TIMESTAMP_RE = /^\d{1,12}$/;

/**
 * Staleness rule (RELIABILITY.md, inbound rule 4): reject a timestamp more than `windowSeconds` away
 * from `now` in either direction; exactly `windowSeconds` away is still accepted. WeCom timestamps are
 * whole seconds, so `now` is truncated to the second before comparing.
 */
export function checkTimestamp(timestamp: string, now: Date, windowSeconds = 300): TimestampCheck {
  if (typeof timestamp !== 'string' || !TIMESTAMP_RE.test(timestamp)) return 'invalid';
  if (!Number.isFinite(windowSeconds) || windowSeconds < 0) {
    throw new RangeError(`windowSeconds must be a non-negative number; got ${windowSeconds}`);
  }
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now is an invalid Date');
  const nowSeconds = Math.floor(nowMs / 1000);
  const age = nowSeconds - Number(timestamp);
  if (age > windowSeconds) return 'stale';
  if (-age > windowSeconds) return 'future';
  return 'ok';
}

function assertKey(aesKey: Buffer): void {
  if (!Buffer.isBuffer(aesKey) || aesKey.length !== AES_KEY_BYTES) {
    throw new WecomCryptoError('bad_key', 'AES key must be 32 bytes (use decodeAesKey)');
  }
}

/**
 * Decrypts an `Encrypt` value or an `echostr` (91144) and checks what `@wecom/crypto` does not:
 * canonical base64, whole 32-byte blocks, a consistent PKCS#7 pad of 1..32, a declared length that
 * fits, and the receiveid (the corpid for a self-built app).
 *
 * Call it only after `verifySignature` succeeded: the padding check is not constant-time, which is
 * harmless only because an attacker without the token cannot reach it (no padding oracle).
 */
export function decryptMessage(aesKey: Buffer, encrypt: string, expectedReceiveId: string): string {
  assertKey(aesKey);
  if (typeof encrypt !== 'string' || encrypt.length === 0 || !BASE64_RE.test(encrypt)) {
    throw new WecomCryptoError('bad_base64', 'ciphertext is not canonical base64');
  }
  const ciphertext = Buffer.from(encrypt, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % PAD_BLOCK !== 0) {
    throw new WecomCryptoError(
      'bad_length',
      `ciphertext is ${ciphertext.length} bytes, not a multiple of 32`,
    );
  }

  const decipher = createDecipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, IV_BYTES));
  // Node's auto padding assumes 16-byte PKCS#7 blocks; WeCom pads to 32, so we unpad ourselves.
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);

  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > PAD_BLOCK) {
    throw new WecomCryptoError('bad_padding', `PKCS#7 pad byte ${pad} is outside 1..32`);
  }
  for (let i = padded.length - pad; i < padded.length; i++) {
    if (padded[i] !== pad) throw new WecomCryptoError('bad_padding', 'PKCS#7 pad bytes disagree');
  }
  const plain = padded.subarray(0, padded.length - pad);

  if (plain.length < HEADER_BYTES) {
    throw new WecomCryptoError('bad_length', `plaintext is ${plain.length} bytes, shorter than its header`);
  }
  const messageLength = plain.readUInt32BE(RANDOM_BYTES);
  if (messageLength > plain.length - HEADER_BYTES) {
    throw new WecomCryptoError(
      'bad_length',
      `declared msg_len ${messageLength} exceeds the ${plain.length - HEADER_BYTES} bytes available`,
    );
  }
  const messageEnd = HEADER_BYTES + messageLength;
  const receiveId = plain.subarray(messageEnd);
  // Not a secret, so a plain byte comparison is fine.
  if (!receiveId.equals(Buffer.from(expectedReceiveId, 'utf8'))) {
    throw new WecomCryptoError('receiveid_mismatch', 'receiveid does not match the configured corp');
  }
  return plain.subarray(HEADER_BYTES, messageEnd).toString('utf8');
}

/**
 * Encrypts for a passive reply (90930/91144) or for the emulator's callbacks. `random` (16 bytes) is
 * only for deterministic tests; production calls leave it out.
 */
export function encryptMessage(aesKey: Buffer, message: string, receiveId: string, random?: Buffer): string {
  assertKey(aesKey);
  const prefix = random ?? randomBytes(RANDOM_BYTES);
  if (!Buffer.isBuffer(prefix) || prefix.length !== RANDOM_BYTES) {
    throw new RangeError(`random must be ${RANDOM_BYTES} bytes`);
  }
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(body.length, 0);
  const unpadded = Buffer.concat([prefix, length, body, Buffer.from(receiveId, 'utf8')]);
  // PKCS#7 to 32 (91144): a full block of 32s when the length is already a multiple of 32.
  const pad = PAD_BLOCK - (unpadded.length % PAD_BLOCK);
  const padded = Buffer.concat([unpadded, Buffer.alloc(pad, pad)]);

  const cipher = createCipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, IV_BYTES));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}
