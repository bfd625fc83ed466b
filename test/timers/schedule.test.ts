import { eq, sql } from 'drizzle-orm';
import { runBatch } from '../../src/db/batch';
import { timers } from '../../src/db/schema';
import { explainDueQuery, usesDueIndexRange } from '../../src/timers/explain-due-query';
import {
  cancelTimers,
  cancelTimersStatement,
  scheduleTimers,
  scheduleTimersStatement,
} from '../../src/timers/schedule';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.execute(sql`DELETE FROM timers`);
});

async function row(effectKey: string) {
  const [found] = await database.db.select().from(timers).where(eq(timers.effectKey, effectKey));
  return found!;
}

/** Milliseconds from the database's now to the row's due time. */
async function dueInMs(effectKey: string): Promise<number> {
  const [[r]] = (await database.db.execute(
    sql`SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), due_at) / 1000 AS ms FROM timers WHERE effect_key = ${effectKey}`,
  )) as unknown as [[{ ms: number | string }]];
  return Number(r.ms);
}

async function statusByKey(): Promise<Record<string, string>> {
  const rows = await database.db.select({ key: timers.effectKey, status: timers.status }).from(timers);
  return Object.fromEntries(rows.map((r) => [r.key, r.status]));
}

describe('scheduleTimers', () => {
  it('counts { inMs } from the database clock and stores an absolute Date as given', async () => {
    const at = new Date('2031-05-04T03:02:01.234Z');
    await scheduleTimers(database.db, [
      { effectKey: 'rel', kind: 'sla.remind', leadId: 7, dueAt: { inMs: 90_000 }, payload: { level: 'L1' } },
      { effectKey: 'abs', kind: 'sla.remind', dueAt: at },
    ]);
    const wait = await dueInMs('rel');
    expect(wait).toBeGreaterThan(89_000);
    expect(wait).toBeLessThanOrEqual(90_000);
    const rel = await row('rel');
    expect([rel.status, rel.kind, rel.leadId, rel.payload, rel.attempts]).toEqual([
      'pending',
      'sla.remind',
      7,
      { level: 'L1' },
      0,
    ]);
    expect((await row('abs')).dueAt.toISOString()).toBe(at.toISOString());
    expect((await row('abs')).payload).toEqual({});
  });

  it("mode 'keep' (the default) leaves a pending timer's due time and payload as they were", async () => {
    await scheduleTimers(database.db, [
      { effectKey: 'k', kind: 'x', dueAt: { inMs: 3_600_000 }, payload: { v: 1 } },
    ]);
    await scheduleTimers(database.db, [{ effectKey: 'k', kind: 'x', dueAt: { inMs: 0 }, payload: { v: 2 } }]);
    await scheduleTimers(database.db, [{ effectKey: 'k', kind: 'x', dueAt: { inMs: 0 } }], { mode: 'keep' });
    expect(await dueInMs('k')).toBeGreaterThan(3_500_000);
    expect((await row('k')).payload).toEqual({ v: 1 });
    expect(await database.db.$count(timers)).toBe(1);
  });

  it("mode 'reschedule' moves a pending timer and gives it a fresh set of attempts", async () => {
    await scheduleTimers(database.db, [
      { effectKey: 'r', kind: 'x', dueAt: { inMs: 3_600_000 }, payload: { v: 1 } },
    ]);
    // As if two runs had failed already.
    await database.db.update(timers).set({ attempts: 2, lastError: 'boom' }).where(eq(timers.effectKey, 'r'));
    await scheduleTimers(
      database.db,
      [{ effectKey: 'r', kind: 'x', dueAt: { inMs: 5_000 }, payload: { v: 2 } }],
      {
        mode: 'reschedule',
      },
    );
    const wait = await dueInMs('r');
    expect(wait).toBeGreaterThan(4_000);
    expect(wait).toBeLessThanOrEqual(5_000);
    const r = await row('r');
    expect([r.status, r.payload, r.attempts, r.lastError]).toEqual(['pending', { v: 2 }, 0, null]);
  });

  it('never revives or moves a firing, done, cancelled or failed timer under the same key', async () => {
    const keys = ['firing', 'done', 'cancelled', 'failed'];
    await scheduleTimers(
      database.db,
      keys.map((key) => ({ effectKey: key, kind: 'x', dueAt: { inMs: -60_000 }, payload: { v: 1 } })),
    );
    for (const key of keys) {
      await database.db.update(timers).set({ status: key }).where(eq(timers.effectKey, key));
    }
    for (const mode of ['keep', 'reschedule'] as const) {
      await scheduleTimers(
        database.db,
        keys.map((key) => ({ effectKey: key, kind: 'x', dueAt: { inMs: 60_000 }, payload: { v: 2 } })),
        { mode },
      );
    }
    expect(await statusByKey()).toEqual(Object.fromEntries(keys.map((k) => [k, k])));
    for (const key of keys) {
      expect(await dueInMs(key)).toBeLessThan(-50_000);
      expect((await row(key)).payload).toEqual({ v: 1 });
    }
  });

  it('writes one row per key even when a call repeats a key', async () => {
    await scheduleTimers(database.db, [
      { effectKey: 'twice', kind: 'x', dueAt: { inMs: 1000 } },
      { effectKey: 'twice', kind: 'x', dueAt: { inMs: 2000 } },
    ]);
    expect(await database.db.$count(timers)).toBe(1);
  });

  it('rejects a due time that is not a time', async () => {
    await expect(
      scheduleTimers(database.db, [{ effectKey: 'nan', kind: 'x', dueAt: { inMs: Number.NaN } }]),
    ).rejects.toThrow(/finite/);
    await expect(
      scheduleTimers(database.db, [{ effectKey: 'bad', kind: 'x', dueAt: new Date('nope') }]),
    ).rejects.toThrow(/invalid Date/);
    expect(() => scheduleTimersStatement([])).toThrow(/at least one/);
  });
});

