import { eq, sql } from 'drizzle-orm';
import { leadEvents, leadIdentities, leads, rejectedPayloads } from '../../src/db/schema';
import { revokeApiKey } from '../../src/sources/api-keys';
import { postChunked, request } from '../helpers/http';
import { ADMIN_KEY, startTestApp, type TestApp } from '../helpers/test-app';

let app: TestApp;
let websiteKey: string;
let baiduKey: string;
let seq = 0;

/** A unique valid mobile per call, so tests do not merge into each other's leads. */
function uniquePhone(): string {
  seq += 1;
  return `1390000${String(1000 + seq).padStart(4, '0')}`;
}

const post = (body: unknown, headers: Record<string, string> = {}, key = websiteKey) =>
  request(`${app.url}/api/v1/leads`, { body, headers: { authorization: `Bearer ${key}`, ...headers } });

async function timelineOf(leadId: number) {
  return app.database.db
    .select()
    .from(leadEvents)
    .where(eq(leadEvents.leadId, leadId))
    .orderBy(leadEvents.id);
}

beforeAll(async () => {
  // Intake only: routing runs as its own timer-driven action, tested in test/e2e and test/routing.
  app = await startTestApp({ env: { INTAKE_MAX_BYTES: '4096' }, server: { workers: false } });
  websiteKey = await app.createKey('website');
  baiduKey = await app.createKey('baidu');
});
afterAll(async () => {
  await app.close();
});

