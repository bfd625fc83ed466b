import { sql } from 'drizzle-orm';
import { parseEnv } from '../../src/config/env';
import { loadOrgConfig } from '../../src/config/load-org-config';
import { rejectedPayloads } from '../../src/db/schema';
import { intakeLead, intakeMany, type ManyOutcome, type ManyRequest } from '../../src/leads/intake';
import { type InFlightBatch, prepareMany, startCommit } from '../../src/leads/intake-many';
import { createManualClock } from '../../src/lib/clock';
import { AppError } from '../../src/lib/errors';
import { createLogging } from '../../src/lib/logger';
import { assembleRuntime, leadDepsOf } from '../../src/runtime';
import { FIXTURE_ORG } from '../helpers/test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

/**
 * `intakeMany` must decide exactly what `intakeLead` decides for the same submissions in the same
 * order: the same leads (fields, scores, grades, versions), identities, timeline and timers.
 */

let batched: TestDatabase;
let single: TestDatabase;

function depsOf(database: TestDatabase) {
  const env = parseEnv({ DATABASE_URL: database.url, LEADRELAY_CONFIG: FIXTURE_ORG, LOG_LEVEL: 'silent' });
  const runtime = assembleRuntime({
    env,
    org: loadOrgConfig(FIXTURE_ORG, {}),
    logging: createLogging({ level: 'silent' }),
    clock: createManualClock('2026-11-21T01:00:00.000Z'),
    database,
  });
  return leadDepsOf(runtime);
}

beforeAll(async () => {
  [batched, single] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([batched.drop(), single.drop()]);
});

/** JSON columns arrive parsed from MySQL 8 and, depending on the server, as text from MariaDB. */
const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

async function rows<T>(database: TestDatabase, query: string): Promise<T[]> {
  const [result] = await database.pool.query(query);
  return result as T[];
}

/** The database's content with lead ids replaced by their creation rank, so two runs compare. */
async function snapshot(database: TestDatabase) {
  const leads = await rows<Record<string, unknown>>(database, 'SELECT * FROM leads ORDER BY id');
  const rank = new Map(leads.map((l, i) => [Number(l.id), i + 1]));
  const r = (id: unknown) => rank.get(Number(id)) ?? `?${id}`;
  const mapIds = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value), (key, v) => (key === 'alsoMatched' && Array.isArray(v) ? v.map(r) : v));
  return {
    leads: leads.map(({ id, created_at: _c, updated_at: _u, ...rest }) => ({
      id: r(id),
      ...rest,
      tags: json(rest.tags),
      custom: json(rest.custom),
    })),
    identities: (
      await rows<{ kind: string; value: string; lead_id: number }>(
        database,
        'SELECT kind, value, lead_id FROM lead_identities ORDER BY kind, value',
      )
    ).map((i) => ({ ...i, lead_id: r(i.lead_id) })),
    events: (
      await rows<{ lead_id: number; type: string; actor_id: string; data: unknown }>(
        database,
        'SELECT lead_id, type, actor_id, data FROM lead_events ORDER BY id',
      )
    ).map((e) => ({ ...e, lead_id: r(e.lead_id), data: mapIds(json(e.data)) })),
    timers: (
      await rows<{ effect_key: string; kind: string; lead_id: number; status: string }>(
        database,
        'SELECT effect_key, kind, lead_id, status FROM timers ORDER BY id',
      )
    ).map((t) => ({ kind: t.kind, lead: r(t.lead_id), status: t.status })),
    rejected: await rows<Record<string, unknown>>(
      database,
      'SELECT source_id, status, reason_code, issues, content_type, body FROM rejected_payloads ORDER BY id',
    ),
  };
}

