import { eq } from 'drizzle-orm';
import { setAway } from '../../src/availability/availability';
import { leads, memberAvailability, routingPositions } from '../../src/db/schema';
import { withTransaction } from '../../src/db/transaction';
import type { AssignmentDeps, LeadToRoute } from '../../src/routing/choose-assignee';
import { chooseAssignee } from '../../src/routing/choose-assignee';
import { stepSmoothWeightedRoundRobin } from '../../src/routing/smooth-weighted-round-robin';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import {
  assignNew,
  countBy,
  insertLead,
  positionsOf,
  routingDeps,
  routingDoc,
  sum,
} from './routing-fixtures';

let database: TestDatabase;
const deps = routingDeps();
// 09:00 in Shanghai; local midnight is 2026-11-20T16:00Z.
const NOW = new Date('2026-11-21T01:00:00.000Z');
const EAST: LeadToRoute = { province: '浙江', grade: 'B' };
const CAP: LeadToRoute = { industry: 'capacity', grade: 'B' };
const admin = { kind: 'admin', via: 'cli' } as const;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.delete(leads);
  await database.db.delete(routingPositions);
  await database.db.delete(memberAvailability);
});

async function assignMany(n: number, lead: LeadToRoute, d: AssignmentDeps = deps, now = NOW) {
  const picks: (string | null)[] = [];
  for (let i = 0; i < n; i++) picks.push((await assignNew(database.db, d, lead, now)).memberId);
  return picks;
}

describe('weighted round robin inside a team', () => {
  it('splits 40 leads 20/10/10 for weights 2:1:1, smoothly, and keeps the state summing to 0', async () => {
    const picks = await assignMany(40, EAST);
    expect(countBy(picks)).toEqual({ a: 20, b: 10, c: 10 });
    // Smooth: every window of 4 consecutive assignments holds exactly the weighted shares.
    for (let i = 0; i + 4 <= picks.length; i++) {
      expect(countBy(picks.slice(i, i + 4))).toEqual({ a: 2, b: 1, c: 1 });
    }
    expect(picks.slice(0, 4)).toEqual(['a', 'b', 'c', 'a']);
    const positions = await positionsOf(database.db, 'east');
    expect(Object.keys(positions).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(sum(positions)).toBe(0);
  });

  it('never gives a member two in a row when weights are equal', async () => {
    const picks = await assignMany(12, { province: '江苏省', grade: 'A' });
    expect(countBy(picks)).toEqual({ s1: 6, s2: 6 });
    for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1]);
  });

  it('skips departed members and members with weight 0', async () => {
    const first = await assignNew(database.db, deps, EAST, NOW);
    expect(first).toMatchObject({
      teamId: 'east',
      memberId: 'a',
      reason: 'round_robin',
      rule: 'fallbackTeam',
      skipped: { d: 'inactive', e: 'no_weight' },
    });
    const picks = await assignMany(20, EAST);
    expect(picks).not.toContain('d');
    expect(picks).not.toContain('e');
  });

  it('does not lock or change anything when no member is eligible', async () => {
    const doc = routingDoc();
    (doc.members as { id: string; active?: boolean }[]).find((m) => m.id === 's2')!.active = false;
    const d = routingDeps(doc);
    await setAway(
      { db: database.db, directory: d.directory },
      { memberId: 's1', until: new Date(NOW.getTime() + 3600_000), setBy: admin, now: NOW },
    );
    const result = await assignNew(database.db, d, { province: '上海' }, NOW);
    expect(result).toEqual({
      teamId: 'south',
      memberId: null,
      reason: 'no_eligible_member',
      rule: 'jiangsu-shanghai',
      skipped: { s1: 'away', s2: 'inactive' },
    });
    expect(sum(await positionsOf(database.db, 'south'))).toBe(0);
  });

  it('treats a team outside working time as having nobody eligible', async () => {
    const d = { ...deps, isWorkingTime: (teamId: string) => teamId !== 'east' };
    const result = await assignNew(database.db, d, EAST, NOW);
    expect(result).toMatchObject({ memberId: null, reason: 'no_eligible_member' });
    expect(result.skipped).toMatchObject({ a: 'off_hours', b: 'off_hours', c: 'off_hours' });
    expect(await positionsOf(database.db, 'east')).toEqual({});
    expect((await assignNew(database.db, d, { province: '上海' }, NOW)).memberId).toBe('s1');
  });

  it('excludes members the caller names (accept-or-reroute)', async () => {
    const picks: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      picks.push((await assignNew(database.db, deps, EAST, NOW, { excludeMemberIds: ['a'] })).memberId);
    }
    expect(countBy(picks)).toEqual({ b: 3, c: 3 });
  });
});

