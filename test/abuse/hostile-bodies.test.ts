import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { cardCallbackToken } from '../../src/platforms/dingtalk/verify-callback';
import { request } from '../helpers/http';
import { ADMIN_KEY, startTestApp, type TestApp } from '../helpers/test-app';
import { waitFor } from '../helpers/wecom-stack';
import { encryptFor, rawRequest, robotSign, sha1Signature, wecomCallback, wecomText } from './signing';

/**
 * Hostile bodies against every route that reads one (issue 9 item 3; RELIABILITY.md "Inbound" 1, 2
 * and 7): over the cap is 413 before any parsing (declared or streamed), deep nesting is a 400 and
 * never a stack overflow, `__proto__` / `constructor.prototype` keys are refused and pollute nothing,
 * invalid UTF-8 is a 400, a wrong content type a 415; XML bombs, external entities and DOCTYPEs are
 * refused before the parser sees them. A refused request writes nothing (intake keeps a malformed
 * payload for replay, on purpose: that is the one row it may write).
 */
const WECOM = {
  corpId: 'ww7c3e91a0d5b2f486',
  agentId: 1000005,
  token: 'LeadRelayAbuseToken',
  aesKey: randomBytes(32).toString('base64').slice(0, 43),
};
const DT = {
  appKey: 'dingabuseappkey001',
  appSecret: 'leadrelay-dingtalk-abuse-secret',
  eventToken: 'AbuseEventToken',
  eventAesKey: randomBytes(32).toString('base64').slice(0, 43),
};
const INTAKE_CAP = 64 * 1024;
const SMALL_CAP = 4096;
const CALLBACK_CAP = 64 * 1024;

let app: TestApp;
let sourceKey: string;
let leadId: number;

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
    },
    server: { workers: false, digests: false },
  });
  sourceKey = await app.createKey('website');
  const created = await request(`${app.url}/api/v1/leads`, {
    body: { name: '测试', phone: '13900007777' },
    headers: { authorization: `Bearer ${sourceKey}` },
  });
  expect(created.status).toBe(201);
  leadId = created.body.id;
}, 60_000);
afterAll(async () => {
  await app.close();
});

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
afterEach(() => {
  // Nothing any request did reached the shared prototype of this process (the server runs in it).
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const TABLES = [
  'leads',
  'lead_events',
  'activities',
  'member_availability',
  'channel_costs',
  'inbox_events',
  'outbox',
  'rejected_payloads',
] as const;

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const [rows] = (await app.database.db.execute(
      sql.raw(`SELECT COUNT(*) AS n FROM \`${table}\``),
    )) as unknown as [{ n: number }[]];
    out[table] = Number(rows[0]!.n);
  }
  return out;
}

/** A JSON route: how to authenticate, its cap, and the table a refused payload may still land in. */
interface JsonRoute {
  name: string;
  path: () => string;
  method: 'POST' | 'PUT';
  headers: () => [string, string][];
  cap: number;
  /** Intake keeps malformed payloads for replay (RELIABILITY.md "Inbound" 8). */
  keepsMalformed?: boolean;
}

const admin = (): [string, string][] => [['authorization', `Bearer ${ADMIN_KEY}`]];
const nowMs = () => app.clock.now().getTime();

const JSON_ROUTES: JsonRoute[] = [
  {
    name: 'intake',
    path: () => '/api/v1/leads',
    method: 'POST',
    headers: () => [['authorization', `Bearer ${sourceKey}`]],
    cap: INTAKE_CAP,
    keepsMalformed: true,
  },
  {
    name: 'activities',
    path: () => `/api/v1/leads/${leadId}/activities`,
    method: 'POST',
    headers: admin,
    cap: INTAKE_CAP,
  },
  {
    name: 'availability',
    path: () => '/api/v1/members/rep_a/away',
    method: 'PUT',
    headers: admin,
    cap: SMALL_CAP,
  },
  {
    name: 'channel costs',
    path: () => '/api/v1/channel-costs',
    method: 'POST',
    headers: admin,
    cap: SMALL_CAP,
  },
  {
    name: 'DingTalk robot callback',
    path: () => '/callbacks/dingtalk',
    method: 'POST',
    headers: () => {
      const timestamp = String(nowMs());
      return [
        ['timestamp', timestamp],
        ['sign', robotSign(DT.appSecret, timestamp)],
      ];
    },
    cap: CALLBACK_CAP,
  },
  {
    name: 'DingTalk card callback',
    path: () => `/callbacks/dingtalk/card/${cardCallbackToken(DT.appSecret, 'leadrelay')}`,
    method: 'POST',
    headers: () => [],
    cap: CALLBACK_CAP,
  },
];

