import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { startWecomStack, WECOM, type WecomStack } from '../helpers/wecom-stack';

/**
 * Only a correctly signed, fresh, decryptable callback for our corp has an effect. The request is
 * built here with node:crypto from the documented algorithm (path 91144), independent of the code
 * under test and of the emulator.
 */
let stack: WecomStack;
const key = Buffer.from(`${WECOM.aesKey}=`, 'base64');

function encrypt(plain: string, receiveId = WECOM.corpId): string {
  const msg = Buffer.from(plain);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length);
  const body = Buffer.concat([randomBytes(16), length, msg, Buffer.from(receiveId)]);
  const pad = 32 - (body.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}

const sign = (token: string, timestamp: string, nonce: string, encrypted: string) =>
  createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');

let msgSeq = 0;
function textMessage(): string {
  msgSeq += 1;
  return `<xml><ToUserName><![CDATA[${WECOM.corpId}]]></ToUserName><FromUserName><![CDATA[WangLei]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>${7000000000000000000n + BigInt(msgSeq)}</MsgId><AgentID>${WECOM.agentId}</AgentID></xml>`;
}

interface Variant {
  token?: string;
  timestamp?: string;
  receiveId?: string;
  tamper?: (q: Record<string, string>, encrypted: string) => { q: Record<string, string>; encrypted: string };
  omit?: string;
  body?: string;
  contentType?: string;
}

async function callback(variant: Variant = {}, plain = textMessage()) {
  const timestamp = variant.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString('hex');
  let encrypted = encrypt(plain, variant.receiveId);
  let q: Record<string, string> = {
    msg_signature: sign(variant.token ?? WECOM.token, timestamp, nonce, encrypted),
    timestamp,
    nonce,
  };
  if (variant.tamper) ({ q, encrypted } = variant.tamper(q, encrypted));
  if (variant.omit) delete q[variant.omit];
  const body =
    variant.body ??
    `<xml><ToUserName><![CDATA[${WECOM.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[${WECOM.agentId}]]></AgentID></xml>`;
  const res = await fetch(`${stack.app.url}/callbacks/wecom?${new URLSearchParams(q)}`, {
    method: 'POST',
    headers: { 'content-type': variant.contentType ?? 'text/xml' },
    body,
  });
  return {
    status: res.status,
    text: await res.text(),
    send: () =>
      fetch(`${stack.app.url}/callbacks/wecom?${new URLSearchParams(q)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      }),
  };
}

async function inboxCount(): Promise<number> {
  const [rows] = (await stack.app.database.db.execute(
    sql`SELECT COUNT(*) AS n FROM inbox_events`,
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]!.n);
}

const flipChar = (s: string, at: number) => s.slice(0, at) + (s[at] === 'a' ? 'b' : 'a') + s.slice(at + 1);

beforeAll(async () => {
  stack = await startWecomStack();
});
afterAll(async () => {
  await stack.close();
});

describe('POST /callbacks/wecom signature matrix', () => {
  it('accepts a valid callback with an empty 200 and stores it once, even when WeCom retries it', async () => {
    const before = await inboxCount();
    const first = await callback();
    expect([first.status, first.text]).toEqual([200, '']);
    const retry = await first.send();
    expect(retry.status).toBe(200);
    expect(await inboxCount()).toBe(before + 1);
  });

  const rejected: [string, number, Variant][] = [
    [
      'one character of the signature changed',
      401,
      { tamper: (q, e) => ({ q: { ...q, msg_signature: flipChar(q.msg_signature!, 5) }, encrypted: e }) },
    ],
    [
      'one character of the ciphertext changed',
      401,
      { tamper: (q, e) => ({ q, encrypted: flipChar(e, 10) }) },
    ],
    ['the nonce changed', 401, { tamper: (q, e) => ({ q: { ...q, nonce: `${q.nonce}0` }, encrypted: e }) }],
    ['the wrong token', 401, { token: 'SomebodyElsesToken' }],
    ['a timestamp 301 s old', 401, { timestamp: String(Math.floor(Date.now() / 1000) - 301) }],
    ['a timestamp 301 s in the future', 401, { timestamp: String(Math.floor(Date.now() / 1000) + 301) }],
    ['another corp as receive id', 401, { receiveId: 'wwAnotherCorp000001' }],
    ['no msg_signature', 400, { omit: 'msg_signature' }],
    ['no timestamp', 400, { omit: 'timestamp' }],
    ['no nonce', 400, { omit: 'nonce' }],
    ['a DOCTYPE', 400, { body: '<!DOCTYPE xml [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>' }],
    ['not XML at all', 400, { body: '{"Encrypt":"x"}' }],
    ['more than 64 KB', 413, { body: `<xml><Encrypt>${'A'.repeat(70_000)}</Encrypt></xml>` }],
    ['a JSON content type', 415, { contentType: 'application/json' }],
  ];
  it.each(rejected)('refuses %s with %i and stores nothing', async (_name, status, variant) => {
    const before = await inboxCount();
    const res = await callback(variant);
    expect(res.status).toBe(status);
    expect(res.text).toBe('');
    expect(await inboxCount()).toBe(before);
  });

  it('accepts the previous token during a rotation only when configured', async () => {
    const rotated = await startWecomStack({
      env: { WECOM_TOKEN: 'NewToken2026', WECOM_TOKEN_PREVIOUS: WECOM.token },
    });
    try {
      const old = stack;
      stack = rotated;
      expect((await callback()).status).toBe(200);
      expect((await callback({ token: 'NewToken2026' })).status).toBe(200);
      expect((await callback({ token: 'Unrelated' })).status).toBe(401);
      stack = old;
    } finally {
      await rotated.close();
    }
  });
});

describe('GET /callbacks/wecom URL verification', () => {
  it('answers the decrypted echostr for a valid request and a bare 401 otherwise', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = 'n0nce';
    const echostr = encrypt('echo-4417');
    const good = new URLSearchParams({
      msg_signature: sign(WECOM.token, timestamp, nonce, echostr),
      timestamp,
      nonce,
      echostr,
    });
    const res = await fetch(`${stack.app.url}/callbacks/wecom?${good}`);
    expect([res.status, await res.text()]).toEqual([200, 'echo-4417']);
    const bad = new URLSearchParams({
      msg_signature: sign('wrong', timestamp, nonce, echostr),
      timestamp,
      nonce,
      echostr,
    });
    const refused = await fetch(`${stack.app.url}/callbacks/wecom?${bad}`);
    expect([refused.status, await refused.text()]).toEqual([401, '']);
  });
});
