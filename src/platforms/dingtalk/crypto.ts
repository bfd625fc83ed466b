/**
 * Crypto of DingTalk's encrypted event subscription (事件订阅, HTTP mode). PLATFORMS.md "DingTalk":
 * the same scheme as WeCom's (path 91144): `msg_signature = sha1(sort([token, timestamp, nonce,
 * encrypt]).join(""))`; AES-256-CBC with key = base64(aes_key + "="), IV = key[0..16], PKCS#7 to 32
 * bytes; plaintext = 16 random bytes + 4-byte big-endian length + message + the receive id, which for
 * an internal app is its AppKey. So the hardened WeCom implementation is reused as it is (canonical
 * base64, strict padding, length and receive-id checks, constant-time signature compare); only the
 * names and the receive id differ.
 *
 * DingTalk's answer to an event is the encrypted string `success`, signed the same way, as JSON
 * `{msg_signature, timeStamp, nonce, encrypt}` (DingTalk's DingCallbackCrypto.getEncryptedMap).
 */
import { randomBytes } from 'node:crypto';
import {
  computeSignature,
  decodeAesKey,
  decryptMessage,
  encryptMessage,
  verifySignature,
  WecomCryptoError,
} from '../wecom/crypto';

export {
  computeSignature as computeEventSignature,
  decodeAesKey as decodeEventAesKey,
  decryptMessage as decryptEvent,
  encryptMessage as encryptEvent,
  verifySignature as verifyEventSignature,
  WecomCryptoError as DingtalkCryptoError,
};

export interface EncryptedAnswer {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

/** The encrypted, signed answer DingTalk expects (`success` for every event, check_url included). */
export function encryptedAnswer(input: {
  aesKey: Buffer;
  token: string;
  appKey: string;
  nowMs: number;
  message?: string;
  nonce?: string;
}): EncryptedAnswer {
  const encrypt = encryptMessage(input.aesKey, input.message ?? 'success', input.appKey);
  const timeStamp = String(input.nowMs);
  const nonce = input.nonce ?? randomBytes(6).toString('hex');
  return {
    msg_signature: computeSignature(input.token, timeStamp, nonce, encrypt),
    timeStamp,
    nonce,
    encrypt,
  };
}