async function send(
  route: JsonRoute,
  body: Buffer | string,
  options: { contentType?: string | null; chunked?: boolean } = {},
) {
  const headers = route.headers();
  if (options.contentType !== null) headers.push(['content-type', options.contentType ?? 'application/json']);
  return rawRequest(`${app.url}${route.path()}`, {
    method: route.method,
    headers,
    body,
    ...(options.chunked ? { chunked: true } : {}),
  });
}

/** Sends, and checks the status and that nothing was written (but a kept payload where allowed). */
async function expectRefused(
  route: JsonRoute,
  status: number,
  body: Buffer | string,
  options: { contentType?: string | null; chunked?: boolean } = {},
): Promise<void> {
  const before = await counts();
  const res = await send(route, body, options);
  // A server may cut an oversized upload short after answering; the answer is what we check.
  expect({ route: route.name, status: res.status }).toEqual({ route: route.name, status });
  const after = await counts();
  const kept = route.keepsMalformed && status === 400 ? 1 : 0;
  expect({ ...after, rejected_payloads: after.rejected_payloads! - kept }).toEqual(before);
}

const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);

describe.each(JSON_ROUTES)('$name: hostile JSON', (route) => {
  it('answers 413 over the cap, declared or streamed, before reading the body', async () => {
    const big = `{"x":"${'a'.repeat(route.cap)}"}`;
    await expectRefused(route, 413, big);
    await expectRefused(route, 413, big, { chunked: true });
  });

  it('answers 400 to deep nesting within the cap and 413 to 100k levels, the process unharmed', async () => {
    const depth = Math.min(30_000, Math.floor(route.cap / 2) - 8);
    await expectRefused(route, 400, nested(depth));
    await expectRefused(
      route,
      400,
      `${'{"a":'.repeat(Math.floor(depth / 3))}1${'}'.repeat(Math.floor(depth / 3))}`,
    );
    await expectRefused(route, 413, nested(100_000));
    expect((await request(`${app.url}/healthz`)).status).toBe(200);
  });

  it('refuses __proto__ and constructor.prototype keys with 400, polluting nothing', async () => {
    await expectRefused(route, 400, '{"__proto__": {"polluted": "yes"}, "phone": "13900001234"}');
    await expectRefused(route, 400, '{"a": {"b": {"__proto__": {"polluted": "yes"}}}}');
    await expectRefused(route, 400, '{"constructor": {"prototype": {"polluted": "yes"}}}');
    await expectRefused(route, 400, '[{"__proto__": {"polluted": "yes"}}]');
  });

  it('refuses a body that is not UTF-8 with 400', async () => {
    await expectRefused(route, 400, Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    // An overlong encoding of "/" and a lone surrogate (CESU) are not UTF-8 either.
    await expectRefused(route, 400, Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]));
    await expectRefused(route, 400, Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]));
  });

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    null,
  ])('refuses content type %s with 415', async (contentType) => {
    await expectRefused(route, 415, '{"phone":"13900001234"}', { contentType });
  });
});