describe('POST /api/v1/leads: created', () => {
  it('creates a normalised, scored lead and answers 201 with id, score and grade', async () => {
    const res = await post({
      name: ' 张伟 ',
      phone: '+86 138-1234-5678',
      email: 'Zhang.Wei@Example.COM ',
      company: '苏州精工机械有限公司',
      title: '总经理',
      industry: '制造业',
      budget: '50万',
      tags: ['展会', '展会'],
      custom: { purchase_timeline: '3个月内' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), status: 'created', score: 65, grade: 'A' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const [row] = await app.database.db.select().from(leads).where(eq(leads.id, res.body.id));
    expect(row).toMatchObject({
      sourceId: 'website',
      name: '张伟',
      phone: '+8613812345678',
      email: 'zhang.wei@example.com',
      company: '苏州精工机械有限公司',
      budget: 500000,
      tags: ['展会'],
      custom: { purchase_timeline: '3个月内' },
      stage: 'new',
      score: 65,
      grade: 'A',
    });
    const events = await timelineOf(res.body.id);
    expect(events.map((e) => e.type)).toEqual(['lead.created']);
    expect(events[0]!.data).toMatchObject({ sourceId: 'website', score: 65, grade: 'A' });
    // Routing is queued durably in the same transaction, due at once.
    const [[timer]] = (await app.database.db.execute(
      sql`SELECT kind, status, due_at <= NOW(3) AS due FROM timers WHERE effect_key = ${`lead:${res.body.id}:assign`}`,
    )) as unknown as [[{ kind: string; status: string; due: number }]];
    expect(timer).toEqual({ kind: 'lead.assign', status: 'pending', due: 1 });
    expect(events[0]!.createdAt.toISOString()).toBe('2026-11-21T01:00:00.000Z');
  });

  it('grades by the configured thresholds: 40 points is B, 0 is C', async () => {
    const b = await post({ phone: uniquePhone(), industry: '制造业' });
    const c = await post({ phone: uniquePhone(), industry: '餐饮' });
    expect([b.body.grade, b.body.score]).toEqual(['B', 40]);
    expect([c.body.grade, c.body.score]).toEqual(['C', 0]);
  });

  it('accepts a lead whose budget text cannot be read, keeping the text and saying so', async () => {
    const res = await post({ phone: uniquePhone(), budget: '看情况再说', companySize: '很多人' });
    expect(res.status).toBe(201);
    expect(res.body.warnings.map((w: { path: string }) => w.path)).toEqual(['companySize', 'budget']);
    const [row] = await app.database.db.select().from(leads).where(eq(leads.id, res.body.id));
    expect(row).toMatchObject({
      budget: null,
      budgetText: '看情况再说',
      companySize: null,
      companySizeText: '很多人',
    });
  });

  it('accepts a lead with only a WeChat id or only an e-mail', async () => {
    expect((await post({ wechat: 'wx_only_contact' })).status).toBe(201);
    expect((await post({ email: 'only@mail.example.cn' })).status).toBe(201);
  });
});

describe('POST /api/v1/leads: dedupe', () => {
  it('merges a duplicate by phone in another format, fills empty fields and records lead.duplicate', async () => {
    const first = await post({ name: '刘洋', phone: '13912340001' });
    const again = await post(
      {
        name: '刘洋',
        phone: '０１３９-1234-0001'.replace('０１', '1').slice(0),
        email: 'liuyang@corp.cn',
        industry: '制造业',
        campaign: '双11',
      },
      {},
      baiduKey,
    );
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, status: 'merged' });

    const [row] = await app.database.db.select().from(leads).where(eq(leads.id, first.body.id));
    expect(row).toMatchObject({
      email: 'liuyang@corp.cn',
      industry: '制造业',
      sourceId: 'website',
      score: 40,
      grade: 'B',
    });
    const events = await timelineOf(first.body.id);
    expect(events.map((e) => e.type)).toEqual(['lead.created', 'lead.duplicate', 'lead.grade_changed']);
    expect(events[1]!.data).toMatchObject({
      sourceId: 'baidu',
      matchedOn: ['phone'],
      filled: expect.arrayContaining(['email', 'industry', 'campaign']),
      campaign: '双11',
    });
    expect(events[2]!.data).toMatchObject({ from: 'C', to: 'B', score: 40 });
    // The new e-mail now identifies the same customer.
    const byEmail = await post({ email: 'LIUYANG@corp.cn' });
    expect(byEmail.body).toEqual({ id: first.body.id, status: 'merged' });
  });

  it('never overwrites a field the lead already has', async () => {
    const first = await post({ phone: uniquePhone(), name: '原名', email: 'keep@a.cn' });
    await post({ email: 'keep@a.cn', name: '新名' });
    const [row] = await app.database.db.select().from(leads).where(eq(leads.id, first.body.id));
    expect(row!.name).toBe('原名');
  });

  it('matches by WeChat id and by normalised company + contact name', async () => {
    const wx = await post({ wechat: 'Sales_Buyer01' });
    expect((await post({ wechat: 'sales_buyer01', phone: uniquePhone() })).body).toEqual({
      id: wx.body.id,
      status: 'merged',
    });

    const co = await post({ name: '赵敏', company: '腾讯科技（深圳）有限公司', email: 'zm1@qq.example' });
    const coAgain = await post({ name: '赵 敏', company: '腾讯科技(深圳) ', phone: uniquePhone() });
    expect(coAgain.body).toEqual({ id: co.body.id, status: 'merged' });
    // Same company, another person: a new lead.
    expect(
      (await post({ name: '钱伟', company: '腾讯科技（深圳）有限公司', phone: uniquePhone() })).status,
    ).toBe(201);
  });

  it('treats a source re-sending its own externalId as the same lead', async () => {
    const first = await post({ externalId: 'form-778', email: 'ext1@a.cn' });
    expect((await post({ externalId: 'form-778', email: 'ext2@a.cn' })).body).toEqual({
      id: first.body.id,
      status: 'merged',
    });
    // The same external id from another source is another record.
    expect((await post({ externalId: 'form-778', email: 'ext3@a.cn' }, {}, baiduKey)).status).toBe(201);
  });

  it('ends twenty simultaneous submissions of one person as exactly one lead', async () => {
    const phone = uniquePhone();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post({ phone, name: '并发', remark: `第 ${i} 次` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([...Array(19).fill(200), 201]);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    const [count] = (await app.database.db.execute(
      sql`SELECT COUNT(*) AS n FROM leads WHERE phone = ${`+86${phone}`}`,
    )) as unknown as [{ n: number }[]];
    expect(Number(count[0]!.n)).toBe(1);
    const events = await timelineOf([...ids][0]!);
    expect(events.filter((e) => e.type === 'lead.duplicate')).toHaveLength(19);
  });
});

describe('POST /api/v1/leads: Idempotency-Key', () => {
  it('answers the same request with the same key once, and replays the answer', async () => {
    const body = { phone: uniquePhone(), name: '幂等' };
    const first = await post(body, { 'idempotency-key': 'order-1' });
    const second = await post(body, { 'idempotency-key': 'order-1' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect((await timelineOf(first.body.id)).map((e) => e.type)).toEqual(['lead.created']);
  });

  it('answers 409 when the key comes back with another body', async () => {
    await post({ phone: uniquePhone() }, { 'idempotency-key': 'order-2' });
    const res = await post({ phone: uniquePhone() }, { 'idempotency-key': 'order-2' });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('idempotency_key_reused');
  });

  it('keeps keys per source and forgets them after 24 hours', async () => {
    const phone = uniquePhone();
    const first = await post({ phone }, { 'idempotency-key': 'shared-key' });
    const other = await post({ email: 'other-source@a.cn' }, { 'idempotency-key': 'shared-key' }, baiduKey);
    expect(other.status).toBe(201);
    app.clock.advance(24 * 3600 * 1000 + 1);
    const later = await post({ phone }, { 'idempotency-key': 'shared-key' });
    expect(later.status).toBe(200);
    expect(later.body).toEqual({ id: first.body.id, status: 'merged' });
    expect(later.headers.get('idempotency-replayed')).toBeNull();
  });

  it('gives five simultaneous retries of one request one lead and one answer', async () => {
    const body = { phone: uniquePhone() };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => post(body, { 'idempotency-key': 'burst-1' })),
    );
    expect(new Set(results.map((r) => JSON.stringify([r.status, r.body]))).size).toBe(1);
    expect(results[0]!.status).toBe(201);
  });

  it('refuses a malformed key with 400', async () => {
    const res = await post({ phone: uniquePhone() }, { 'idempotency-key': 'x'.repeat(192) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_idempotency_key');
  });
});

describe('POST /api/v1/leads: refusals', () => {
  it('401 without a key, with an unknown key, and with a revoked key', async () => {
    const none = await request(`${app.url}/api/v1/leads`, { body: { phone: uniquePhone() } });
    const bad = await post({ phone: uniquePhone() }, {}, 'lr_not-a-real-key');
    const key = await app.createKey('website');
    const [row] = (await app.database.db.execute(
      sql`SELECT MAX(id) AS id FROM source_api_keys`,
    )) as unknown as [{ id: number }[]];
    await revokeApiKey(app.database.db, Number(row[0]!.id), app.clock.now());
    const revoked = await post({ phone: uniquePhone() }, {}, key);
    for (const res of [none, bad, revoked]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
    }
  });

  it('415 for a body that is not JSON', async () => {
    const res = await request(`${app.url}/api/v1/leads`, {
      raw: 'phone=13812345678',
      headers: { authorization: `Bearer ${websiteKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      error: 'unsupported_media_type',
      message: expect.stringContaining('application/json'),
    });
  });

  it('413 over the cap, declared or chunked', async () => {
    const big = await post({ phone: uniquePhone(), remark: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('payload_too_large');
    const chunked = await postChunked(
      `${app.url}/api/v1/leads`,
      { authorization: `Bearer ${websiteKey}`, 'content-type': 'application/json' },
      [Buffer.from('{"remark":"'), Buffer.alloc(5000, 'y'), Buffer.from('"}')],
    );
    expect(chunked.status).toBe(413);
  });

  it('400 for malformed JSON, invalid UTF-8 and __proto__ keys, each kept for replay', async () => {
    const cases = [
      { raw: Buffer.from('{"phone": "1381234'), code: 'malformed_json' },
      {
        raw: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        code: 'invalid_utf8',
      },
      { raw: Buffer.from('{"phone":"13812345678","__proto__":{"admin":true}}'), code: 'malformed_json' },
    ];
    for (const c of cases) {
      const res = await request(`${app.url}/api/v1/leads`, {
        raw: c.raw,
        headers: { authorization: `Bearer ${websiteKey}`, 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(c.code);
      const [kept] = await app.database.db
        .select()
        .from(rejectedPayloads)
        .where(eq(rejectedPayloads.id, res.body.rejectedId));
      expect(kept!.body.equals(c.raw)).toBe(true);
      expect(kept!.reasonCode).toBe(c.code);
    }
  });

  it('422 with Chinese field-level issues, the raw payload kept byte-for-byte', async () => {
    const raw = '{"name":"无联系方式","mobile":"13812345678","budget":-5}';
    const res = await request(`${app.url}/api/v1/leads`, {
      raw,
      headers: { authorization: `Bearer ${websiteKey}`, 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.issues).toEqual(
      expect.arrayContaining([
        { path: 'mobile', message: expect.stringContaining('"phone"') },
        { path: 'budget', message: expect.stringMatching(/^预算：/) },
      ]),
    );
    const [kept] = await app.database.db
      .select()
      .from(rejectedPayloads)
      .where(eq(rejectedPayloads.id, res.body.rejectedId));
    expect(kept).toMatchObject({ sourceId: 'website', status: 'pending', reasonCode: 'validation_failed' });
    expect(kept!.body.toString('utf8')).toBe(raw);
    expect(kept!.issues).toEqual(res.body.issues);
  });

  it('422 when no contact remains after normalisation, and for an impossible phone number', async () => {
    const none = await post({ name: '只有名字' });
    expect(none.status).toBe(422);
    expect(none.body.issues).toEqual([{ path: 'phone', message: '至少需要手机号、邮箱或微信号之一' }]);
    const impossible = await post({ phone: '12345678901' });
    expect(impossible.status).toBe(422);
    expect(impossible.body.issues[0].path).toBe('phone');
    // The message must not echo the full number (personal data in logs and UIs).
    expect(JSON.stringify(impossible.body)).not.toContain('12345678901');
  });

  it('404 for an unknown route and 405 for a wrong method, in the error shape', async () => {
    const missing = await request(`${app.url}/api/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', message: expect.any(String) });
    const wrong = await request(`${app.url}/api/v1/leads`, { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.body.error).toBe('method_not_allowed');
    expect(wrong.headers.get('allow')).toContain('POST');
  });
});

describe('identities', () => {
  it('stores every dedupe key of a lead under the lead', async () => {
    const res = await post({
      phone: '13700001111',
      email: 'keys@a.cn',
      wechat: 'keys_wx',
      name: '孙丽',
      company: '孙氏贸易有限公司',
    });
    const rows = await app.database.db
      .select()
      .from(leadIdentities)
      .where(eq(leadIdentities.leadId, res.body.id));
    expect(rows.map((r) => `${r.kind}=${r.value}`).sort()).toEqual([
      'company_contact=孙氏贸易|孙丽',
      'email=keys@a.cn',
      'phone=+8613700001111',
      'wechat=keys_wx',
    ]);
  });
});

describe('GET /api/v1/leads/:id', () => {
  it('returns the lead with its timeline to the admin key only', async () => {
    const created = await post({ phone: uniquePhone(), name: '查看' });
    const anonymous = await request(`${app.url}/api/v1/leads/${created.body.id}`);
    expect(anonymous.status).toBe(401);
    const asSource = await request(`${app.url}/api/v1/leads/${created.body.id}`, {
      headers: { authorization: `Bearer ${websiteKey}` },
    });
    expect(asSource.status).toBe(401);
    const res = await request(`${app.url}/api/v1/leads/${created.body.id}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.lead).toMatchObject({ id: created.body.id, name: '查看', grade: 'C' });
    expect(res.body.timeline).toEqual([
      expect.objectContaining({ type: 'lead.created', actorType: 'source', actorId: 'website' }),
    ]);
    const unknown = await request(`${app.url}/api/v1/leads/999999999`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(unknown.status).toBe(404);
  });
});

describe('POST /api/v1/leads/:id/activities', () => {
  it('records a behaviour event, re-scores and logs the grade change', async () => {
    const created = await post({ phone: uniquePhone(), industry: '制造业' });
    expect(created.body).toMatchObject({ score: 40, grade: 'B' });
    const res = await request(`${app.url}/api/v1/leads/${created.body.id}/activities`, {
      body: { type: 'demo_request', data: { page: '/demo' } },
      headers: { authorization: `Bearer ${websiteKey}` },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      leadId: created.body.id,
      activityId: expect.any(Number),
      score: 70,
      grade: 'A',
      previousGrade: 'B',
    });
    const types = (await timelineOf(created.body.id)).map((e) => e.type);
    expect(types).toEqual(['lead.created', 'activity.recorded', 'lead.grade_changed']);
  });

  it('decays a behaviour event by its half-life', async () => {
    const created = await post({ phone: uniquePhone() });
    const occurredAt = new Date(app.clock.now().getTime() - 7 * 86_400_000).toISOString();
    const res = await request(`${app.url}/api/v1/leads/${created.body.id}/activities`, {
      body: { type: 'pricing_page_view', occurredAt },
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(res.body).toMatchObject({ score: 5, grade: 'C' });
  });

  it('404 for an unknown lead, 422 for a bad type or a future time, 401 without a key', async () => {
    const headers = { authorization: `Bearer ${websiteKey}` };
    expect(
      (
        await request(`${app.url}/api/v1/leads/99999999/activities`, {
          body: { type: 'demo_request' },
          headers,
        })
      ).status,
    ).toBe(404);
    const created = await post({ phone: uniquePhone() });
    const url = `${app.url}/api/v1/leads/${created.body.id}/activities`;
    const badType = await request(url, { body: { type: 'Demo Request' }, headers });
    expect(badType.status).toBe(422);
    expect(badType.body.issues[0].path).toBe('type');
    const future = await request(url, {
      body: { type: 'demo_request', occurredAt: '2030-01-01T00:00:00Z' },
      headers,
    });
    expect(future.status).toBe(422);
    expect((await request(url, { body: { type: 'demo_request' } })).status).toBe(401);
  });
});
