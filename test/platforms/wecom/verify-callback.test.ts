import { createCipheriv, createHash } from 'node:crypto';
import { createManualClock } from '../../../src/lib/clock';
import { decodeAesKey, encryptMessage } from '../../../src/platforms/wecom/crypto';
import {
  type VerifyWecomRequestInput,
  verifyWecomRequest,
  type WecomCallbackQuery,
} from '../../../src/platforms/wecom/verify-callback';

const TOKEN = 'tokenCurrent123';
const OLD_TOKEN = 'tokenPrevious456';
const CORP_ID = 'ww1234567890abcdef';
const AES_KEY = decodeAesKey('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG');
const clock = createManualClock('2026-11-21T01:00:00.000Z');
const NOW_SECONDS = Math.floor(clock.now().getTime() / 1000);

/** Signature computed independently of the module under test (91144). */
function sign(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

interface Signed {
  query: { msg_signature: string; timestamp: string; nonce: string; echostr?: string };
  encrypt: string;
}

function signedRequest(
  opts: { token?: string; age?: number; message?: string; receiveId?: string } = {},
): Signed {
  const encrypt = encryptMessage(
    AES_KEY,
    opts.message ?? '<xml><MsgType><![CDATA[text]]></MsgType></xml>',
    opts.receiveId ?? CORP_ID,
  );
  const timestamp = String(NOW_SECONDS - (opts.age ?? 0));
  const nonce = '1372623149';
  return {
    query: { msg_signature: sign(opts.token ?? TOKEN, timestamp, nonce, encrypt), timestamp, nonce },
    encrypt,
  };
}

function verify(
  req: { query: WecomCallbackQuery; encrypt: string },
  overrides: Partial<VerifyWecomRequestInput> = {},
) {
  return verifyWecomRequest({
    query: req.query,
    encrypt: req.encrypt,
    tokens: [TOKEN],
    aesKey: AES_KEY,
    corpId: CORP_ID,
    now: clock.now(),
    windowSeconds: 300,
    ...overrides,
  });
}

/** Changes one character, keeping the string's length and alphabet. */
function flipChar(value: string, index = Math.floor(value.length / 2)): string {
  const c = value[index]!;
  const replacement = c === 'A' ? 'B' : c === '0' ? '1' : /[0-9]/.test(c) ? '0' : 'A';
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

const REJECT_401 = { ok: false, status: 401 };

describe('verifyWecomRequest: signature matrix', () => {
  it('accepts a valid POST callback and returns the plaintext', () => {
    expect(verify(signedRequest({ message: 'hello' }))).toEqual({ ok: true, plaintext: 'hello' });
  });

  it('accepts the GET URL check through the same function (echostr as the ciphertext)', () => {
    const req = signedRequest({ message: '1616140317555161061' });
    const query = { ...req.query, echostr: req.encrypt };
    expect(verify({ query, encrypt: query.echostr })).toEqual({ ok: true, plaintext: '1616140317555161061' });
  });

  it('rejects one character changed in the signature', () => {
    const req = signedRequest();
    const result = verify({
      ...req,
      query: { ...req.query, msg_signature: flipChar(req.query.msg_signature) },
    });
    expect(result).toEqual({ ...REJECT_401, reason: 'bad_signature' });
  });

  it('rejects one character changed in encrypt', () => {
    const req = signedRequest();
    expect(verify({ ...req, encrypt: flipChar(req.encrypt, 10) })).toEqual({
      ...REJECT_401,
      reason: 'bad_signature',
    });
  });

  it('rejects one character changed in the nonce', () => {
    const req = signedRequest();
    const result = verify({ ...req, query: { ...req.query, nonce: flipChar(req.query.nonce) } });
    expect(result).toEqual({ ...REJECT_401, reason: 'bad_signature' });
  });

  it('rejects the timestamp changed by one second (still inside the window)', () => {
    const req = signedRequest();
    const result = verify({ ...req, query: { ...req.query, timestamp: String(NOW_SECONDS - 1) } });
    expect(result).toEqual({ ...REJECT_401, reason: 'bad_signature' });
  });

  it('rejects a signature made with the wrong token', () => {
    expect(verify(signedRequest({ token: 'someoneElsesToken' }))).toEqual({
      ...REJECT_401,
      reason: 'bad_signature',
    });
  });

  it('accepts the previous token during a rotation, in either position', () => {
    const req = signedRequest({ token: OLD_TOKEN, message: 'rotated' });
    expect(verify(req, { tokens: [TOKEN, OLD_TOKEN] })).toEqual({ ok: true, plaintext: 'rotated' });
    expect(verify(req, { tokens: [OLD_TOKEN, TOKEN] })).toEqual({ ok: true, plaintext: 'rotated' });
    expect(verify(req, { tokens: [TOKEN] })).toEqual({ ...REJECT_401, reason: 'bad_signature' });
  });

  it('never accepts an empty token, even when the signature was made with one', () => {
    expect(verify(signedRequest({ token: '' }), { tokens: ['', TOKEN] })).toEqual({
      ...REJECT_401,
      reason: 'bad_signature',
    });
    expect(verify(signedRequest(), { tokens: [] })).toEqual({ ...REJECT_401, reason: 'bad_signature' });
  });

  it('rejects an uppercase or truncated signature', () => {
    const req = signedRequest();
    const upper = verify({
      ...req,
      query: { ...req.query, msg_signature: req.query.msg_signature.toUpperCase() },
    });
    expect(upper).toEqual({ ...REJECT_401, reason: 'bad_signature' });
    const short = verify({
      ...req,
      query: { ...req.query, msg_signature: req.query.msg_signature.slice(0, 39) },
    });
    expect(short).toEqual({ ...REJECT_401, reason: 'bad_signature' });
  });
});

describe('verifyWecomRequest: staleness (300 s window)', () => {
  it.each([299, -299, 300, -300])('accepts a timestamp %i s old', (age) => {
    expect(verify(signedRequest({ age, message: 'fresh' }))).toEqual({ ok: true, plaintext: 'fresh' });
  });

  it.each([301, -301, 86_400])('rejects a timestamp %i s old, even when correctly signed', (age) => {
    expect(verify(signedRequest({ age }))).toEqual({ ...REJECT_401, reason: 'stale_timestamp' });
  });

  it('checks the timestamp before the signature', () => {
    const req = signedRequest({ age: 301 });
    const forged = { ...req, query: { ...req.query, msg_signature: flipChar(req.query.msg_signature) } };
    expect(verify(forged)).toEqual({ ...REJECT_401, reason: 'stale_timestamp' });
  });

  it('treats a malformed timestamp like a stale one', () => {
    const req = signedRequest();
    expect(verify({ ...req, query: { ...req.query, timestamp: '17e8' } })).toEqual({
      ...REJECT_401,
      reason: 'stale_timestamp',
    });
  });

  it('follows the injected clock', () => {
    const local = createManualClock('2026-11-21T01:00:00.000Z');
    const req = signedRequest({ message: 'tick' });
    expect(verify(req, { now: local.now() })).toEqual({ ok: true, plaintext: 'tick' });
    local.advance(301_000);
    expect(verify(req, { now: local.now() })).toEqual({ ...REJECT_401, reason: 'stale_timestamp' });
  });
});

describe('verifyWecomRequest: missing parameters → 400', () => {
  it.each(['msg_signature', 'timestamp', 'nonce'] as const)('missing %s', (name) => {
    const req = signedRequest();
    const query: WecomCallbackQuery = { ...req.query };
    delete query[name];
    expect(verify({ query, encrypt: req.encrypt })).toEqual({
      ok: false,
      status: 400,
      reason: 'missing_params',
    });
    expect(verify({ query: { ...req.query, [name]: '' }, encrypt: req.encrypt })).toEqual({
      ok: false,
      status: 400,
      reason: 'missing_params',
    });
  });

  it('missing ciphertext (no echostr on GET, no Encrypt in the body)', () => {
    const req = signedRequest();
    expect(verify({ query: req.query, encrypt: '' })).toEqual({
      ok: false,
      status: 400,
      reason: 'missing_params',
    });
  });

  it('a repeated query parameter (array) counts as missing', () => {
    const req = signedRequest();
    const query = { ...req.query, nonce: [req.query.nonce, req.query.nonce] };
    expect(verify({ query, encrypt: req.encrypt })).toEqual({
      ok: false,
      status: 400,
      reason: 'missing_params',
    });
  });
});

describe('verifyWecomRequest: signed but not ours → 401', () => {
  function signedCiphertext(encrypt: string): Signed {
    const timestamp = String(NOW_SECONDS);
    const nonce = '42';
    return { query: { msg_signature: sign(TOKEN, timestamp, nonce, encrypt), timestamp, nonce }, encrypt };
  }

  function rawCiphertext(padded: Buffer): string {
    const cipher = createCipheriv('aes-256-cbc', AES_KEY, AES_KEY.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
  }

  it('a receiveid of another corp', () => {
    expect(verify(signedRequest({ receiveId: 'ww_other_corp' }))).toEqual({
      ...REJECT_401,
      reason: 'receiveid_mismatch',
    });
  });

  it('bad padding', () => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(2);
    const body = Buffer.concat([Buffer.alloc(16, 7), len, Buffer.from('hi'), Buffer.from(CORP_ID)]);
    const padded = Buffer.concat([body, Buffer.alloc(64 - body.length, 0x41)]); // 0x41 = 65 > 32
    expect(verify(signedCiphertext(rawCiphertext(padded)))).toEqual({
      ...REJECT_401,
      reason: 'bad_ciphertext',
    });
  });

  it('garbage base64', () => {
    expect(verify(signedCiphertext('this is *not* base64!'))).toEqual({
      ...REJECT_401,
      reason: 'bad_ciphertext',
    });
  });

  it('a ciphertext encrypted under another key', () => {
    const otherKey = decodeAesKey('ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg');
    const result = verify(signedCiphertext(encryptMessage(otherKey, 'hello', CORP_ID)));
    expect(result.ok).toBe(false);
    expect(result).toMatchObject(REJECT_401);
  });

  it('every 401 has the same shape apart from the log-only reason', () => {
    const results = [
      verify(signedRequest({ age: 301 })),
      verify(signedRequest({ token: 'wrong' })),
      verify(signedRequest({ receiveId: 'ww_other' })),
      verify(signedCiphertext('@@@@')),
    ];
    for (const result of results) {
      expect(Object.keys(result).sort()).toEqual(['ok', 'reason', 'status']);
      expect(result).toMatchObject(REJECT_401);
    }
  });

  it('a misconfigured key is our fault: it throws instead of answering 401', () => {
    expect(() => verify(signedRequest(), { aesKey: Buffer.alloc(16) })).toThrow(/32 bytes/);
  });
});