describe('intake with a 10 MB cap: a million levels of nesting', () => {
  let big: TestApp;
  let key: string;
  beforeAll(async () => {
    big = await startTestApp({
      env: { INTAKE_MAX_BYTES: String(10 * 1024 * 1024) },
      server: { workers: false },
    });
    key = await big.createKey('website');
  }, 60_000);
  afterAll(async () => {
    await big.close();
  });

  it('answers 400, no stack overflow, and keeps serving', async () => {
    for (const body of [nested(1_000_000), nested(300_000, '{"a":', '}').replace(/\}$/, '1}')]) {
      const res = await rawRequest(`${big.url}/api/v1/leads`, {
        headers: [
          ['authorization', `Bearer ${key}`],
          ['content-type', 'application/json'],
        ],
        body,
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toBe('malformed_json');
    }
    const ok = await request(`${big.url}/api/v1/leads`, {
      body: { phone: '13900005555' },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(ok.status).toBe(201);
  });
});

describe('DingTalk event subscription: hostile JSON around the signed ciphertext', () => {
  function signedQuery(encrypted: string): string {
    const timestamp = String(nowMs());
    const nonce = randomBytes(4).toString('hex');
    return new URLSearchParams({
      msg_signature: sha1Signature(DT.eventToken, timestamp, nonce, encrypted),
      timestamp,
      nonce,
    }).toString();
  }
  const post = (query: string, body: Buffer | string, contentType = 'application/json') =>
    rawRequest(`${app.url}/callbacks/dingtalk/events?${query}`, {
      headers: [['content-type', contentType]],
      body,
    });

  it('refuses deep nesting, __proto__, invalid UTF-8, oversize and other content types', async () => {
    const encrypted = encryptFor(DT.eventAesKey, '{"EventType":"user_add_org"}', DT.appKey);
    const before = await counts();
    expect((await post(signedQuery(encrypted), nested(30_000))).status).toBe(400);
    expect(
      (await post(signedQuery(encrypted), `{"__proto__":{"polluted":1},"encrypt":"${encrypted}"}`)).status,
    ).toBe(400);
    expect((await post(signedQuery(encrypted), Buffer.from([0x7b, 0xff, 0x7d]))).status).toBe(400);
    expect((await post(signedQuery(encrypted), `{"encrypt":"${'A'.repeat(CALLBACK_CAP)}"}`)).status).toBe(
      413,
    );
    expect(
      (await post(signedQuery(encrypted), JSON.stringify({ encrypt: encrypted }), 'text/plain')).status,
    ).toBe(415);
    expect(await counts()).toEqual(before);
    // The same ciphertext, well formed, is accepted: the refusals above were about the body alone.
    expect((await post(signedQuery(encrypted), JSON.stringify({ encrypt: encrypted }))).status).toBe(200);
  });
});

describe('WeCom callback: XML bombs, entities, DOCTYPE, depth, size, encoding', () => {
  const url = (query: Record<string, string>) => `${app.url}/callbacks/wecom?${new URLSearchParams(query)}`;
  const nowSeconds = () => Math.floor(nowMs() / 1000);

  async function postXml(query: Record<string, string>, body: Buffer | string, contentType = 'text/xml') {
    return rawRequest(url(query), { headers: [['content-type', contentType]], body });
  }

  const LAUGHS =
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('') +
    ']><xml><Encrypt>&lol9;</Encrypt></xml>';
  const EXTERNAL =
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>';
  const PARAMETER =
    '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><xml><Encrypt>x</Encrypt></xml>';
  const LATE_DOCTYPE = '<xml><Encrypt>x</Encrypt></xml><!DOCTYPE xml>';
  const ENTITY_ONLY = '<xml><!ENTITY a "b"><Encrypt>x</Encrypt></xml>';

  it.each([
    ['billion laughs', LAUGHS],
    ['an external entity', EXTERNAL],
    ['a parameter entity to a remote DTD', PARAMETER],
    ['a DOCTYPE after the root', LATE_DOCTYPE],
    ['an ENTITY declaration without DOCTYPE', ENTITY_ONLY],
    ['5k levels of nesting', `<xml>${'<a>'.repeat(5_000)}${'</a>'.repeat(5_000)}</xml>`],
    ['an unterminated CDATA', '<xml><Encrypt><![CDATA[abc</Encrypt></xml>'],
    ['two roots', '<xml><Encrypt>a</Encrypt></xml><xml><Encrypt>b</Encrypt></xml>'],
    ['the Encrypt element twice', '<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>'],
  ])('refuses %s with 400 before the signature is even looked at, quickly', async (_name, body) => {
    const message = wecomCallback(WECOM, wecomText(WECOM.corpId, 'WangLei', 'x', nowSeconds()), nowSeconds());
    const before = await counts();
    const started = Date.now();
    const res = await postXml(message.query, body);
    expect([res.status, res.body]).toEqual([400, '']);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await counts()).toEqual(before);
  });

  it('refuses more than 64 KB with 413, declared or streamed', async () => {
    const message = wecomCallback(WECOM, wecomText(WECOM.corpId, 'WangLei', 'x', nowSeconds()), nowSeconds());
    const body = `<xml><Encrypt>${'A'.repeat(CALLBACK_CAP)}</Encrypt></xml>`;
    const before = await counts();
    expect((await postXml(message.query, body)).status).toBe(413);
    expect(
      (await rawRequest(url(message.query), { headers: [['content-type', 'text/xml']], body, chunked: true }))
        .status,
    ).toBe(413);
    expect(await counts()).toEqual(before);
  });

  it('refuses a correctly signed envelope that is not UTF-8 with 400 (regression: it was read with U+FFFD)', async () => {
    const message = wecomCallback(
      WECOM,
      wecomText(WECOM.corpId, 'WangLei', '你好', nowSeconds()),
      nowSeconds(),
    );
    const broken = Buffer.concat([
      Buffer.from(`<xml><ToUserName><![CDATA[`),
      Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
      Buffer.from(`]]></ToUserName><Encrypt><![CDATA[${message.encrypted}]]></Encrypt></xml>`),
    ]);
    const before = await counts();
    expect((await postXml(message.query, broken)).status).toBe(400);
    expect(await counts()).toEqual(before);
    // The same message, well encoded, is accepted; its processing (a reply) finishes before the next test counts.
    const outbox = (await counts()).outbox!;
    expect((await postXml(message.query, message.body)).status).toBe(200);
    await waitFor(async () => (await counts()).outbox === outbox + 1, 'the reply to the accepted message');
  });

  it.each([
    ['a billion-laughs plaintext', LAUGHS],
    ['a DOCTYPE plaintext', EXTERNAL],
    ['a plaintext that is not XML', '{"MsgType":"text"}'],
  ])(
    'acknowledges %s inside a valid signature (so WeCom stops retrying) and stores nothing',
    async (_n, plain) => {
      const encrypted = encryptFor(WECOM.aesKey, plain, WECOM.corpId);
      const timestamp = String(nowSeconds());
      const nonce = randomBytes(4).toString('hex');
      const query = {
        msg_signature: sha1Signature(WECOM.token, timestamp, nonce, encrypted),
        timestamp,
        nonce,
      };
      const before = await counts();
      const res = await postXml(query, `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`);
      expect([res.status, res.body]).toEqual([200, '']);
      expect(await counts()).toEqual(before);
    },
  );

  it('acknowledges a signed plaintext that is not UTF-8 as an ignored event, with no effect', async () => {
    const plain = Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]);
    const encrypted = encryptFor(WECOM.aesKey, plain, WECOM.corpId);
    const timestamp = String(nowSeconds());
    const nonce = randomBytes(4).toString('hex');
    const query = {
      msg_signature: sha1Signature(WECOM.token, timestamp, nonce, encrypted),
      timestamp,
      nonce,
    };
    const before = await counts();
    const res = await postXml(query, `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`);
    expect([res.status, res.body]).toEqual([200, '']);
    const [rows] = (await app.database.db.execute(
      sql`SELECT kind FROM inbox_events ORDER BY id DESC LIMIT 1`,
    )) as unknown as [{ kind: string }[]];
    expect(rows.map((r) => r.kind)).toEqual(['ignored']);
    expect({ ...(await counts()), inbox_events: before.inbox_events }).toEqual(before);
  });

  it.each(['application/json', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded'])(
    'refuses content type %s with 415',
    async (contentType) => {
      const message = wecomCallback(
        WECOM,
        wecomText(WECOM.corpId, 'WangLei', 'x', nowSeconds()),
        nowSeconds(),
      );
      expect((await postXml(message.query, message.body, contentType)).status).toBe(415);
    },
  );
});

describe('reports: hostile queries', () => {
  it.each([
    ['duplicated from', 'from=2026-11-01&from=2026-11-02'],
    ['a date that is not one', 'from=2026-02-30'],
    ['year zero', 'from=0000-01-01&to=0000-01-02'],
    ['a ten-year range', 'from=2016-01-01&to=2026-01-01'],
    ['__proto__ as a key', '__proto__[polluted]=1&from=2026-11-01'],
    ['an unknown format', 'from=2026-11-01&format=../../etc/passwd'],
    ['a huge team name', `from=2026-11-01&team=${'x'.repeat(5000)}`],
  ])('answers %s without a 500 (unknown keys are ignored, bad values are 4xx)', async (_name, query) => {
    for (const kind of ['funnel', 'channels', 'reps', 'sla']) {
      const res = await request(`${app.url}/api/v1/reports/${kind}?${query}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      const expected = query.startsWith('__proto__') ? 200 : 400;
      expect({ kind, query, class: Math.floor(res.status / 100) * 100 }).toEqual({
        kind,
        query,
        class: expected,
      });
    }
  });
});
