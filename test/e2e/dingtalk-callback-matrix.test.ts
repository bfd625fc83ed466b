import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { cardCallbackToken } from '../../src/platforms/dingtalk/verify-callback';
import { DINGTALK, type DingtalkStack, STAFF, startDingtalkStack } from '../helpers/dingtalk-stack';

/**
 * Only a correctly signed, fresh robot callback has an effect; only a click posted to our registered
 * (secret) card URL; only a signed, fresh, decryptable event for our app. Requests are built here
 * with node:crypto from the documented algorithms, independent of the code under test and of the
 * emulator. RELIABILITY.md "Inbound": 415, 413, 400 missing headers, 401 signature, 400 malformed,
 * 422 schema; every 401 the same bare answer; a replay answers 200 and changes nothing.
 */
let stack: DingtalkStack;

const hmacSign = (secret: string, timestamp: string) =>
  createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');

let msgSeq = 0;
function robotMessage(over: Record<string, unknown> = {}): Record<string, unknown> {
  msgSeq += 1;
  return {
    msgId: `msgMatrix${msgSeq}${randomBytes(4).toString('hex')}`,
    msgtype: 'text',
    createAt: stack.clock.now().getTime(),
    conversationType: '1',
    conversationId: 'cidSingle',
    senderStaffId: STAFF.rep_a,
    senderNick: '王磊',
    robotCode: DINGTALK.robotCode,
    text: { content: '帮助' },
    ...over,
  };
}

interface Variant {
  secret?: string;
  /** Offset from the app's clock, ms. */
  skewMs?: number;
  timestamp?: string;
  tamperSign?: (sign: string) => string;
  omit?: 'timestamp' | 'sign';
  body?: string;
  contentType?: string;
}

async function robotCallback(variant: Variant = {}, message = robotMessage()) {
  const timestamp = variant.timestamp ?? String(stack.clock.now().getTime() + (variant.skewMs ?? 0));
  let sign = hmacSign(variant.secret ?? DINGTALK.appSecret, timestamp);
  if (variant.tamperSign) sign = variant.tamperSign(sign);
  const headers: Record<string, string> = {
    'content-type': variant.contentType ?? 'application/json',
    timestamp,
    sign,
  };
  if (variant.omit) delete headers[variant.omit];
  const body = variant.body ?? JSON.stringify(message);
  const send = () => fetch(`${stack.app.url}/callbacks/dingtalk`, { method: 'POST', headers, body });
  const res = await send();
  return { status: res.status, text: await res.text(), send };
}

async function inboxCount(): Promise<number> {
  const [rows] = (await stack.app.database.db.execute(
    sql`SELECT COUNT(*) AS n FROM inbox_events WHERE platform = 'dingtalk'`,
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]!.n);
}

const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

beforeAll(async () => {
  stack = await startDingtalkStack({ server: { digests: false } });
});
afterAll(async () => {
  await stack.close();
});

describe('POST /callbacks/dingtalk signature matrix', () => {
  it('accepts a valid callback with an empty 200 and stores it once, however often it is delivered', async () => {
    const before = await inboxCount();
    const first = await robotCallback();
    expect([first.status, first.text]).toEqual([200, '']);
    expect((await first.send()).status).toBe(200);
    expect((await first.send()).status).toBe(200);
    expect(await inboxCount()).toBe(before + 1);
  });

  it('a duplicate msgId with a fresh signature is acknowledged and not stored again', async () => {
    const message = robotMessage();
    const before = await inboxCount();
    expect((await robotCallback({}, message)).status).toBe(200);
    expect((await robotCallback({ skewMs: 1000 }, message)).status).toBe(200);
    expect(await inboxCount()).toBe(before + 1);
  });

  const refused: [string, number, Variant][] = [
    ['one character of the sign changed', 401, { tamperSign: (s) => flip(s, 5) }],
    ['the sign of another secret', 401, { secret: 'somebody-elses-app-secret' }],
    ['a truncated sign', 401, { tamperSign: (s) => s.slice(0, 20) }],
    ['a timestamp 301 s old', 401, { skewMs: -301_000 }],
    ['a timestamp 301 s in the future', 401, { skewMs: 301_000 }],
    ['a timestamp in seconds, not milliseconds', 401, { timestamp: String(Math.floor(Date.now() / 1000)) }],
    ['a timestamp that is not a number', 401, { timestamp: '17xx' }],
    ['no timestamp header', 400, { omit: 'timestamp' }],
    ['no sign header', 400, { omit: 'sign' }],
    ['a body that is not JSON', 400, { body: '{"msgId": ' }],
    ['a __proto__ key', 400, { body: '{"__proto__": {"x": 1}, "msgId": "m1"}' }],
    [
      'a body without msgId',
      422,
      { body: JSON.stringify({ msgtype: 'text', createAt: 1, conversationType: '1' }) },
    ],
    [
      'a conversationType that does not exist',
      422,
      { body: JSON.stringify({ ...robotMessageShape(), conversationType: '3' }) },
    ],
    [
      'more than 64 KB',
      413,
      { body: JSON.stringify({ msgId: 'big', text: { content: 'x'.repeat(70_000) } }) },
    ],
    ['an XML content type', 415, { contentType: 'text/xml' }],
  ];
  it.each(refused)('refuses %s with %i and stores nothing', async (_name, status, variant) => {
    const before = await inboxCount();
    const res = await robotCallback(variant);
    expect(res.status).toBe(status);
    expect(res.text).toBe('');
    expect(await inboxCount()).toBe(before);
  });

  it('checks the signature before reading the body: a forged request with a bad body is a 401, not a 400', async () => {
    expect((await robotCallback({ secret: 'wrong', body: 'not json' })).status).toBe(401);
  });

  it('stores a message from someone without a staff id (another org) as ignored, not as text', async () => {
    const message = robotMessage({ senderStaffId: undefined });
    expect((await robotCallback({}, message)).status).toBe(200);
    const [rows] = (await stack.app.database.db.execute(
      sql`SELECT kind FROM inbox_events WHERE platform = 'dingtalk' AND event_id = ${message.msgId}`,
    )) as unknown as [{ kind: string }[]];
    expect(rows.map((r) => r.kind)).toEqual(['ignored']);
  });
});

