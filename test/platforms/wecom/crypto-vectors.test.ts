/**
 * Vectors for the WeCom crypto (91144) computed independently of `@wecom/crypto` and of our module:
 * the reference below follows the documented algorithm with `node:crypto` only. WeCom's own sample
 * (the WXBizMsgCrypt Sample of the official SDKs: token QDG6eK, corpid wx5823bf96d3bd56c7) is checked
 * as published.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import * as wecomLib from '@wecom/crypto';
import {
  checkTimestamp,
  computeSignature,
  decodeAesKey,
  decryptMessage,
  encryptMessage,
  verifySignature,
  WecomCryptoError,
} from '../../../src/platforms/wecom/crypto';

// --- Independent reference, straight from 91144 -------------------------------------------------

function refKey(encodingAesKey: string): Buffer {
  return Buffer.from(encodingAesKey + '=', 'base64');
}

function refEncrypt(key: Buffer, msg: string, receiveId: string, random: Buffer): string {
  const msgBytes = Buffer.from(msg, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msgBytes.length);
  const plain = Buffer.concat([random, len, msgBytes, Buffer.from(receiveId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

function refDecryptRaw(key: Buffer, encrypt: string): Buffer {
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
}

/** Encrypts raw bytes (already padded by the caller) to forge malformed plaintexts. */
function refEncryptRaw(key: Buffer, padded: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

function refSignature(...parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

// --- Fixtures --------------------------------------------------------------------------------------

const OFFICIAL = {
  token: 'QDG6eK',
  corpId: 'wx5823bf96d3bd56c7',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  verifyUrl: {
    msgSignature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    plaintext: '1616140317555161061',
  },
  message: {
    msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
    timestamp: '1409659813',
    nonce: '1372623149',
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/' +
      'sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+' +
      'LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9' +
      'EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2' +
      'YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  },
};

const ENCODING_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const CORP_ID = 'ww1234567890abcdef';
const RANDOM = Buffer.from('0123456789abcdef', 'latin1');

function expectCryptoError(fn: () => unknown, reason: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WecomCryptoError);
  expect((caught as WecomCryptoError).reason).toBe(reason);
}

// --- Tests -----------------------------------------------------------------------------------------

describe('decodeAesKey', () => {
  it('decodes 43 characters to the 32 bytes of base64(key + "=")', () => {
    const key = decodeAesKey(ENCODING_AES_KEY);
    expect(key).toHaveLength(32);
    expect(key.equals(refKey(ENCODING_AES_KEY))).toBe(true);
  });

  it.each([
    ['too short', ENCODING_AES_KEY.slice(0, 42)],
    ['too long', `${ENCODING_AES_KEY}A`],
    ['already padded', `${ENCODING_AES_KEY.slice(0, 42)}=`],
    ['non-base64 character', `${ENCODING_AES_KEY.slice(0, 42)}-`],
    ['empty', ''],
  ])('rejects a key that is %s, without echoing it', (_label, value) => {
    let caught: unknown;
    try {
      decodeAesKey(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WecomCryptoError);
    expect((caught as WecomCryptoError).reason).toBe('bad_key');
    expect((caught as Error).message).toContain('43');
    if (value.length > 0) expect((caught as Error).message).not.toContain(value);
  });
});

describe('independent vectors', () => {
  const key = refKey(ENCODING_AES_KEY);
  const messages = [
    '<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><MsgType><![CDATA[text]]></MsgType></xml>',
    '中文消息：长度按字节计算 ✅',
    '',
    // 16 + 4 + 12 + 18 = 50 → 14 bytes of padding; and a length that lands exactly on 64 (pad = 32).
    'x'.repeat(12),
    'y'.repeat(64 - 16 - 4 - CORP_ID.length),
  ];

  it.each(messages.map((m) => [m.length, m]))('decrypts a reference ciphertext (%i chars)', (_n, msg) => {
    const ciphertext = refEncrypt(key, msg, CORP_ID, RANDOM);
    expect(decryptMessage(decodeAesKey(ENCODING_AES_KEY), ciphertext, CORP_ID)).toBe(msg);
  });

  it.each(messages.map((m) => [m.length, m]))(
    'encrypts to the reference ciphertext (%i chars)',
    (_n, msg) => {
      expect(encryptMessage(key, msg, CORP_ID, RANDOM)).toBe(refEncrypt(key, msg, CORP_ID, RANDOM));
    },
  );

  it('pads a plaintext that is already a multiple of 32 with a whole block of 32s', () => {
    const msg = 'y'.repeat(64 - 16 - 4 - CORP_ID.length);
    const raw = refDecryptRaw(key, encryptMessage(key, msg, CORP_ID, RANDOM));
    expect(raw).toHaveLength(96);
    expect(raw.subarray(64).equals(Buffer.alloc(32, 32))).toBe(true);
  });

  it('uses fresh randomness when none is given', () => {
    const a = encryptMessage(key, 'hello', CORP_ID);
    const b = encryptMessage(key, 'hello', CORP_ID);
    expect(a).not.toBe(b);
    expect(decryptMessage(key, a, CORP_ID)).toBe('hello');
  });

  it('computes msg_signature as sha1 of the sorted strings', () => {
    // Hand-checked: sorted = ['1409659589', '263014780', 'QDG6eK', 'abc'] → joined → sha1.
    const expected = createHash('sha1').update('1409659589263014780QDG6eKabc').digest('hex');
    expect(computeSignature('QDG6eK', '1409659589', '263014780', 'abc')).toBe(expected);
    expect(computeSignature('token', '1700000000', 'nonce', 'Zm9v')).toBe(
      refSignature('token', '1700000000', 'nonce', 'Zm9v'),
    );
  });
});

describe("WeCom's official sample (WXBizMsgCrypt Sample, 91144/90930)", () => {
  const key = decodeAesKey(OFFICIAL.encodingAesKey);

  it('verifies and decrypts the "verify URL" echostr', () => {
    const v = OFFICIAL.verifyUrl;
    expect(computeSignature(OFFICIAL.token, v.timestamp, v.nonce, v.echostr)).toBe(v.msgSignature);
    expect(
      verifySignature({
        tokens: [OFFICIAL.token],
        timestamp: v.timestamp,
        nonce: v.nonce,
        encrypt: v.echostr,
        signature: v.msgSignature,
      }),
    ).toBe(true);
    expect(decryptMessage(key, v.echostr, OFFICIAL.corpId)).toBe(v.plaintext);
  });

  it('verifies and decrypts the sample text message', () => {
    const m = OFFICIAL.message;
    expect(computeSignature(OFFICIAL.token, m.timestamp, m.nonce, m.encrypt)).toBe(m.msgSignature);
    const plaintext = decryptMessage(key, m.encrypt, OFFICIAL.corpId);
    expect(plaintext).toContain('<Content><![CDATA[hello]]></Content>');
    expect(plaintext).toContain('<MsgId>4561255354251345929</MsgId>');
    // Cross-check with the independent reference: same bytes after the 20-byte header.
    const raw = refDecryptRaw(refKey(OFFICIAL.encodingAesKey), m.encrypt);
    const len = raw.readUInt32BE(16);
    expect(raw.subarray(20, 20 + len).toString('utf8')).toBe(plaintext);
  });

  it('refuses the sample under another corpid', () => {
    expectCryptoError(
      () => decryptMessage(key, OFFICIAL.verifyUrl.echostr, 'wx0000000000000000'),
      'receiveid_mismatch',
    );
  });
});

describe('interop with @wecom/crypto', () => {
  const key = decodeAesKey(ENCODING_AES_KEY);

  it('decrypts what the library encrypts, and the library decrypts ours', () => {
    const theirs = wecomLib.encrypt(ENCODING_AES_KEY, 'from the library', CORP_ID);
    expect(decryptMessage(key, theirs, CORP_ID)).toBe('from the library');
    const ours = encryptMessage(key, 'from us', CORP_ID, RANDOM);
    expect(wecomLib.decrypt(ENCODING_AES_KEY, ours)).toMatchObject({ message: 'from us', id: CORP_ID });
    expect(ours).toBe(wecomLib.encrypt(ENCODING_AES_KEY, 'from us', CORP_ID, RANDOM));
  });
});

describe('decryptMessage rejects what @wecom/crypto lets through', () => {
  const key = refKey(ENCODING_AES_KEY);
  const header = (msgLen: number) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msgLen);
    return Buffer.concat([RANDOM, len]);
  };

  it('garbage base64', () => {
    expectCryptoError(() => decryptMessage(key, '%%%not base64%%%', CORP_ID), 'bad_base64');
    expectCryptoError(() => decryptMessage(key, 'abc', CORP_ID), 'bad_base64');
    expectCryptoError(() => decryptMessage(key, '', CORP_ID), 'bad_base64');
  });

  it('a ciphertext that is not whole 32-byte blocks', () => {
    expectCryptoError(() => decryptMessage(key, Buffer.alloc(16).toString('base64'), CORP_ID), 'bad_length');
    expectCryptoError(() => decryptMessage(key, Buffer.alloc(48).toString('base64'), CORP_ID), 'bad_length');
  });

  it.each([0, 33, 255])('pad byte %i', (pad) => {
    const body = Buffer.concat([header(2), Buffer.from('hi'), Buffer.from(CORP_ID)]);
    const filler = Buffer.alloc(64 - body.length, pad);
    expectCryptoError(
      () => decryptMessage(key, refEncryptRaw(key, Buffer.concat([body, filler])), CORP_ID),
      'bad_padding',
    );
  });

  it('pad bytes that disagree', () => {
    const body = Buffer.concat([header(2), Buffer.from('hi'), Buffer.from(CORP_ID)]);
    const filler = Buffer.alloc(64 - body.length, 64 - body.length);
    filler[0] = 1; // the first pad byte differs from the last
    expectCryptoError(
      () => decryptMessage(key, refEncryptRaw(key, Buffer.concat([body, filler])), CORP_ID),
      'bad_padding',
    );
  });

  it('a declared length past the end', () => {
    const body = Buffer.concat([header(1000), Buffer.from('hi'), Buffer.from(CORP_ID)]);
    const pad = 64 - body.length;
    const ciphertext = refEncryptRaw(key, Buffer.concat([body, Buffer.alloc(pad, pad)]));
    expectCryptoError(() => decryptMessage(key, ciphertext, CORP_ID), 'bad_length');
  });

  it('a plaintext shorter than its header', () => {
    // 32 bytes with pad 32: nothing left, not even the random prefix.
    expectCryptoError(
      () => decryptMessage(key, refEncryptRaw(key, Buffer.alloc(32, 32)), CORP_ID),
      'bad_length',
    );
  });

  it('a receiveid of another corp', () => {
    const ciphertext = refEncrypt(key, 'hello', 'ww_other_corp', RANDOM);
    expectCryptoError(() => decryptMessage(key, ciphertext, CORP_ID), 'receiveid_mismatch');
  });

  it('a key that is not 32 bytes', () => {
    expectCryptoError(() => decryptMessage(Buffer.alloc(16), 'AAAA', CORP_ID), 'bad_key');
    expectCryptoError(() => encryptMessage(Buffer.alloc(31), 'x', CORP_ID), 'bad_key');
  });
});

describe('checkTimestamp', () => {
  const now = new Date('2026-11-21T01:00:00.000Z');
  const nowSeconds = Math.floor(now.getTime() / 1000);

  it.each([
    [0, 'ok'],
    [300, 'ok'],
    [-300, 'ok'],
    [301, 'stale'],
    [-301, 'future'],
  ])('age %i s → %s', (age, expected) => {
    expect(checkTimestamp(String(nowSeconds - age), now)).toBe(expected);
  });

  it('truncates now to whole seconds, as WeCom does', () => {
    expect(checkTimestamp(String(nowSeconds - 300), new Date(now.getTime() + 999))).toBe('ok');
  });

  it.each(['', 'abc', '-1', '1.5', ' 1700000000', '1e9', '1234567890123'])('invalid: %j', (value) => {
    expect(checkTimestamp(value, now)).toBe('invalid');
  });

  it('honours a custom window', () => {
    expect(checkTimestamp(String(nowSeconds - 61), now, 60)).toBe('stale');
    expect(checkTimestamp(String(nowSeconds - 60), now, 60)).toBe('ok');
  });
});
