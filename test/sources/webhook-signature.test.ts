import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  generateSigningSecret,
  signingKey,
  signPayload,
  verifySignature,
} from '../../src/sources/webhook-signature';

// The spec's own example (standardwebhooks.com, "Signature scheme"): secret, id, timestamp, body and signature.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const at = (seconds: number) => new Date(seconds * 1000);

function check(
  overrides: Partial<{ id: string; timestamp: string; signature: string; body: string }> = {},
  now = at(1614265330),
) {
  const input = { ...SPEC, ...overrides };
  return verifySignature({
    keys: [signingKey(SPEC.secret)],
    headers: { id: input.id, timestamp: input.timestamp, signature: input.signature },
    body: Buffer.from(input.body),
    now,
  });
}

describe('Standard Webhooks signatures (pure)', () => {
  it('signs the spec example byte for byte and accepts it', () => {
    expect(signPayload(signingKey(SPEC.secret), SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
    expect(check()).toEqual({ ok: true, webhookId: SPEC.id });
  });

  it('agrees with the reference standardwebhooks package on any body, id and time', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.stringMatching(/^msg_[A-Za-z0-9]{1,30}$/),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        (body, id, seconds) => {
          const secret = generateSigningSecret();
          const reference = new Webhook(secret).sign(id, at(seconds), body);
          expect(signPayload(signingKey(secret), id, seconds, body)).toBe(reference);
          const verified = verifySignature({
            keys: [signingKey(secret)],
            headers: { id, timestamp: String(seconds), signature: reference },
            body: Buffer.from(body),
            now: at(seconds + 299),
          });
          expect(verified.ok).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a changed body, id or timestamp, and a signature made with another secret', () => {
    expect(check({ body: '{"test": 2432232315}' })).toMatchObject({ ok: false, reason: 'invalid_signature' });
    expect(check({ id: 'msg_other' })).toMatchObject({ ok: false, reason: 'invalid_signature' });
    expect(check({ timestamp: '1614265331' })).toMatchObject({ ok: false, reason: 'invalid_signature' });
    const other = signPayload(signingKey(generateSigningSecret()), SPEC.id, SPEC.timestamp, SPEC.body);
    expect(check({ signature: other })).toMatchObject({ ok: false, reason: 'invalid_signature' });
  });

  it('accepts any listed v1 signature (secret rotation) and ignores other versions', () => {
    const old = signPayload(signingKey(generateSigningSecret()), SPEC.id, SPEC.timestamp, SPEC.body);
    expect(check({ signature: `${old} ${SPEC.signature}` }).ok).toBe(true);
    expect(check({ signature: `v1a,${SPEC.signature.slice(3)}` })).toMatchObject({
      ok: false,
      reason: 'invalid_signature',
      message: 'webhook-signature 中没有 v1 签名',
    });
    // Either of two configured secrets may have signed.
    const verified = verifySignature({
      keys: [signingKey(generateSigningSecret()), signingKey(SPEC.secret)],
      headers: { id: SPEC.id, timestamp: SPEC.timestamp, signature: SPEC.signature },
      body: Buffer.from(SPEC.body),
      now: at(1614265330),
    });
    expect(verified.ok).toBe(true);
  });

  it('refuses timestamps more than the tolerance away, either way, and says by how much', () => {
    expect(check({}, at(1614265330 + 300)).ok).toBe(true);
    expect(check({}, at(1614265330 - 300)).ok).toBe(true);
    expect(check({}, at(1614265330 + 301))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
      message:
        'webhook-timestamp 与服务器时间相差 301 秒，超过允许的 300 秒（请检查发送方时钟，或这是一次重放）',
    });
    expect(check({}, at(1614265330 - 301))).toMatchObject({ ok: false, reason: 'stale_timestamp' });
  });

  it('names the missing headers and refuses malformed ones', () => {
    expect(
      verifySignature({
        keys: [signingKey(SPEC.secret)],
        headers: { id: SPEC.id, timestamp: undefined, signature: undefined },
        body: Buffer.from(SPEC.body),
        now: at(1614265330),
      }),
    ).toEqual({
      ok: false,
      reason: 'missing_headers',
      message: '此来源要求 Standard Webhooks 签名，缺少请求头 webhook-timestamp、webhook-signature',
    });
    expect(check({ timestamp: '1614265330.5' })).toMatchObject({ reason: 'invalid_timestamp' });
    expect(check({ timestamp: '-1' })).toMatchObject({ reason: 'invalid_timestamp' });
    expect(check({ id: 'msg with space' })).toMatchObject({ reason: 'invalid_webhook_id' });
    expect(check({ id: 'x'.repeat(192) })).toMatchObject({ reason: 'invalid_webhook_id' });
    expect(check({ signature: 'v1' })).toMatchObject({ reason: 'invalid_signature' });
    expect(check({ signature: `v1,${'A'.repeat(3000)}` })).toMatchObject({ reason: 'invalid_signature' });
  });

  it('never throws on arbitrary header values', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (id, timestamp, signature, body) => {
        const result = check({ id, timestamp, signature, body });
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});
