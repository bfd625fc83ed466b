import { eq, sql } from 'drizzle-orm';
import { idempotencyKeys, leadEvents, leads, rejectedPayloads } from '../../src/db/schema';
import { hashRequestBody, type IntakeOutcome, prepareSubmission } from '../../src/leads/intake';
import type { IntakeCoalescer } from '../../src/leads/intake-coalescer';
import { request } from '../helpers/http';
import { startTestApp, type TestApp } from '../helpers/test-app';

/**
 * Concurrent `POST /api/v1/leads` share transactions (src/leads/intake-coalescer.ts). What a source
 * sees must not change: each submission gets the answer it would get alone.
 */

let app: TestApp;
let websiteKey: string;
let coalescer: IntakeCoalescer;
let seq = 0;

function uniquePhone(): string {
  seq += 1;
  return `1370000${String(1000 + seq).padStart(4, '0')}`;
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  request(`${app.url}/api/v1/leads`, {
    body,
    headers: { authorization: `Bearer ${websiteKey}`, ...headers },
  });

/**
 * Hands submissions to the server's coalescer in one turn of the event loop, as the route does once
 * a request is checked: they are written in one shared transaction.
 */
function submitTogether(
  bodies: { body: Record<string, unknown>; idempotencyKey?: string }[],
): Promise<PromiseSettledResult<IntakeOutcome>[]> {
  return Promise.allSettled(
    bodies.map(({ body, idempotencyKey }) =>
      coalescer.submit(
        {
          sourceId: 'website',
          body,
          ...(idempotencyKey
            ? {
                idempotency: {
                  key: idempotencyKey,
                  requestHash: hashRequestBody(Buffer.from(JSON.stringify(body))),
                },
              }
            : {}),
        },
        prepareSubmission(body),
      ),
    ),
  );
}

const fulfilled = (results: PromiseSettledResult<IntakeOutcome>[]) =>
  results.map((r) => {
    if (r.status !== 'fulfilled') throw r.reason;
    return r.value;
  });

async function timelineTypes(leadId: number): Promise<string[]> {
  const events = await app.database.db
    .select()
    .from(leadEvents)
    .where(eq(leadEvents.leadId, leadId))
    .orderBy(leadEvents.id);
  return events.map((e) => e.type);
}

async function leadCount(phone: string): Promise<number> {
  const [rows] = (await app.database.db.execute(
    sql`SELECT COUNT(*) AS n FROM leads WHERE phone = ${`+86${phone}`}`,
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  app = await startTestApp({ server: { workers: false } });
  websiteKey = await app.createKey('website');
  coalescer = app.server.deps.intakeCoalescer!;
});
afterAll(async () => {
  await app.close();
});

describe('intake coalescer: submissions sharing a transaction', () => {
  it('writes submissions handed in together in one transaction, each answered as if alone', async () => {
    const before = { ...coalescer.counters };
    const person = uniquePhone();
    const others = Array.from({ length: 6 }, () => uniquePhone());
    const results = fulfilled(
      await submitTogether([
        { body: { phone: person, name: '同批', industry: '制造业' } },
        ...others.map((phone) => ({ body: { phone, name: '别人' } })),
        { body: { phone: person, email: 'same.batch@corp.cn', campaign: '双11' } },
        { body: { phone: person, remark: '第三次' } },
      ]),
    );
    expect(coalescer.counters.batches).toBe(before.batches + 1);
    expect(coalescer.counters.batched).toBe(before.batched + 9);

    const [first, ...rest] = results;
    expect(first).toEqual({
      status: 201,
      body: { id: expect.any(Number), status: 'created', score: 40, grade: 'B' },
      replayed: false,
    });
    const repeats = rest.slice(6);
    for (const r of repeats)
      expect(r).toEqual({ status: 200, body: { id: first!.body.id, status: 'merged' }, replayed: false });
    const otherIds = rest.slice(0, 6).map((r) => {
      expect(r.status).toBe(201);
      return r.body.id;
    });
    expect(new Set([first!.body.id, ...otherIds]).size).toBe(7);

    expect(await leadCount(person)).toBe(1);
    const [row] = await app.database.db.select().from(leads).where(eq(leads.id, first!.body.id));
    expect(row).toMatchObject({
      email: 'same.batch@corp.cn',
      campaign: '双11',
      industry: '制造业',
      version: 3,
    });
    expect(await timelineTypes(first!.body.id)).toEqual(['lead.created', 'lead.duplicate', 'lead.duplicate']);
    // Routing is queued for each new lead, as on the one-lead path.
    const [timers] = (await app.database.db.execute(
      sql`SELECT COUNT(*) AS n FROM timers WHERE kind = 'lead.assign' AND lead_id IN (${sql.join(
        [first!.body.id, ...otherIds].map((id) => sql`${id}`),
        sql`, `,
      )})`,
    )) as unknown as [{ n: number }[]];
    expect(Number(timers[0]!.n)).toBe(7);
  });

  it('writes a batch of new people as the one-lead path writes each, in one round trip', async () => {
    // Whatever the batches before left behind, a batch that met no known person ends planning.
    await submitTogether([{ body: { phone: uniquePhone() } }, { body: { phone: uniquePhone() } }]);
    const before = { ...coalescer.counters };
    const alone = await post({ phone: uniquePhone(), name: '单独', budget: '很多', tags: ['官网'] });
    const phones = Array.from({ length: 5 }, () => uniquePhone());
    const results = fulfilled(
      await submitTogether(
        phones.map((phone) => ({ body: { phone, name: '一批', budget: '很多', tags: ['官网'] } })),
      ),
    );
    expect(coalescer.counters.batches).toBe(before.batches + 1);
    expect(coalescer.counters.planned).toBe(before.planned);
    for (const r of results) {
      expect(r).toEqual({ status: 201, body: { ...alone.body, id: expect.any(Number) }, replayed: false });
    }
    const comparable = async (id: number) => {
      const [row] = await app.database.db.select().from(leads).where(eq(leads.id, id));
      const { id: _id, phone: _phone, name: _name, ...rest } = row!;
      const [[timer]] = (await app.database.db.execute(
        sql`SELECT kind, status, due_at <= NOW(3) AS due FROM timers WHERE effect_key = ${`lead:${id}:assign`}`,
      )) as unknown as [[{ kind: string; status: string; due: number }]];
      const [identities] = (await app.database.db.execute(
        sql`SELECT kind FROM lead_identities WHERE lead_id = ${id} ORDER BY kind`,
      )) as unknown as [{ kind: string }[]];
      return { rest, timer, identities, timeline: await timelineTypes(id) };
    };
    const expected = await comparable(alone.body.id);
    expect(expected.timer).toEqual({ kind: 'lead.assign', status: 'pending', due: 1 });
    expect(expected.rest.retainUntil).not.toBeNull();
    for (const r of results) expect(await comparable(r.body.id)).toEqual(expected);
  });

  it('plans a batch of new people again when one of them turns out to be known', async () => {
    const known = uniquePhone();
    const first = await post({ phone: known, name: '老客户' });
    await submitTogether([{ body: { phone: uniquePhone() } }, { body: { phone: uniquePhone() } }]);
    const before = { ...coalescer.counters };
    const results = fulfilled(
      await submitTogether([
        { body: { phone: uniquePhone() } },
        { body: { phone: known, email: 'known.again@corp.cn' } },
        { body: { phone: uniquePhone() } },
      ]),
    );
    expect(coalescer.counters.batches).toBe(before.batches + 1);
    expect(coalescer.counters.planned).toBe(before.planned + 1);
    expect(results.map((r) => r.status)).toEqual([201, 200, 201]);
    expect(results[1]!.body).toEqual({ id: first.body.id, status: 'merged' });
    expect(await leadCount(known)).toBe(1);
  });

  it('gives concurrent HTTP submissions of one person one lead: one 201, the rest 200 with its id', async () => {
    const phone = uniquePhone();
    const before = coalescer.counters.batched;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post({ phone, name: '并发', remark: `第 ${i} 次` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([...Array(29).fill(200), 201]);
    const created = results.find((r) => r.status === 201)!;
    for (const r of results) expect(r.body.id).toBe(created.body.id);
    expect(await leadCount(phone)).toBe(1);
    const types = await timelineTypes(created.body.id);
    expect(types.filter((t) => t === 'lead.duplicate')).toHaveLength(29);
    // Thirty requests at once do not all go alone.
    expect(coalescer.counters.batched).toBeGreaterThan(before);
  });

  it('refuses one invalid submission among concurrent valid ones alone, and keeps it', async () => {
    const phones = Array.from({ length: 8 }, () => uniquePhone());
    const bad = { name: '坏数据', phone: '12345', budget: -1 };
    const results = await Promise.all([
      ...phones.slice(0, 4).map((phone) => post({ phone })),
      post(bad),
      ...phones.slice(4).map((phone) => post({ phone })),
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 422, 201, 201, 201, 201]);
    const refused = results[4]!;
    const [kept] = await app.database.db
      .select()
      .from(rejectedPayloads)
      .where(eq(rejectedPayloads.id, refused.body.rejectedId));
    expect(JSON.parse(kept!.body.toString('utf8'))).toEqual(bad);
    for (const phone of phones) expect(await leadCount(phone)).toBe(1);
  });

  it('lets the other submissions in when one makes the shared transaction fail', async () => {
    // A trigger stands in for any value the database refuses that validation let through.
    await app.database.pool.query(
      `CREATE TRIGGER refuse_poison BEFORE INSERT ON leads FOR EACH ROW
         IF NEW.name = '毒丸' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by test trigger'; END IF`,
    );
    try {
      const before = { ...coalescer.counters };
      const phones = Array.from({ length: 5 }, () => uniquePhone());
      const results = await submitTogether([
        ...phones.slice(0, 2).map((phone) => ({ body: { phone } })),
        { body: { phone: uniquePhone(), name: '毒丸' } },
        ...phones.slice(2).map((phone) => ({ body: { phone } })),
      ]);
      expect(coalescer.counters.fallbacks).toBe(before.fallbacks + 1);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      expect(String((results[2] as PromiseRejectedResult).reason)).toContain('refused by test trigger');
      for (const phone of phones) expect(await leadCount(phone)).toBe(1);
    } finally {
      await app.database.pool.query('DROP TRIGGER refuse_poison');
    }
  });
});

describe('intake coalescer: Idempotency-Key within a shared transaction', () => {
  it('answers a key repeated in one batch once, replays it to the same body and refuses another body', async () => {
    const body = { phone: uniquePhone(), name: '幂等批' };
    const other = { phone: uniquePhone(), name: '另一个请求体' };
    const batches = coalescer.counters.batches;
    const results = await submitTogether([
      { body, idempotencyKey: 'batch-key-1' },
      { body: { phone: uniquePhone() } },
      { body, idempotencyKey: 'batch-key-1' },
      { body: other, idempotencyKey: 'batch-key-1' },
      { body, idempotencyKey: 'BATCH-KEY-1' },
    ]);
    // Decided inside the shared transaction, not by falling back to one at a time.
    expect(coalescer.counters.batches).toBe(batches + 1);
    const [first, , again, conflicting, upper] = results;
    expect(first).toMatchObject({ status: 'fulfilled', value: { status: 201, replayed: false } });
    const answer = (first as PromiseFulfilledResult<IntakeOutcome>).value;
    expect(again).toEqual({ status: 'fulfilled', value: { ...answer, replayed: true } });
    // Keys compare as the database compares them (case-insensitive).
    expect(upper).toEqual({ status: 'fulfilled', value: { ...answer, replayed: true } });
    expect(conflicting!.status).toBe('rejected');
    expect((conflicting as PromiseRejectedResult).reason).toMatchObject({
      status: 409,
      code: 'idempotency_key_reused',
    });
    expect(await leadCount(other.phone)).toBe(0);
    expect(await timelineTypes(answer.body.id)).toEqual(['lead.created']);

    // Stored like the one-lead path stores it: a later request with the key is a replay over HTTP.
    const later = await post(body, { 'idempotency-key': 'batch-key-1' });
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotency-replayed')).toBe('true');
    expect(later.body).toEqual(answer.body);
  });

  it('replays a key stored earlier and claims an expired one, in a shared transaction', async () => {
    const phone = uniquePhone();
    const body = { phone, name: '旧钥匙' };
    const stored = await post(body, { 'idempotency-key': 'stored-key' });
    const aged = await post({ phone: uniquePhone() }, { 'idempotency-key': 'aged-key' });
    expect([stored.status, aged.status]).toEqual([201, 201]);
    await app.database.db
      .update(idempotencyKeys)
      .set({ expiresAt: new Date(app.clock.now().getTime() - 1) })
      .where(eq(idempotencyKeys.idemKey, 'aged-key'));

    const agedAgain = { phone, remark: '过期后重发' };
    const batches = coalescer.counters.batches;
    const results = fulfilled(
      await submitTogether([
        { body, idempotencyKey: 'stored-key' },
        { body: agedAgain, idempotencyKey: 'aged-key' },
        { body: { phone: uniquePhone() } },
      ]),
    );
    expect(coalescer.counters.batches).toBe(batches + 1);
    expect(results[0]).toEqual({ status: 201, body: stored.body, replayed: true });
    // The expired key no longer answers: the submission is processed (a merge into the first lead).
    expect(results[1]).toEqual({
      status: 200,
      body: { id: stored.body.id, status: 'merged' },
      replayed: false,
    });
    expect(await leadCount(phone)).toBe(1);
    const [row] = await app.database.db
      .select()
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.idemKey, 'aged-key'));
    expect(row).toMatchObject({
      statusCode: 200,
      requestHash: hashRequestBody(Buffer.from(JSON.stringify(agedAgain))),
      leadId: stored.body.id,
    });
    expect(row!.expiresAt.getTime()).toBe(app.clock.now().getTime() + 24 * 3600 * 1000);
  });

  it('gives concurrent HTTP retries of one request one lead and the same answer', async () => {
    const body = { phone: uniquePhone(), name: '重试' };
    const results = await Promise.all(
      Array.from({ length: 12 }, () => post(body, { 'idempotency-key': 'http-burst' })),
    );
    expect(new Set(results.map((r) => JSON.stringify([r.status, r.body]))).size).toBe(1);
    expect(results[0]!.status).toBe(201);
    expect(results.filter((r) => r.headers.get('idempotency-replayed') === 'true')).toHaveLength(11);
    expect(await leadCount(body.phone)).toBe(1);
  });
});
