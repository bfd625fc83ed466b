import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { request } from '../helpers/http';
import { ADMIN_KEY, startTestApp, type TestApp } from '../helpers/test-app';
import { waitFor } from '../helpers/wecom-stack';
import { encryptFor, rawRequest, robotSign, sha1Signature, wecomCallback, wecomText } from './signing';

/**
 * The signature matrix, completed for every inbound route (issue 9 item 3). The single-field cases
 * (one byte changed, wrong secret, missing header, timestamp ±301 s) live beside each route's own
 * tests: test/e2e/wecom-callback-matrix.test.ts, test/e2e/dingtalk-callback-matrix.test.ts,
 * test/leads/intake-api.test.ts. Here: what they leave out, namely repeated headers and query
 * parameters (Node joins or drops repeats, so a gate reading `req.headers` never sees them), the
 * GET URL check, replays of an accepted callback after it has been processed, and the bearer keys
 * of the JSON API (intake, activities, admin routes, metrics) byte by byte.
 */
const WECOM = {
  corpId: 'ww7c3e91a0d5b2f486',
  agentId: 1000005,
  token: 'LeadRelaySigToken',
  aesKey: randomBytes(32).toString('base64').slice(0, 43),
};
const DT = {
  appKey: 'dingsigappkey0001',
  appSecret: 'leadrelay-dingtalk-sig-secret',
  eventToken: 'SigEventToken',
  eventAesKey: randomBytes(32).toString('base64').slice(0, 43),
};
const METRICS_TOKEN = 'metrics-token-0123456789';

let app: TestApp;
let sourceKey: string;

beforeAll(async () => {
  app = await startTestApp({
    env: {
      WECOM_CORP_ID: WECOM.corpId,
      WECOM_AGENT_ID: String(WECOM.agentId),
      WECOM_SECRET: 'unused-secret',
      WECOM_TOKEN: WECOM.token,
      WECOM_ENCODING_AES_KEY: WECOM.aesKey,
      DINGTALK_APP_KEY: DT.appKey,
      DINGTALK_APP_SECRET: DT.appSecret,
      DINGTALK_ROBOT_CODE: DT.appKey,
      DINGTALK_EVENT_TOKEN: DT.eventToken,
      DINGTALK_EVENT_AES_KEY: DT.eventAesKey,
      METRICS_TOKEN,
    },
    server: { workers: false, digests: false },
  });
  sourceKey = await app.createKey('website');
}, 60_000);
afterAll(async () => {
  await app.close();
});

