import { createHmac } from 'node:crypto';
import { classifyApiAnswer, classifyRobotAnswer } from '../../../src/platforms/dingtalk/errors';
import { dingtalkSign, verifyDingtalkSign } from '../../../src/platforms/dingtalk/sign';

describe('classifyApiAnswer (v1.0)', () => {
  it.each([
    [{ kind: 'http', status: 200, body: { processQueryKey: 'k' } }, 'ok'],
    [{ kind: 'http', status: 401, body: { code: 'InvalidAuthentication' } }, 'refresh_token'],
    [{ kind: 'http', status: 400, body: { code: 'InvalidAuthentication' } }, 'refresh_token'],
    [{ kind: 'http', status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForApi' } }, 'retry'],
    [
      { kind: 'http', status: 403, body: { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' } },
      'permanent',
    ],
    [{ kind: 'http', status: 429, body: undefined, retryAfter: '3' }, 'retry'],
    [{ kind: 'http', status: 500, body: undefined }, 'retry'],
    [{ kind: 'http', status: 502, body: undefined }, 'ambiguous'],
    [{ kind: 'http', status: 400, body: { code: 'param.cardTemplateIdEmpty' } }, 'permanent'],
    [{ kind: 'http', status: 302, body: undefined }, 'permanent'],
    [{ kind: 'http', status: 200, body: undefined }, 'ambiguous'],
    [{ kind: 'network', code: 'ECONNREFUSED', message: '' }, 'retry'],
    [{ kind: 'network', code: 'ECONNABORTED', message: '' }, 'ambiguous'],
    [{ kind: 'network', code: 'ECONNRESET', message: '' }, 'ambiguous'],
  ] as const)('%j → %s', (answer, kind) => {
    expect(classifyApiAnswer(answer).kind).toBe(kind);
  });

  it('waits a second on a QPS limit and honours Retry-After', () => {
    expect(
      classifyApiAnswer({
        kind: 'http',
        status: 403,
        body: { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi' },
      }).retryAfterMs,
    ).toBe(1000);
    expect(
      classifyApiAnswer({ kind: 'http', status: 429, body: undefined, retryAfter: '7' }).retryAfterMs,
    ).toBe(7000);
  });
});

describe('classifyRobotAnswer (custom robot)', () => {
  it('waits ten minutes on 130101 and never retries a bad signature or token', () => {
    const throttled = classifyRobotAnswer({
      kind: 'http',
      status: 200,
      body: { errcode: 130101, errmsg: 'send too fast' },
    });
    expect(throttled).toMatchObject({ kind: 'retry', code: 'dingtalk_130101', retryAfterMs: 600_000 });
    expect(classifyRobotAnswer({ kind: 'http', status: 200, body: { errcode: 310000 } }).kind).toBe(
      'permanent',
    );
    expect(classifyRobotAnswer({ kind: 'http', status: 200, body: { errcode: 300001 } }).kind).toBe(
      'permanent',
    );
    expect(classifyRobotAnswer({ kind: 'http', status: 200, body: { errcode: 0 } }).kind).toBe('ok');
    expect(classifyRobotAnswer({ kind: 'http', status: 401, body: undefined }).kind).toBe('permanent');
  });
});

describe('robot callback signature', () => {
  const now = new Date('2026-11-21T01:00:00.000Z');
  const ts = String(now.getTime());
  const secret = 'app-secret';
  it('matches the documented algorithm', () => {
    // base64(HmacSHA256(secret, timestamp + "\n" + secret)), computed independently.
    const expected = createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');
    expect(dingtalkSign(secret, ts)).toBe(expected);
  });
  it.each([
    ['ok', { timestamp: ts, sign: dingtalkSign(secret, ts) }],
    ['missing', { timestamp: ts, sign: undefined }],
    ['bad_sign', { timestamp: ts, sign: dingtalkSign('other', ts) }],
    [
      'stale',
      {
        timestamp: String(now.getTime() - 301_000),
        sign: dingtalkSign(secret, String(now.getTime() - 301_000)),
      },
    ],
    [
      'future',
      {
        timestamp: String(now.getTime() + 301_000),
        sign: dingtalkSign(secret, String(now.getTime() + 301_000)),
      },
    ],
    ['invalid_timestamp', { timestamp: '-1', sign: 'x' }],
  ] as const)('%s', (result, input) => {
    expect(verifyDingtalkSign({ ...input, secrets: [secret], now, windowSeconds: 300 })).toBe(result);
  });
  it('accepts exactly 300 s either way', () => {
    const t = String(now.getTime() - 300_000);
    expect(
      verifyDingtalkSign({
        timestamp: t,
        sign: dingtalkSign(secret, t),
        secrets: [secret],
        now,
        windowSeconds: 300,
      }),
    ).toBe('ok');
  });
});