describe('cancelTimers', () => {
  beforeEach(async () => {
    await scheduleTimers(database.db, [
      { effectKey: 'lead:1:claim', kind: 'claim.deadline', leadId: 1, dueAt: { inMs: 60_000 } },
      { effectKey: 'lead:1:remind', kind: 'sla.remind', leadId: 1, dueAt: { inMs: 60_000 } },
      { effectKey: 'lead:1:busy', kind: 'sla.remind', leadId: 1, dueAt: { inMs: -1_000 } },
      { effectKey: 'lead:1:old', kind: 'sla.remind', leadId: 1, dueAt: { inMs: -1_000 } },
      { effectKey: 'lead:2:claim', kind: 'claim.deadline', leadId: 2, dueAt: { inMs: 60_000 } },
    ]);
    await database.db.update(timers).set({ status: 'firing' }).where(eq(timers.effectKey, 'lead:1:busy'));
    await database.db.update(timers).set({ status: 'done' }).where(eq(timers.effectKey, 'lead:1:old'));
  });

  it("cancels a lead's pending timers of the given kinds only", async () => {
    expect(await cancelTimers(database.db, { leadId: 1, kinds: ['sla.remind'] })).toBe(1);
    expect(await statusByKey()).toEqual({
      'lead:1:claim': 'pending',
      'lead:1:remind': 'cancelled',
      'lead:1:busy': 'firing',
      'lead:1:old': 'done',
      'lead:2:claim': 'pending',
    });
  });

  it("cancels all of a lead's pending timers, and named ones", async () => {
    expect(await cancelTimers(database.db, { leadId: 1 })).toBe(2);
    expect(await cancelTimers(database.db, { effectKeys: ['lead:2:claim', 'lead:1:old', 'nope'] })).toBe(1);
    expect(await statusByKey()).toEqual({
      'lead:1:claim': 'cancelled',
      'lead:1:remind': 'cancelled',
      'lead:1:busy': 'firing',
      'lead:1:old': 'done',
      'lead:2:claim': 'cancelled',
    });
    // A cancelled key is not revived by scheduling it again.
    await scheduleTimers(
      database.db,
      [{ effectKey: 'lead:2:claim', kind: 'claim.deadline', dueAt: { inMs: 0 } }],
      {
        mode: 'reschedule',
      },
    );
    expect((await row('lead:2:claim')).status).toBe('cancelled');
  });

  it('an empty selection cancels nothing', async () => {
    expect(await cancelTimers(database.db, { effectKeys: [] })).toBe(0);
    expect(await cancelTimers(database.db, { leadId: 1, kinds: [] })).toBe(0);
  });

  it('schedules and cancels in one round trip with the batch statements', async () => {
    await runBatch(database.batchPool, [
      scheduleTimersStatement([
        { effectKey: 'lead:3:claim', kind: 'claim.deadline', leadId: 3, dueAt: { inMs: 1_000 } },
        { effectKey: 'lead:1:claim', kind: 'claim.deadline', leadId: 1, dueAt: { inMs: 0 } },
      ]),
      cancelTimersStatement({ leadId: 2 }),
      cancelTimersStatement({ effectKeys: [] }),
    ]);
    const statuses = await statusByKey();
    expect([statuses['lead:3:claim'], statuses['lead:1:claim'], statuses['lead:2:claim']]).toEqual([
      'pending',
      'pending',
      'cancelled',
    ]);
    // 'keep': the existing row kept its due time.
    expect(await dueInMs('lead:1:claim')).toBeGreaterThan(50_000);
  });
});

describe('the due query', () => {
  it('reads the timers_due_idx range, not the table', async () => {
    // The shape of bench/timers: 40k pending, every tenth due, the rest in the future, some finished.
    // At this size (not at 20k) MariaDB 10.11 plans `ORDER BY due_at` as a ref on status alone.
    const specs = Array.from({ length: 40_000 }, (_, i) => ({
      effectKey: `mix:${i}`,
      kind: 'x',
      leadId: i,
      dueAt: { inMs: i % 10 === 0 ? -1 - (i % 5000) : 3_600_000 + i * 800 },
    }));
    const statements = [];
    for (let i = 0; i < specs.length; i += 2000)
      statements.push(scheduleTimersStatement(specs.slice(i, i + 2000)));
    await runBatch(database.batchPool, statements);
    await database.db.execute(sql`UPDATE timers SET status = 'done' WHERE lead_id % 100 = 1`);
    const plan = await explainDueQuery(database.db);
    expect(plan).toHaveLength(1);
    // A range on (status, due_at), not `ref` on status alone: that one reads every pending timer.
    expect(plan[0]).toMatchObject({ table: 'timers', key: 'timers_due_idx', type: 'range' });
    expect(usesDueIndexRange(plan)).toBe(true);
  });
});