function robotMessageShape() {
  return {
    msgId: 'shape1',
    msgtype: 'text',
    createAt: Date.now(),
    conversationType: '1',
    text: { content: 'x' },
  };
}

describe('POST /callbacks/dingtalk/card/:token', () => {
  const click = (outTrackId = 'L999999-new-lead-00000000') => ({
    outTrackId,
    corpId: 'ding0000',
    userId: STAFF.rep_a,
    type: 'actionCallback',
    content: JSON.stringify({ cardPrivateData: { actionIds: ['button1'], params: { action: 'claim' } } }),
  });
  const post = (token: string, body: string, contentType = 'application/json') =>
    fetch(`${stack.app.url}/callbacks/dingtalk/card/${token}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
  const token = () => cardCallbackToken(DINGTALK.appSecret, 'leadrelay');

  it('accepts a click at the registered URL, once however often it comes', async () => {
    const before = await inboxCount();
    const body = JSON.stringify(click('L999998-new-lead-00000001'));
    expect((await post(token(), body)).status).toBe(200);
    expect((await post(token(), body)).status).toBe(200);
    expect(await inboxCount()).toBe(before + 1);
  });

  it.each([
    ['a wrong token', 401, () => flip(token(), 3), JSON.stringify(click())],
    [
      'a token of another app secret',
      401,
      () => cardCallbackToken('other', 'leadrelay'),
      JSON.stringify(click()),
    ],
    ['malformed JSON', 400, token, '{'],
    ['no outTrackId', 422, token, JSON.stringify({ ...click(), outTrackId: undefined })],
    ['no userId', 422, token, JSON.stringify({ ...click(), userId: '' })],
  ] as const)('refuses %s with %i', async (_name, status, tokenOf, body) => {
    const before = await inboxCount();
    expect((await post(tokenOf(), body)).status).toBe(status);
    expect(await inboxCount()).toBe(before);
  });
});

describe('POST /callbacks/dingtalk/events (encrypted event subscription)', () => {
  const key = () => Buffer.from(`${DINGTALK.eventAesKey}=`, 'base64');
  function encrypt(plain: string, receiveId = DINGTALK.appKey): string {
    const msg = Buffer.from(plain);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(msg.length);
    const body = Buffer.concat([randomBytes(16), length, msg, Buffer.from(receiveId)]);
    const pad = 32 - (body.length % 32);
    const cipher = createCipheriv('aes-256-cbc', key(), key().subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([
      cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
      cipher.final(),
    ]).toString('base64');
  }
  const sha1 = (token: string, ...parts: string[]) =>
    createHash('sha1')
      .update([token, ...parts].sort().join(''))
      .digest('hex');

  async function event(
    plain: string,
    opts: { token?: string; skewMs?: number; receiveId?: string; param?: 'msg_signature' | 'signature' } = {},
  ) {
    const encrypted = encrypt(plain, opts.receiveId);
    const timestamp = String(stack.clock.now().getTime() + (opts.skewMs ?? 0));
    const nonce = randomBytes(4).toString('hex');
    const q = new URLSearchParams({
      [opts.param ?? 'msg_signature']: sha1(opts.token ?? DINGTALK.eventToken, timestamp, nonce, encrypted),
      timestamp,
      nonce,
    });
    const res = await fetch(`${stack.app.url}/callbacks/dingtalk/events?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt: encrypted }),
    });
    return { status: res.status, text: await res.text() };
  }

  it('answers a valid event with the encrypted, signed success (either signature parameter name)', async () => {
    for (const param of ['msg_signature', 'signature'] as const) {
      const res = await event(JSON.stringify({ EventType: 'user_add_org', UserId: ['x'] }), { param });
      expect(res.status).toBe(200);
      const answer = JSON.parse(res.text) as Record<string, string>;
      expect(answer.msg_signature).toBe(
        sha1(DINGTALK.eventToken, answer.timeStamp!, answer.nonce!, answer.encrypt!),
      );
      const decipher = createDecipheriv('aes-256-cbc', key(), key().subarray(0, 16));
      decipher.setAutoPadding(false);
      const plain: Buffer = Buffer.concat([
        decipher.update(Buffer.from(answer.encrypt!, 'base64')),
        decipher.final(),
      ]);
      const len = plain.readUInt32BE(16);
      expect(plain.subarray(20, 20 + len).toString()).toBe('success');
      expect(plain.subarray(20 + len, plain.length - plain[plain.length - 1]!).toString()).toBe(
        DINGTALK.appKey,
      );
    }
  });

  it.each([
    ['the wrong token', { token: 'wrong' }],
    ['a timestamp 301 s old', { skewMs: -301_000 }],
    ['a timestamp 301 s in the future', { skewMs: 301_000 }],
    ['another app as receive id', { receiveId: 'dingSomebodyElse' }],
  ] as const)('refuses %s with a bare 401', async (_name, opts) => {
    const res = await event(JSON.stringify({ EventType: 'check_url' }), opts);
    expect([res.status, res.text]).toEqual([401, '']);
  });
});
