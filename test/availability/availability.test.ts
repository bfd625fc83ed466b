import { eq } from 'drizzle-orm';
import type { AvailabilityActor } from '../../src/availability/authorize';
import {
  isAway,
  listAvailability,
  loadAwayMembers,
  setAway,
  setBack,
} from '../../src/availability/availability';
import { parseUntil } from '../../src/availability/parse-until';
import { memberAvailability } from '../../src/db/schema';
import { AppError } from '../../src/lib/errors';
import { startOfLocalDay } from '../../src/routing/local-time';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { insertLead, routingDeps } from '../routing/routing-fixtures';

let database: TestDatabase;
const { org, directory } = routingDeps();
const NOW = new Date('2026-11-21T01:00:00.000Z');
const LATER = new Date('2026-11-23T01:00:00.000Z');
const member = (memberId: string): AvailabilityActor => ({ kind: 'member', memberId });
const admin: AvailabilityActor = { kind: 'admin', via: 'api' };

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.delete(memberAvailability);
});

const deps = () => ({ db: database.db, directory });
const away = (memberId: string, setBy: AvailabilityActor, until = LATER) =>
  setAway(deps(), { memberId, until, reason: ' 年假 ', setBy, now: NOW });

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('who may set a member away', () => {
  it('the member, their supervisor, the director and an admin', async () => {
    for (const [target, actor] of [
      ['b', member('b')],
      ['b', member('sup')],
      ['s1', member('dir')],
      ['sup2', member('dir')],
      ['x', member('sup')],
      ['c', admin],
    ] as const) {
      const row = await away(target, actor);
      expect(row).toMatchObject({ memberId: target, awayUntil: LATER, reason: '年假' });
    }
    const [row] = await database.db.select().from(memberAvailability).where(inMember('b'));
    expect(row!.setBy).toBe('sup');
    const [byAdmin] = await database.db.select().from(memberAvailability).where(inMember('c'));
    expect(byAdmin!.setBy).toBe('admin:api');
  });

  it('not another rep, nor the supervisor of another team', async () => {
    expect((await errorOf(away('b', member('c')))).status).toBe(403);
    expect((await errorOf(away('b', member('sup2')))).status).toBe(403);
    // A supervisor is not their own supervisor's supervisor: sup cannot set sup2.
    expect((await errorOf(away('sup2', member('sup')))).status).toBe(403);
    // A departed member cannot act, and cannot be set away.
    expect((await errorOf(away('b', member('d')))).status).toBe(403);
    expect((await errorOf(away('d', admin))).code).toBe('member_inactive');
    expect((await errorOf(away('ghost', admin))).status).toBe(404);
    expect(await database.db.select().from(memberAvailability)).toEqual([]);
  });

  it('refuses a time in the past or more than a year ahead', async () => {
    const past = await errorOf(away('b', admin, new Date(NOW.getTime() - 1)));
    expect(past.details.issues).toEqual([{ path: 'until', message: '离开截止时间必须晚于当前时间' }]);
    const far = await errorOf(away('b', admin, new Date('2028-01-01T00:00:00Z')));
    expect(far.status).toBe(422);
  });
});