describe('away members', () => {
  it('are skipped while away and rejoin at their old position, without a burst', async () => {
    await assignMany(8, EAST);
    const before = await positionsOf(database.db, 'east');
    const until = new Date(NOW.getTime() + 2 * 3600_000);
    await setAway(
      { db: database.db, directory: deps.directory },
      { memberId: 'b', until, reason: '年假', setBy: admin, now: NOW },
    );

    const whileAway = await assignMany(30, EAST, deps, new Date(NOW.getTime() + 3600_000));
    expect(whileAway).not.toContain('b');
    expect(countBy(whileAway)).toEqual({ a: 20, c: 10 });
    const during = await positionsOf(database.db, 'east');
    expect(during.b).toBe(before.b);
    expect(sum(during)).toBe(0);

    // Back by the clock passing `until`: over the next 8 leads b gets about its weighted share (2 of
    // 8), not the 30/4 ≈ 7 a "catch up" scheme would owe.
    const after = await assignMany(8, EAST, deps, new Date(until.getTime() + 1));
    const share = countBy(after).b ?? 0;
    expect(share).toBeGreaterThanOrEqual(1);
    expect(share).toBeLessThanOrEqual(3);
    expect(countBy(after).a).toBeGreaterThanOrEqual(3);
    expect(sum(await positionsOf(database.db, 'east'))).toBe(0);
  });
});

describe('capacity', () => {
  it('skips a member at their open-lead cap, counting owned and unclaimed offered leads', async () => {
    // x may hold 2 open leads: one owned and in progress, one offered and not yet claimed.
    await insertLead(database.db, { ownerId: 'x', assigneeId: 'x', stage: 'contacted', teamId: 'cap' });
    await insertLead(database.db, { assigneeId: 'x', stage: 'new', teamId: 'cap', assignedAt: NOW });
    // Closed leads, and a lead offered to x but claimed by someone else, do not count.
    await insertLead(database.db, { ownerId: 'x', stage: 'won', teamId: 'cap' });
    await insertLead(database.db, { ownerId: 'x', stage: 'lost', teamId: 'cap' });
    await insertLead(database.db, { assigneeId: 'x', ownerId: 'z', stage: 'contacted', teamId: 'cap' });

    const result = await assignNew(database.db, deps, CAP, NOW);
    expect(result.skipped).toEqual({ x: 'open_leads_cap' });
    expect(result.memberId).toBe('y');
  });

  it('frees a place when a lead is won', async () => {
    const id = await insertLead(database.db, { ownerId: 'x', stage: 'contacted' });
    await insertLead(database.db, { ownerId: 'x', stage: 'qualified' });
    expect((await assignNew(database.db, deps, CAP, NOW)).skipped).toEqual({ x: 'open_leads_cap' });
    await database.db.update(leads).set({ stage: 'won' }).where(eq(leads.id, id));
    const picks = await assignMany(3, CAP);
    expect(picks).toContain('x');
  });

  it('skips a member at their daily cap, counted from local midnight in the team timezone', async () => {
    // y takes 2 new leads a day. One assigned at 23:59 yesterday (Shanghai) does not count.
    await insertLead(database.db, {
      assigneeId: 'y',
      ownerId: 'y',
      assignedAt: new Date('2026-11-20T15:59:00Z'),
    });
    await insertLead(database.db, {
      assigneeId: 'y',
      ownerId: 'y',
      assignedAt: new Date('2026-11-20T16:00:00Z'),
    });
    await insertLead(database.db, { assigneeId: 'y', ownerId: 'y', stage: 'won', assignedAt: NOW });
    const result = await assignNew(database.db, deps, CAP, NOW);
    expect(result.skipped).toEqual({ y: 'daily_cap' });

    // Over a day x (2 open) and y (2 a day) fill up; z takes the rest.
    const picks = await assignMany(6, CAP);
    expect(picks).not.toContain('y');
    expect(countBy([result.memberId, ...picks]).x).toBe(2);
    // Next local day y is back (x is still full: nothing was closed).
    const tomorrow = await assignMany(2, CAP, deps, new Date('2026-11-21T16:00:00Z'));
    expect(tomorrow.sort()).toEqual(['y', 'z']);
  });
});

describe('teams from the rules', () => {
  it('routes by province suffix, custom field with grade, and campaign prefix with source', async () => {
    expect(await assignNew(database.db, deps, { province: '江苏', grade: 'B' }, NOW)).toMatchObject({
      teamId: 'south',
      rule: 'jiangsu-shanghai',
    });
    expect(await assignNew(database.db, deps, { custom: { vip: 'true' }, grade: 'A' }, NOW)).toMatchObject({
      teamId: 'south',
      rule: 'vip-a',
    });
    expect(await assignNew(database.db, deps, { custom: { vip: true }, grade: 'B' }, NOW)).toMatchObject({
      teamId: 'east',
      rule: 'fallbackTeam',
    });
    expect(
      await assignNew(database.db, deps, { source: 'baidu', campaign: '2026双11-搜索', grade: 'A' }, NOW),
    ).toMatchObject({ teamId: 'cap', rule: 'baidu-1111', reason: 'round_robin' });
  });
});

describe('grade C', () => {
  it('goes to the team pool without a member and leaves the rotation alone', async () => {
    const result = await assignNew(
      database.db,
      deps,
      { province: '上海', grade: 'C', companyKey: 'acme' },
      NOW,
    );
    expect(result).toEqual({
      teamId: 'south',
      memberId: null,
      reason: 'nurture_pool',
      rule: 'jiangsu-shanghai',
    });
    expect(await positionsOf(database.db, 'south')).toEqual({});
  });
});

