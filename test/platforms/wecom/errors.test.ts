import { classifyWecomAnswer, type WecomOutcomeKind } from '../../../src/platforms/wecom/errors';

const errcode = (code: number, errmsg = 'whatever') =>
  classifyWecomAnswer({ kind: 'http', status: 200, body: { errcode: code, errmsg } });

describe('classifyWecomAnswer', () => {
  it.each<[number, WecomOutcomeKind]>([
    [0, 'ok'],
    [40014, 'refresh_token'],
    [42001, 'refresh_token'],
    [40001, 'permanent'],
    [-1, 'retry'],
    [6000, 'retry'],
    [45009, 'retry'],
    [45033, 'retry'],
    [81013, 'permanent'],
    [40058, 'permanent'],
    [42014, 'permanent'],
    [43012, 'permanent'],
    [93000, 'permanent'],
    [123456, 'permanent'],
  ])('errcode %i → %s', (code, kind) => {
    const c = errcode(code);
    expect(c).toMatchObject({ kind, code: `wecom_${code}`, errcode: code });
    expect(c.message).toMatch(/[\u4e00-\u9fff]/);
  });

  it('acts on errcode, never on errmsg', () => {
    expect(errcode(0, 'access_token expired').kind).toBe('ok');
    expect(errcode(-1, 'ok').kind).toBe('retry');
  });

  it('waits a minute after a frequency limit', () => {
    expect(errcode(45009).retryAfterMs).toBe(60_000);
    expect(errcode(-1).retryAfterMs).toBeUndefined();
  });

  it.each<[number, WecomOutcomeKind]>([
    [500, 'retry'],
    [503, 'retry'],
    [429, 'retry'],
    [408, 'retry'],
    [502, 'ambiguous'],
    [504, 'ambiguous'],
    [404, 'permanent'],
    [301, 'permanent'],
  ])('HTTP %i → %s', (status, kind) => {
    expect(classifyWecomAnswer({ kind: 'http', status, body: undefined })).toMatchObject({
      kind,
      code: `http_${status}`,
    });
  });

  it('honours Retry-After on retryable statuses', () => {
    expect(
      classifyWecomAnswer({ kind: 'http', status: 429, body: undefined, retryAfter: '7' }).retryAfterMs,
    ).toBe(7000);
    expect(
      classifyWecomAnswer({ kind: 'http', status: 429, body: undefined, retryAfter: 'soon' }).retryAfterMs,
    ).toBeUndefined();
  });

  it('treats a 200 that is not a WeCom answer as ambiguous', () => {
    for (const body of [undefined, 'ok', [], { errcode: '0' }, { msg: 'hi' }]) {
      expect(classifyWecomAnswer({ kind: 'http', status: 200, body })).toMatchObject({
        kind: 'ambiguous',
        code: 'bad_answer',
      });
    }
  });

  it.each<[string | undefined, WecomOutcomeKind]>([
    ['ECONNREFUSED', 'retry'],
    ['ENOTFOUND', 'retry'],
    ['EAI_AGAIN', 'retry'],
    ['ECONNRESET', 'ambiguous'],
    ['ECONNABORTED', 'ambiguous'],
    ['ETIMEDOUT', 'ambiguous'],
    ['EPIPE', 'ambiguous'],
    [undefined, 'ambiguous'],
  ])('network error %s → %s', (code, kind) => {
    expect(classifyWecomAnswer({ kind: 'network', code, message: 'socket hang up' }).kind).toBe(kind);
  });
});
