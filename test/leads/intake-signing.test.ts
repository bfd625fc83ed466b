import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { leads } from '../../src/db/schema';
import { generateSigningSecret } from '../../src/sources/webhook-signature';
import { request } from '../helpers/http';
import { FIXTURE_ORG, startTestApp, type TestApp } from '../helpers/test-app';

// The website source requires Standard Webhooks signatures (two secrets: rotation); baidu does not.
const CURRENT = generateSigningSecret();
const PREVIOUS = generateSigningSecret();
let dir: string;
let app: TestApp;
let websiteKey: string;
let baiduKey: string;
let seq = 0;

function lead() {
  seq += 1;
  return JSON.stringify({
    name: '王芳',
    phone: `1370000${String(1000 + seq).padStart(4, '0')}`,
    company: `宁波海达${seq}号`,
  });
}

/** Signs as a Standard Webhooks sender does, with the reference library, on the server's clock. */
function signed(body: string, options: { id?: string; secret?: string; at?: Date } = {}) {
  const id = options.id ?? `msg_${seq}_${Math.random().toString(36).slice(2)}`;
  const at = options.at ?? app.clock.now();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.secret ?? CURRENT).sign(id, at, body),
  };
}

const post = (raw: string, headers: Record<string, string>, key = websiteKey) =>
  request(`${app.url}/api/v1/leads`, {
    raw,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
  });

const leadCount = async () => (await app.database.db.select({ id: leads.id }).from(leads)).length;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-signing-'));
  const org = readFileSync(FIXTURE_ORG, 'utf8').replace(
    '{ "id": "website", "name": "官网表单", "channel": "web_form" }',
    `{ "id": "website", "name": "官网表单", "channel": "web_form", "signing": { "secrets": ["${CURRENT}", "${PREVIOUS}"] } }`,
  );
  expect(org).toContain('"signing"');
  writeFileSync(path.join(dir, 'org.jsonc'), org);
  app = await startTestApp({ orgFile: path.join(dir, 'org.jsonc'), server: { workers: false } });
  websiteKey = await app.createKey('website');
  baiduKey = await app.createKey('baidu');
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/v1/leads from a source that signs (Standard Webhooks)', () => {
  it('accepts a lead signed with either configured secret', async () => {
    const body = lead();
    const res = await post(body, signed(body));
    expect(res.status).toBe(201);
    const rotated = lead();
    expect((await post(rotated, signed(rotated, { secret: PREVIOUS }))).status).toBe(201);
  });

  it('refuses, with the reason and nothing stored, an unsigned, forged, tampered or stale request', async () => {
    const before = await leadCount();
    const body = lead();
    const unsigned = await post(body, {});
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toMatchObject({
      error: 'missing_headers',
      message:
        '此来源要求 Standard Webhooks 签名，缺少请求头 webhook-id、webhook-timestamp、webhook-signature',
    });
    const forged = await post(body, signed(body, { secret: generateSigningSecret() }));
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('invalid_signature');
    const headers = signed(body);
    const tampered = await post(body.replace('王芳', '李雷'), headers);
    expect(tampered.status).toBe(401);
    expect(tampered.body.error).toBe('invalid_signature');
    const stale = await post(body, signed(body, { at: new Date(app.clock.now().getTime() - 301_000) }));
    expect(stale.status).toBe(401);
    expect(stale.body.error).toBe('stale_timestamp');
    expect(await leadCount()).toBe(before);
  });

  it('treats a resent webhook-id as a retry: one lead, the same answer, marked replayed', async () => {
    const body = lead();
    const headers = signed(body, { id: 'msg_retry_1' });
    const first = await post(body, headers);
    expect(first.status).toBe(201);
    const again = await post(body, signed(body, { id: 'msg_retry_1' }));
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    const rows = await app.database.db.select().from(leads).where(eq(leads.id, first.body.id));
    expect(rows).toHaveLength(1);
  });

  it('refuses a second copy of a signature header rather than reading one of them', async () => {
    const body = lead();
    const headers = signed(body);
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const http = require('node:http') as typeof import('node:http');
      const url = new URL(`${app.url}/api/v1/leads`);
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST' },
        (r) => {
          let text = '';
          r.on('data', (c) => (text += c));
          r.on('end', () => resolve({ status: r.statusCode!, text }));
        },
      );
      req.on('error', reject);
      req.setHeader('authorization', `Bearer ${websiteKey}`);
      req.setHeader('content-type', 'application/json');
      req.setHeader('webhook-id', headers['webhook-id']);
      req.setHeader('webhook-timestamp', headers['webhook-timestamp']);
      req.setHeader('webhook-signature', [headers['webhook-signature'], 'v1,AAAA']);
      req.end(body);
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toBe('duplicate_header');
  });

  it('leaves sources without signing as they were', async () => {
    const body = lead();
    expect((await post(body, {}, baiduKey)).status).toBe(201);
  });
});