describe('sticky owner', () => {
  it('gives a lead from a known company to its current owner, in that lead team', async () => {
    await insertLead(database.db, { companyKey: 'acme', ownerId: 'z', teamId: 'cap', stage: 'contacted' });
    const result = await assignNew(database.db, deps, { ...EAST, companyKey: 'acme' }, NOW);
    expect(result).toEqual({ teamId: 'cap', memberId: 'z', reason: 'sticky_owner' });
    expect(await positionsOf(database.db, 'east')).toEqual({});
  });

  it('prefers the most recent owner who is active and not away', async () => {
    await insertLead(database.db, { companyKey: 'acme', ownerId: 'b', teamId: 'east', stage: 'won' });
    await insertLead(database.db, { companyKey: 'acme', ownerId: 's1', teamId: 'south' });
    await insertLead(database.db, { companyKey: 'acme', ownerId: 'd', teamId: 'east' }); // departed
    await insertLead(database.db, { companyKey: 'acme', assigneeId: 'c', teamId: 'east' }); // not claimed
    const lead = { ...EAST, companyKey: 'acme' };
    expect((await assignNew(database.db, deps, lead, NOW)).memberId).toBe('s1');

    await setAway(
      { db: database.db, directory: deps.directory },
      { memberId: 's1', until: new Date(NOW.getTime() + 60_000), setBy: admin, now: NOW },
    );
    expect(await assignNew(database.db, deps, lead, NOW)).toMatchObject({
      teamId: 'east',
      memberId: 'b',
      reason: 'sticky_owner',
    });
    // Rerouting after b let the claim window pass: not b again, and s1 is still away.
    expect(await assignNew(database.db, deps, lead, NOW, { excludeMemberIds: ['b'] })).toMatchObject({
      teamId: 'east',
      reason: 'round_robin',
    });
  });

  it('falls back to round robin for a new company, when switched off, and outside the window', async () => {
    await insertLead(database.db, {
      companyKey: 'acme',
      ownerId: 'z',
      teamId: 'cap',
      updatedAt: new Date(NOW.getTime() - 100 * 3600_000),
    });
    expect((await assignNew(database.db, deps, { ...EAST, companyKey: 'other' }, NOW)).reason).toBe(
      'round_robin',
    );

    const off = routingDoc();
    (off.routing as Record<string, unknown>).stickyOwner = false;
    expect(
      (await assignNew(database.db, routingDeps(off), { ...EAST, companyKey: 'acme' }, NOW)).reason,
    ).toBe('round_robin');

    const windowed = routingDoc();
    (windowed.routing as Record<string, unknown>).windowHours = 48;
    expect(
      (await assignNew(database.db, routingDeps(windowed), { ...EAST, companyKey: 'acme' }, NOW)).reason,
    ).toBe('round_robin');
    (windowed.routing as Record<string, unknown>).windowHours = 120;
    expect(
      (await assignNew(database.db, routingDeps(windowed), { ...EAST, companyKey: 'acme' }, NOW)).memberId,
    ).toBe('z');
  });

  it('does not take a re-routed lead as its own precedent', async () => {
    const id = await insertLead(database.db, { companyKey: 'solo', ownerId: 'z', teamId: 'cap' });
    const result = await withTransaction(database.db, (tx) =>
      chooseAssignee(tx, deps, { ...EAST, id, companyKey: 'solo' }, NOW),
    );
    expect(result.reason).toBe('round_robin');
  });
});

describe('concurrency', () => {
  function expectedPicks(n: number): string[] {
    const current = new Map([
      ['a', 0],
      ['b', 0],
      ['c', 0],
    ]);
    const weights: Record<string, number> = { a: 2, b: 1, c: 1 };
    const picks: string[] = [];
    for (let i = 0; i < n; i++) {
      const step = stepSmoothWeightedRoundRobin(
        [...current].map(([id, value]) => ({ id, weight: weights[id]!, current: value })),
      )!;
      for (const [id, value] of step.currents) current.set(id, value);
      picks.push(step.picked);
    }
    return picks;
  }

  it('keeps counts exact under 10 parallel assignments, from no state and from existing state', async () => {
    const batch = () =>
      Promise.all(Array.from({ length: 10 }, () => assignNew(database.db, deps, EAST, NOW)));
    const first = await batch();
    expect(countBy(first.map((r) => r.memberId))).toEqual(countBy(expectedPicks(10)));
    expect(sum(await positionsOf(database.db, 'east'))).toBe(0);

    const second = await batch();
    expect(countBy([...first, ...second].map((r) => r.memberId))).toEqual({ a: 10, b: 5, c: 5 });
    const positions = await positionsOf(database.db, 'east');
    expect(sum(positions)).toBe(0);
    // 20 = 5 full cycles of the 2:1:1 rotation: everyone is back where they started.
    expect(positions).toEqual({ a: 0, b: 0, c: 0, d: 0, e: 0 });
  });
});