describe('away and back', () => {
  it('is away until the time passes, or until set back', async () => {
    await away('b', member('b'));
    const [row] = await database.db.select().from(memberAvailability).where(inMember('b'));
    expect(isAway(row, NOW)).toBe(true);
    expect(isAway(row, LATER)).toBe(false);
    expect(isAway(undefined, NOW)).toBe(false);
    expect([...(await loadAwayMembers(database.db, ['a', 'b', 'c'], NOW))]).toEqual([['b', LATER]]);
    expect((await loadAwayMembers(database.db, ['b'], LATER)).size).toBe(0);

    expect(await setBack(deps(), { memberId: 'b', setBy: member('sup'), now: NOW })).toBe(true);
    expect(await setBack(deps(), { memberId: 'b', setBy: member('sup'), now: NOW })).toBe(false);
    const [after] = await database.db.select().from(memberAvailability).where(inMember('b'));
    expect(after).toMatchObject({ awayUntil: null, reason: null, setBy: 'sup' });
    expect((await errorOf(setBack(deps(), { memberId: 'b', setBy: member('c'), now: NOW }))).status).toBe(
      403,
    );
  });

  it('lists every member with status, away until and load', async () => {
    await away('b', member('b'));
    await insertLead(database.db, { ownerId: 'a', stage: 'contacted' });
    await insertLead(database.db, { assigneeId: 'a', stage: 'new', assignedAt: NOW });
    await insertLead(database.db, { ownerId: 'a', stage: 'won' });
    const list = await listAvailability({ db: database.db, org, directory }, NOW);
    expect(list.map((m) => m.memberId)).toEqual(org.members.map((m) => m.id));
    const byId = Object.fromEntries(list.map((m) => [m.memberId, m]));
    expect(byId.a).toMatchObject({ status: 'available', awayUntil: null, openLeads: 2, assignedToday: 1 });
    expect(byId.b).toMatchObject({
      status: 'away',
      awayUntil: LATER,
      reason: '年假',
      setBy: 'b',
      teams: ['east'],
    });
    expect(byId.d).toMatchObject({ status: 'inactive' });
    expect(byId.sup!.teams).toEqual(['east', 'cap']);
    const later = await listAvailability({ db: database.db, org, directory }, LATER, { memberIds: ['b'] });
    expect(later).toEqual([expect.objectContaining({ memberId: 'b', status: 'available', awayUntil: null })]);
  });
});

describe('parseUntil', () => {
  const tz = 'Asia/Shanghai';
  it('reads durations, local dates and times in the org timezone, and ISO times with an offset', () => {
    expect(parseUntil('3d', NOW, tz)).toEqual(new Date('2026-11-24T01:00:00.000Z'));
    expect(parseUntil(' 1h30m ', NOW, tz)).toEqual(new Date('2026-11-21T02:30:00.000Z'));
    expect(parseUntil('2026-11-25', NOW, tz)).toEqual(new Date('2026-11-24T16:00:00.000Z'));
    expect(parseUntil('2026-11-25 13:30', NOW, tz)).toEqual(new Date('2026-11-25T05:30:00.000Z'));
    expect(parseUntil('2026-11-25T13:30:15', NOW, tz)).toEqual(new Date('2026-11-25T05:30:15.000Z'));
    expect(parseUntil('2026-11-25T09:00:00+08:00', NOW, tz)).toEqual(new Date('2026-11-25T01:00:00.000Z'));
    expect(parseUntil('2026-11-25T01:00:00Z', NOW, tz)).toEqual(new Date('2026-11-25T01:00:00.000Z'));
    expect(parseUntil('2026-11-25', NOW, 'America/New_York')).toEqual(new Date('2026-11-25T05:00:00.000Z'));
  });

  it('returns null for anything else, including impossible dates', () => {
    for (const text of ['', 'tomorrow', '3 days', '2026-02-30', '2026-13-01', '2026-11-25T25:00', '3x']) {
      expect(parseUntil(text, NOW, tz)).toBeNull();
    }
  });
});

describe('startOfLocalDay', () => {
  it('is local midnight, across the UTC date line and DST', () => {
    expect(startOfLocalDay('Asia/Shanghai', NOW)).toEqual(new Date('2026-11-20T16:00:00.000Z'));
    expect(startOfLocalDay('Asia/Shanghai', new Date('2026-11-20T15:59:59Z'))).toEqual(
      new Date('2026-11-19T16:00:00.000Z'),
    );
    // New York leaves DST on 2026-11-01: that day began at 04:00Z, the next at 05:00Z.
    expect(startOfLocalDay('America/New_York', new Date('2026-11-01T20:00:00Z'))).toEqual(
      new Date('2026-11-01T04:00:00.000Z'),
    );
    expect(startOfLocalDay('America/New_York', new Date('2026-11-02T20:00:00Z'))).toEqual(
      new Date('2026-11-02T05:00:00.000Z'),
    );
  });
});

function inMember(id: string) {
  return eq(memberAvailability.memberId, id);
}