const SUBMISSIONS: ManyRequest[] = [
  // 1: a new lead, grade B (制造业 = 40).
  {
    sourceId: 'website',
    body: { name: '张伟', phone: '13812340001', company: '苏州精工机械有限公司', industry: '制造业' },
  },
  // 2: same phone: merges into 1, fills title (总 = 25 → 65, grade A) and an email.
  {
    sourceId: 'baidu',
    body: {
      phone: '+86 138-1234-0001',
      title: '总经理',
      email: 'zw@example.com',
      tags: ['展会'],
      custom: { a: 1 },
    },
  },
  // 3: the email added by 2 now identifies lead 1 too.
  { sourceId: 'website', body: { email: 'ZW@example.com', remark: '第二次来访' } },
  // 4: invalid: a landline.
  { sourceId: 'website', body: { name: '李四', phone: '010-62345678' } },
  // 5 and 6: two more new leads.
  { sourceId: 'website', body: { name: '王芳', wechat: 'wangfang_88', company: '杭州云启科技有限公司' } },
  { sourceId: 'baidu', body: { name: '赵六', email: 'zhao6@example.cn', externalId: 'BD-0001' } },
  // 7: matches 5 by company + name and 6 by e-mail: merges into the older, 5, and notes 6.
  { sourceId: 'website', body: { name: '王芳', company: '杭州云启科技', email: 'zhao6@example.cn' } },
  // 8: baidu's own id again, in another case: the same lead as 6.
  { sourceId: 'baidu', body: { externalId: 'bd-0001', phone: '13912340006' } },
  // 9: not an object at all.
  { sourceId: 'website', body: 'nonsense' },
  // 10: an unknown field (strict schema, as the API).
  { sourceId: 'website', body: { phone: '13812340010', mobile: '13812340010' } },
];