async function count(table: string, where = 'TRUE'): Promise<number> {
  const [rows] = (await app.database.db.execute(
    sql.raw(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`),
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]!.n);
}

const nowMs = () => app.clock.now().getTime();
const nowSeconds = () => Math.floor(nowMs() / 1000);

/** A query string with some parameters repeated (URLSearchParams keeps repeats). */
function queryWith(pairs: [string, string][]): string {
  const q = new URLSearchParams();
  for (const [k, v] of pairs) q.append(k, v);
  return q.toString();
}

describe('WeCom: repeated query parameters, the URL check, replays', () => {
  const signed = () =>
    wecomCallback(WECOM, wecomText(WECOM.corpId, 'WangLei', '帮助', nowSeconds()), nowSeconds());

  it.each(['msg_signature', 'timestamp', 'nonce'])(
    'refuses %s given twice with 400 and stores nothing',
    async (name) => {
      const message = signed();
      const pairs = Object.entries(message.query) as [string, string][];
      // The second copy is the same value: still refused, there is no "right" copy to pick.
      pairs.push([name, message.query[name]!]);
      const before = await count('inbox_events');
      const res = await rawRequest(`${app.url}/callbacks/wecom?${queryWith(pairs)}`, {
        headers: [['content-type', 'text/xml']],
        body: message.body,
      });
      expect([res.status, res.body]).toEqual([400, '']);
      expect(await count('inbox_events')).toBe(before);
    },
  );

  it('a replayed message, after it was processed, answers 200 and has no second effect', async () => {
    const message = signed();
    const url = `${app.url}/callbacks/wecom?${new URLSearchParams(message.query)}`;
    const post = () => rawRequest(url, { headers: [['content-type', 'text/xml']], body: message.body });
    const inbox = await count('inbox_events');
    const outbox = await count('outbox');
    expect((await post()).status).toBe(200);
    // 帮助 is answered: one reply queued once the event is processed.
    await waitFor(async () => (await count('outbox')) === outbox + 1, 'the reply to 帮助');
    await waitFor(async () => (await count('inbox_events', "status = 'done'")) >= 1, 'processing');
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(await count('inbox_events')).toBe(inbox + 1);
    expect(await count('outbox')).toBe(outbox + 1);
  });

  describe('GET /callbacks/wecom (URL verification): the same gate, no side door', () => {
    function verification(over: { token?: string; skew?: number; echostr?: string } = {}) {
      const timestamp = String(nowSeconds() + (over.skew ?? 0));
      const nonce = randomBytes(4).toString('hex');
      const echostr = over.echostr ?? encryptFor(WECOM.aesKey, 'echo-1234', WECOM.corpId);
      return {
        msg_signature: sha1Signature(over.token ?? WECOM.token, timestamp, nonce, echostr),
        timestamp,
        nonce,
        echostr,
      };
    }
    const get = async (query: string) => {
      const res = await fetch(`${app.url}/callbacks/wecom?${query}`);
      return [res.status, await res.text()];
    };

    it('answers the plaintext to a valid request', async () => {
      expect(await get(new URLSearchParams(verification()).toString())).toEqual([200, 'echo-1234']);
    });

    it.each([
      ['the wrong token', 401, { token: 'other' }],
      ['a timestamp 301 s old', 401, { skew: -301 }],
      ['a timestamp 301 s in the future', 401, { skew: 301 }],
      ['another corp as receive id', 401, { echostr: encryptFor(WECOM.aesKey, 'echo', 'wwOtherCorp') }],
    ] as const)('refuses %s with a bare %i', async (_name, status, over) => {
      expect(await get(new URLSearchParams(verification(over)).toString())).toEqual([status, '']);
    });

    it.each(['msg_signature', 'timestamp', 'nonce', 'echostr'])(
      'refuses %s missing or given twice with 400',
      async (name) => {
        const query = verification();
        const pairs = (Object.entries(query) as [string, string][]).filter(([k]) => k !== name);
        expect(await get(queryWith(pairs))).toEqual([400, '']);
        expect(
          await get(queryWith([...Object.entries(query), [name, query[name as keyof typeof query]]])),
        ).toEqual([400, '']);
      },
    );
  });
});

describe('DingTalk: repeated headers and parameters', () => {
  const message = () => ({
    msgId: `msgSig${randomBytes(6).toString('hex')}`,
    msgtype: 'text',
    createAt: nowMs(),
    conversationType: '1',
    senderStaffId: 'staff-1',
    robotCode: DT.appKey,
    text: { content: '帮助' },
  });

  it.each([
    [
      'timestamp twice (same value)',
      (ts: string, sign: string) => [
        ['timestamp', ts],
        ['timestamp', ts],
        ['sign', sign],
      ],
    ],
    [
      'sign twice (same value)',
      (ts: string, sign: string) => [
        ['timestamp', ts],
        ['sign', sign],
        ['sign', sign],
      ],
    ],
    [
      'a stale and a fresh timestamp',
      (ts: string, sign: string) => [
        ['timestamp', String(Number(ts) - 3_600_000)],
        ['timestamp', ts],
        ['sign', sign],
      ],
    ],
    [
      'a wrong and a right sign',
      (ts: string, sign: string) => [
        ['timestamp', ts],
        ['sign', 'AAAA'],
        ['sign', sign],
      ],
    ],
  ] as const)(
    'refuses %s on a robot callback with 400 (regression: Node joined them into a 401) and stores nothing',
    async (_name, headers) => {
      const ts = String(nowMs());
      const before = await count('inbox_events');
      const res = await rawRequest(`${app.url}/callbacks/dingtalk`, {
        headers: [
          ['content-type', 'application/json'],
          ...(headers(ts, robotSign(DT.appSecret, ts)) as [string, string][]),
        ],
        body: JSON.stringify(message()),
      });
      expect([res.status, res.body]).toEqual([400, '']);
      expect(await count('inbox_events')).toBe(before);
    },
  );

  it('a robot message replayed with its own headers inside the window answers 200 and is stored once', async () => {
    const ts = String(nowMs());
    const body = JSON.stringify(message());
    const before = await count('inbox_events');
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(`${app.url}/callbacks/dingtalk`, {
        headers: [
          ['content-type', 'application/json'],
          ['timestamp', ts],
          ['sign', robotSign(DT.appSecret, ts)],
        ],
        body,
      });
      expect(res.status).toBe(200);
    }
    expect(await count('inbox_events')).toBe(before + 1);
  });

  it.each(['msg_signature', 'timestamp', 'nonce'])(
    'refuses an event with %s given twice with 400',
    async (name) => {
      const encrypted = encryptFor(DT.eventAesKey, '{"EventType":"user_add_org"}', DT.appKey);
      const timestamp = String(nowMs());
      const nonce = randomBytes(4).toString('hex');
      const query: Record<string, string> = {
        msg_signature: sha1Signature(DT.eventToken, timestamp, nonce, encrypted),
        timestamp,
        nonce,
      };
      const pairs: [string, string][] = [...Object.entries(query), [name, query[name]!]];
      const before = await count('inbox_events');
      const res = await rawRequest(`${app.url}/callbacks/dingtalk/events?${queryWith(pairs)}`, {
        headers: [['content-type', 'application/json']],
        body: JSON.stringify({ encrypt: encrypted }),
      });
      expect(res.status).toBe(400);
      expect(await count('inbox_events')).toBe(before);
    },
  );
});

describe('bearer keys of the JSON API', () => {
  const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  const lead = () => JSON.stringify({ phone: `1390000${String(1000 + Math.floor(Math.random() * 8999))}` });

  const intake = (headers: [string, string][], body = lead()) =>
    rawRequest(`${app.url}/api/v1/leads`, {
      headers: [['content-type', 'application/json'], ...headers],
      body,
    });

  it.each([
    ['no Authorization', () => []],
    ['one character of the key changed', () => [['authorization', `Bearer ${flip(sourceKey, 10)}`]]],
    ['the key cut short', () => [['authorization', `Bearer ${sourceKey.slice(0, -1)}`]]],
    ['the key with a byte more', () => [['authorization', `Bearer ${sourceKey}x`]]],
    ['the admin key (not a source)', () => [['authorization', `Bearer ${ADMIN_KEY}`]]],
    [
      'another scheme',
      () => [['authorization', `Basic ${Buffer.from(`x:${sourceKey}`).toString('base64')}`]],
    ],
  ] as const)('intake refuses %s with 401 and stores nothing', async (_name, headers) => {
    const before = await count('leads');
    const res = await intake(headers() as [string, string][]);
    expect(res.status).toBe(401);
    expect(await count('leads')).toBe(before);
    expect(await count('rejected_payloads')).toBe(0);
  });

  it.each([
    ['a valid key twice', () => [`Bearer ${sourceKey}`, `Bearer ${sourceKey}`]],
    ['a valid key, then a wrong one', () => [`Bearer ${sourceKey}`, 'Bearer wrong']],
    ['a wrong key, then a valid one', () => ['Bearer wrong', `Bearer ${sourceKey}`]],
  ])(
    'refuses Authorization given twice (%s) with 400 (regression: Node kept the first)',
    async (_name, values) => {
      const before = await count('leads');
      const res = await intake(values().map((v) => ['authorization', v] as [string, string]));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toBe('duplicate_header');
      expect(await count('leads')).toBe(before);
    },
  );

  it('refuses an Idempotency-Key given twice, and replays one given once', async () => {
    const auth: [string, string] = ['authorization', `Bearer ${sourceKey}`];
    const body = lead();
    const twice = await intake([auth, ['idempotency-key', 'k-1'], ['idempotency-key', 'k-1']], body);
    expect(twice.status).toBe(400);
    const first = await intake([auth, ['idempotency-key', 'k-2']], body);
    const again = await intake([auth, ['idempotency-key', 'k-2']], body);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(JSON.parse(again.body).id).toBe(JSON.parse(first.body).id);
  });

  it.each([
    ['GET', '/api/v1/members'],
    ['GET', '/api/v1/reports/funnel?from=2026-11-01'],
    ['GET', '/api/v1/leads/1'],
  ])('admin route %s %s: a changed admin key is 401, the admin key twice is 400', async (method, path) => {
    const changed = await rawRequest(`${app.url}${path}`, {
      method,
      headers: [['authorization', `Bearer ${flip(ADMIN_KEY, 3)}`]],
    });
    expect(changed.status).toBe(401);
    const twice = await rawRequest(`${app.url}${path}`, {
      method,
      headers: [
        ['authorization', `Bearer ${ADMIN_KEY}`],
        ['authorization', `Bearer ${ADMIN_KEY}`],
      ],
    });
    expect(twice.status).toBe(400);
  });

  it('metrics: the token is needed, once', async () => {
    expect((await request(`${app.url}/metrics`)).status).toBe(401);
    expect(
      (await request(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status,
    ).toBe(200);
    const twice = await rawRequest(`${app.url}/metrics`, {
      method: 'GET',
      headers: [
        ['authorization', `Bearer ${METRICS_TOKEN}`],
        ['authorization', `Bearer ${METRICS_TOKEN}`],
      ],
    });
    expect(twice.status).toBe(400);
  });
});