describe('intakeMany', () => {
  it('stores what intakeLead stores for the same submissions, one after another', async () => {
    const batchDeps = depsOf(batched);
    const outcomes = await intakeMany(batchDeps, SUBMISSIONS);
    expect(outcomes.map((o) => o.status)).toEqual([
      'created',
      'merged',
      'merged',
      'rejected',
      'created',
      'created',
      'merged',
      'merged',
      'rejected',
      'rejected',
    ]);

    const singleDeps = depsOf(single);
    for (const submission of SUBMISSIONS) {
      try {
        await intakeLead(singleDeps, { sourceId: submission.sourceId, body: submission.body });
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 422) throw error;
        // What submitLead keeps for a refused payload, as intakeMany does.
        const { storeRejectedPayload } = await import('../../src/leads/rejected-payloads');
        await storeRejectedPayload(single.db, {
          sourceId: submission.sourceId,
          reasonCode: error.code,
          issues: error.details.issues as never,
          contentType: 'application/json',
          idempotencyKey: null,
          requestId: null,
          body: Buffer.from(JSON.stringify(submission.body)),
          now: singleDeps.clock.now(),
        });
      }
    }

    const [a, b] = await Promise.all([snapshot(batched), snapshot(single)]);
    expect(a).toEqual(b);
    expect(a.leads).toHaveLength(3);
    expect(a.leads[0]).toMatchObject({
      grade: 'A',
      score: 65,
      version: 3,
      remark: '第二次来访',
      tags: ['展会'],
    });
    expect(a.events.map((e) => `${e.lead_id}:${e.type}`)).toEqual([
      '1:lead.created',
      '1:lead.duplicate',
      '1:lead.grade_changed',
      '1:lead.duplicate',
      '2:lead.created',
      '3:lead.created',
      '2:lead.duplicate',
      '3:lead.duplicate',
    ]);
    expect(a.events[6]!.data).toMatchObject({ alsoMatched: [3] });
    expect(a.timers).toEqual([1, 2, 3].map((lead) => ({ kind: 'lead.assign', lead, status: 'pending' })));
    expect(a.rejected).toHaveLength(3);
  });

  it('merges into leads already in the database, in one batch with new ones', async () => {
    const deps = depsOf(batched);
    const outcomes = await intakeMany(deps, [
      { sourceId: 'website', body: { phone: '13812340001', need: '需要 CRM' }, note: { import: { row: 2 } } },
      { sourceId: 'website', body: { phone: '13812340099', name: '新客户' }, note: { import: { row: 3 } } },
    ]);
    expect(outcomes).toEqual([
      { status: 'merged', id: expect.any(Number), warnings: [] },
      { status: 'created', id: expect.any(Number), score: 0, grade: 'C', warnings: [] },
    ]);
    const [lead] = await rows<{ need: string; version: number }>(
      batched,
      `SELECT need, version FROM leads WHERE id = ${(outcomes[0] as { id: number }).id}`,
    );
    expect(lead).toEqual({ need: '需要 CRM', version: 4 });
    const notes = await rows<{ type: string; data: unknown }>(
      batched,
      `SELECT type, data FROM lead_events WHERE lead_id IN (${outcomes.map((o) => (o as { id: number }).id)}) AND JSON_EXTRACT(data, '$.import.row') IS NOT NULL ORDER BY id`,
    );
    expect(notes.map((n) => [n.type, (json(n.data) as { import: { row: number } }).import.row])).toEqual([
      ['lead.duplicate', 2],
      ['lead.created', 3],
    ]);
  });

  it('keeps refused rows with the request id and the bytes given', async () => {
    const deps = depsOf(batched);
    const [outcome] = await intakeMany(deps, [
      {
        sourceId: 'website',
        body: { name: '无联系方式' },
        raw: Buffer.from('{"姓名":"无联系方式"}'),
        requestId: 'import:x#7',
      },
    ]);
    expect(outcome).toEqual({
      status: 'rejected',
      code: 'validation_failed',
      issues: [{ path: 'phone', message: '至少需要手机号、邮箱或微信号之一' }],
    });
    const [row] = await batched.db
      .select()
      .from(rejectedPayloads)
      .where(sql`${rejectedPayloads.requestId} = 'import:x#7'`);
    expect(row).toMatchObject({ status: 'pending', reasonCode: 'validation_failed', sourceId: 'website' });
    expect(row!.body.toString('utf8')).toBe('{"姓名":"无联系方式"}');
  });

  it('dry run: the same outcomes, nothing written, no id reserved', async () => {
    const deps = depsOf(batched);
    const count = async () =>
      rows<Record<string, number>>(
        batched,
        `SELECT (SELECT COUNT(*) FROM leads) l, (SELECT COUNT(*) FROM lead_identities) i,
                (SELECT COUNT(*) FROM lead_events) e, (SELECT COUNT(*) FROM timers) t,
                (SELECT COUNT(*) FROM rejected_payloads) r, (SELECT MAX(next_id) FROM id_blocks) b`,
      );
    const before = await count();
    const outcomes = await intakeMany(
      deps,
      [
        { sourceId: 'website', body: { phone: '13812340001' } },
        { sourceId: 'website', body: { phone: '13812349999' } },
        { sourceId: 'website', body: { phone: '13812349999', name: '同一人' } },
        { sourceId: 'website', body: {} },
      ],
      { dryRun: true },
    );
    expect(outcomes.map((o) => o.status)).toEqual(['merged', 'created', 'merged', 'rejected']);
    expect(await count()).toEqual(before);
  });

  it('falls back to one lead at a time when the database equates keys the plan does not', async () => {
    // utf8mb4_unicode_ci is accent-insensitive: "CAFÉ-1" and "cafe-1" are one external id there.
    const deps = depsOf(batched);
    const outcomes = await intakeMany(deps, [
      { sourceId: 'website', body: { externalId: 'CAFÉ-1', phone: '13812347001' } },
      { sourceId: 'website', body: { externalId: 'cafe-1', email: 'cafe@example.com' } },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['created', 'merged']);
    expect(outcomes[1]).toMatchObject({ id: (outcomes[0] as { id: number }).id });
  });

  it('batches planned while the previous one is written decide as one sequence', async () => {
    const [piped, sequential] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      // People come back within a batch, in the next batch (planned while this one is written) and
      // later; some by phone, some by a new e-mail only, some filling fields that change the grade.
      const submissions: ManyRequest[] = [];
      for (let i = 0; i < 40; i++) {
        submissions.push({
          sourceId: 'website',
          body: { name: `客户${i}`, phone: `1381234${String(1000 + i)}` },
        });
        if (i % 3 === 2) {
          const j = i - 2 - (i % 2);
          submissions.push({
            sourceId: 'baidu',
            body: { phone: `1381234${String(1000 + j)}`, email: `c${j}@example.com`, industry: '制造业' },
          });
        }
        if (i % 5 === 4)
          submissions.push({ sourceId: 'website', body: { email: `c${i - 4}@example.com`, title: '总监' } });
        if (i % 11 === 10) submissions.push({ sourceId: 'website', body: { name: '无效' } });
      }
      const deps = depsOf(piped);
      const inFlight: InFlightBatch[] = [];
      const outcomes: ManyOutcome[] = [];
      for (let k = 0; k < submissions.length; k += 3) {
        if (inFlight.length >= 2) outcomes.push(...(await inFlight.shift()!.outcomes));
        const prepared = prepareMany(deps, submissions.slice(k, k + 3));
        inFlight.push(startCommit(deps, prepared, { after: inFlight.at(-1) ?? null }));
      }
      for (const batch of inFlight) outcomes.push(...(await batch.outcomes));

      const singleDeps = depsOf(sequential);
      const expected: string[] = [];
      for (const submission of submissions) {
        try {
          const result = await intakeLead(singleDeps, {
            sourceId: submission.sourceId,
            body: submission.body,
          });
          expected.push(result.body.status);
        } catch (error) {
          if (!(error instanceof AppError) || error.status !== 422) throw error;
          expected.push('rejected');
          const { storeRejectedPayload } = await import('../../src/leads/rejected-payloads');
          await storeRejectedPayload(sequential.db, {
            sourceId: submission.sourceId,
            reasonCode: error.code,
            issues: error.details.issues as never,
            contentType: 'application/json',
            idempotencyKey: null,
            requestId: null,
            body: Buffer.from(JSON.stringify(submission.body)),
            now: singleDeps.clock.now(),
          });
        }
      }
      expect(outcomes.map((o) => o.status)).toEqual(expected);
      const [a, b] = await Promise.all([snapshot(piped), snapshot(sequential)]);
      expect(a).toEqual(b);
      expect(a.events.filter((e) => e.type === 'lead.grade_changed').length).toBeGreaterThan(0);
    } finally {
      await Promise.all([piped.drop(), sequential.drop()]);
    }
  });

  it('a batch whose borrowed lead changed after the previous batch committed plans again from the database', async () => {
    const deps = depsOf(batched);
    const first = startCommit(
      deps,
      prepareMany(deps, [{ sourceId: 'website', body: { phone: '13812348001' } }]),
    );
    let leadId = 0;
    // Someone changes the lead right after the first batch commits, before the second writes.
    const after: InFlightBatch = {
      ...first,
      firstPlanCommitted: first.firstPlanCommitted.then(async (ok) => {
        leadId = ((await first.outcomes)[0] as { id: number }).id;
        await batched.pool.query('UPDATE leads SET version = version + 10, remark = ? WHERE id = ?', [
          '人工备注',
          leadId,
        ]);
        return ok;
      }),
    };
    // The second batch merges into the lead the first creates, planned before the first commits.
    const second = startCommit(
      deps,
      prepareMany(deps, [{ sourceId: 'website', body: { phone: '13812348001', remark: '第二批' } }]),
      { after },
    );
    const [merged] = await second.outcomes;
    expect(merged).toMatchObject({ status: 'merged', id: leadId });
    const [row] = await rows<{ remark: string; version: number }>(
      batched,
      `SELECT remark, version FROM leads WHERE id = ${leadId}`,
    );
    // Planned again against the lead as it is now, the manual remark stays (a merge fills, never
    // overwrites); a write from the stale plan would have replaced it with 第二批.
    expect(row).toEqual({ remark: '人工备注', version: 12 });
  });
});
