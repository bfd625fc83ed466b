import path from 'node:path';
import { loadOrgConfig } from '../../src/config/load-org-config';
import type { OrgConfig } from '../../src/config/org-types';
import { computeFigures } from '../../src/reports/figures';
import type { Figures } from '../../src/reports/figures-types';
import { periodOfLocalDates } from '../../src/reports/report-period';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { local, REPORT_DAY, seedReportData } from './report-data';

/**
 * Every figure of report-data.ts computed by hand. Hours are listed term by term so each expectation
 * can be checked against the data set's comment.
 */
const ORG_FILE = path.join(__dirname, 'org.reports.jsonc');
const H = 3_600_000;
const MIN = 60_000;
const days = (hours: number) => Math.round((hours / 24) * 100) / 100;

let database: TestDatabase;
let org: OrgConfig;
const period = periodOfLocalDates('Asia/Shanghai', REPORT_DAY, REPORT_DAY)!;
const figures = (teamId: string | null, options: { weekly?: boolean; day?: string } = {}) =>
  computeFigures(
    { db: database.db, org },
    {
      teamId,
      period: options.day ? periodOfLocalDates('Asia/Shanghai', options.day, options.day)! : period,
      weekly: options.weekly ?? false,
    },
  );

beforeAll(async () => {
  database = await createTestDatabase();
  org = loadOrgConfig(ORG_FILE, {});
  await seedReportData(database.db);
});

afterAll(async () => {
  await database.drop();
});

const zeroRep = (memberId: string, name: string) => ({
  memberId,
  name,
  assigned: 0,
  claimed: 0,
  claimedWithinSla: 0,
  firstResponseMedianMs: null,
  firstResponseP90Ms: null,
});

describe('the report period', () => {
  it('is local midnight to local midnight, the end exclusive', () => {
    expect(period.from.toISOString()).toBe('2026-11-19T16:00:00.000Z');
    expect(period.to.toISOString()).toBe('2026-11-20T16:00:00.000Z');
    expect(local('11-20 00:00:00.000')).toEqual(period.from);
  });
});

describe('team east on 2026-11-20', () => {
  let f: Figures;
  beforeAll(async () => {
    f = await figures('east', { weekly: true });
  });

  it('counts the cohort: L1–L7 (L7 at the first instant, L9 at the next midnight is out)', () => {
    expect(f.teamId).toBe('east');
    expect(f.period).toEqual(period);
    expect(f.newLeads).toBe(7);
  });

  it('splits the cohort by channel, with the team share of each channel cost', () => {
    expect(f.channels).toEqual([
      // L1, L4, L6; L1 won 100000. web_form cost 700 / 7 days = 100; all three web_form leads are east's.
      {
        channel: 'web_form',
        leads: 3,
        won: 1,
        wonAmount: 100000,
        cost: 100,
        costPerLead: 33.33,
        costPerWon: 100,
        roi: 999, // (100000 − 100) / 100
      },
      // L2, L3. search_ads 300 + 120 = 420 on the day; east has 2 of its 3 cohort leads (L11 is west's).
      {
        channel: 'search_ads',
        leads: 2,
        won: 0,
        wonAmount: 0,
        cost: 280,
        costPerLead: 140,
        costPerWon: null,
        roi: -1,
      },
      // L5 (its cost was for 11-01..11-10) and L7: no cost entered for the day.
      {
        channel: 'social_ads',
        leads: 1,
        won: 0,
        wonAmount: 0,
        cost: null,
        costPerLead: null,
        costPerWon: null,
        roi: null,
      },
      {
        channel: 'trade_show',
        leads: 1,
        won: 0,
        wonAmount: 0,
        cost: null,
        costPerLead: null,
        costPerWon: null,
        roi: null,
      },
    ]);
  });

  it('measures claims against the window of the offer that was claimed', () => {
    // L1 3 min (A 5m) yes; L2 10 min after the reroute (B 30m) yes; L3 10 min (A 5m) no;
    // L4 grabbed 1 h after creation, never offered (C 2h) yes; L6 4 min yes. L5 and L7 unclaimed.
    expect(f.claimed).toBe(5);
    expect(f.claimedWithinSla).toBe(4);
    expect(f.claimedWithinSlaShare).toBe(0.8);
  });

  it('tallies each rep: first offers, claims, claims within the window, first responses', () => {
    expect(f.reps).toEqual([
      {
        memberId: 'rep_a',
        name: '王磊',
        assigned: 3, // L1, L5, L6 (L2 was first offered to rep_b)
        claimed: 4, // L1, L2, L4 (second claim), L6
        claimedWithinSla: 3, // L1, L2, L6
        // L1 note 30 min, L6 stage change 1 h, L2 已跟进 2 h
        firstResponseMedianMs: 1 * H,
        firstResponseP90Ms: 2 * H,
      },
      {
        memberId: 'rep_b',
        name: '李娜',
        assigned: 2, // L2, L3
        claimed: 2, // L3, L4
        claimedWithinSla: 1, // L4 (L3 took 10 min)
        firstResponseMedianMs: 20 * MIN, // L3 note
        firstResponseP90Ms: 20 * MIN,
      },
    ]);
  });

  it('walks the funnel: reached, current, conversion, mean days of the stays that ended that day', () => {
    expect(f.funnel).toEqual([
      // new stays ended on 11-20: L1 0.5 h, L3 20 min, L6 1 h, L7 16 h, L13 19 d 10 h (466 h)
      {
        stage: 'new',
        reached: 7,
        current: 3,
        conversion: null,
        avgDays: days((0.5 + 1 / 3 + 1 + 16 + 466) / 5),
      },
      // contacted: L1 9 h, L3 5 h 40 min, L8 48 h (since 11-18 11:00)
      {
        stage: 'contacted',
        reached: 2,
        current: 0,
        conversion: 0.2857,
        avgDays: days((9 + 17 / 3 + 48) / 3),
      },
      // qualified: L1 2 h, L8 6 h
      { stage: 'qualified', reached: 1, current: 0, conversion: 0.5, avgDays: days((2 + 6) / 2) },
      { stage: 'opportunity', reached: 1, current: 0, conversion: 1, avgDays: days(2) },
      { stage: 'won', reached: 1, current: 1, conversion: 1, avgDays: null },
      { stage: 'lost', reached: 1, current: 1, conversion: null, avgDays: null },
      { stage: 'nurture', reached: 2, current: 2, conversion: null, avgDays: null },
    ]);
    expect(f.funnel[0]!.avgDays).toBe(4.03);
    expect(f.funnel[1]!.avgDays).toBe(0.87);
  });

  it('lists losses of the day by reason, most first (L14 lost one millisecond before is out)', () => {
    expect(f.lossesByReason).toEqual([
      { reason: '预算不符', count: 2 }, // L3, L13
      { reason: '选择了竞品', count: 1 }, // L8
    ]);
  });

  it('counts overdue follow-ups by lead, recycles and breaches by event', () => {
    expect(f.overdueFollowUps).toBe(2); // L8 (reminded and escalated), L6 (reminded at 23:59:59.999)
    expect(f.recycled).toBe(1); // L4
    // L5 claim missed and escalated (unclaimed), L8 escalated (follow_up); L8's stagnation escalation
    // at the next midnight is out, and cadence reminders are not breaches.
    expect(f.slaBreaches).toBe(3);
  });

  it('forecasts the open pipeline with win rates of the last 90 days', () => {
    // Closed since 08-23: L1 won (all stages), L3 lost after contacted, L8 after qualified, L13 and
    // L14 lost from new. L16 won on 08-01 is too old.
    expect(f.forecast).toEqual({
      openLeads: 7, // new L2 L4 L5 L9, opportunity L15, nurture L6 L7
      weightedAmount: 60000 * 0.2 + 200000 * 1,
      byStage: [
        { stage: 'new', leads: 4, amount: 60000, winRate: 0.2 }, // 1 won of 5
        { stage: 'contacted', leads: 0, amount: 0, winRate: 0.3333 }, // 1 of L1 L3 L8
        { stage: 'qualified', leads: 0, amount: 0, winRate: 0.5 }, // 1 of L1 L8
        { stage: 'opportunity', leads: 1, amount: 200000, winRate: 1 },
        { stage: 'nurture', leads: 2, amount: 30000, winRate: 0 }, // no nurtured lead closed
      ],
    });
  });
});

describe('other scopes', () => {
  it('team west: its own cohort, its share of search_ads, its reps', async () => {
    const f = await figures('west');
    expect(f.newLeads).toBe(1);
    expect(f.channels).toEqual([
      {
        channel: 'search_ads',
        leads: 1,
        won: 0,
        wonAmount: 0,
        cost: 140,
        costPerLead: 140,
        costPerWon: null,
        roi: -1,
      },
    ]);
    expect([f.claimed, f.claimedWithinSla, f.claimedWithinSlaShare]).toEqual([1, 1, 1]);
    expect(f.reps).toEqual([
      {
        memberId: 'rep_c',
        name: '张伟',
        assigned: 1,
        claimed: 1,
        claimedWithinSla: 1,
        firstResponseMedianMs: 30 * MIN,
        firstResponseP90Ms: 30 * MIN,
      },
    ]);
    expect(f.funnel.map((s) => [s.stage, s.reached, s.current])).toEqual([
      ['new', 1, 0],
      ['contacted', 1, 1],
      ['qualified', 0, 0],
      ['opportunity', 0, 0],
      ['won', 0, 0],
      ['lost', 0, 0],
      ['nurture', 0, 0],
    ]);
    // Stays that ended on the day: L11 new 30 min, L12 new 10 d 5 h.
    expect(f.funnel[0]!.avgDays).toBe(days((0.5 + 245) / 2));
    expect(f.funnel[1]!.conversion).toBe(1);
    expect(f.lossesByReason).toEqual([{ reason: '预算不符', count: 1 }]);
    expect([f.overdueFollowUps, f.recycled, f.slaBreaches]).toEqual([0, 1, 0]);
    expect(f.forecast).toBeUndefined();
  });

  it('the whole organisation: every team and the unrouted lead, whole channel costs', async () => {
    const f = await figures(null);
    expect(f.teamId).toBeNull();
    expect(f.newLeads).toBe(9); // east 7, west 1, L17 without a team
    expect(f.channels.map((c) => [c.channel, c.leads, c.cost, c.costPerLead, c.roi])).toEqual([
      ['search_ads', 3, 420, 140, -1],
      ['web_form', 3, 100, 33.33, 999],
      ['referral', 1, 50, 50, -1],
      ['social_ads', 1, null, null, null],
      ['trade_show', 1, null, null, null],
    ]);
    expect([f.claimed, f.claimedWithinSla, f.claimedWithinSlaShare]).toEqual([6, 5, 0.8333]);
    expect(f.reps.map((r) => [r.memberId, r.assigned, r.claimed, r.claimedWithinSla])).toEqual([
      ['rep_a', 3, 4, 3],
      ['rep_b', 2, 2, 1],
      ['rep_c', 1, 1, 1],
    ]);
    expect(f.funnel.map((s) => s.reached)).toEqual([9, 3, 1, 1, 1, 1, 2]);
    // new stays: east's five and west's two
    expect(f.funnel[0]!.avgDays).toBe(days((0.5 + 1 / 3 + 1 + 16 + 466 + 0.5 + 245) / 7));
    expect(f.lossesByReason).toEqual([
      { reason: '预算不符', count: 3 },
      { reason: '选择了竞品', count: 1 },
    ]);
    expect([f.overdueFollowUps, f.recycled, f.slaBreaches]).toEqual([2, 2, 3]);
  });

  it('a channel cost entered with no leads anywhere costs a team nothing and is not listed for it', async () => {
    const f = await figures('east');
    expect(f.channels.map((c) => c.channel)).not.toContain('referral');
  });

  it('an empty team: zeros, nulls and its members', async () => {
    const f = await figures('north', { weekly: true });
    expect(f).toEqual({
      teamId: 'north',
      period,
      newLeads: 0,
      channels: [],
      claimed: 0,
      claimedWithinSla: 0,
      claimedWithinSlaShare: null,
      reps: [zeroRep('rep_d', '赵敏')],
      funnel: ['new', 'contacted', 'qualified', 'opportunity', 'won', 'lost', 'nurture'].map((stage) => ({
        stage,
        reached: 0,
        current: 0,
        conversion: null,
        avgDays: null,
      })),
      lossesByReason: [],
      overdueFollowUps: 0,
      recycled: 0,
      slaBreaches: 0,
      forecast: {
        openLeads: 0,
        weightedAmount: 0,
        byStage: ['new', 'contacted', 'qualified', 'opportunity', 'nurture'].map((stage) => ({
          stage,
          leads: 0,
          amount: 0,
          winRate: 0,
        })),
      },
    });
  });

  it('an empty period: zeros for the team, its reps listed', async () => {
    const f = await figures('east', { day: '2026-10-01' });
    expect(f.newLeads).toBe(0);
    expect(f.channels).toEqual([]);
    expect(f.claimedWithinSlaShare).toBeNull();
    expect(f.reps).toEqual([zeroRep('rep_a', '王磊'), zeroRep('rep_b', '李娜')]);
    expect(f.funnel.every((s) => s.reached === 0 && s.avgDays === null && s.conversion === null)).toBe(true);
    expect([f.lossesByReason, f.overdueFollowUps, f.recycled, f.slaBreaches]).toEqual([[], 0, 0, 0]);
  });

  it('a longer period prorates each cost entry by the days it overlaps', async () => {
    const week = periodOfLocalDates('Asia/Shanghai', '2026-11-16', '2026-11-22')!;
    const f = await computeFigures({ db: database.db, org }, { teamId: null, period: week });
    const cost = (channel: string) => f.channels.find((c) => c.channel === channel)?.cost;
    expect(cost('search_ads')).toBe(7 * 300 + 360); // 11-16..11-22 of the first entry, all of the second
    expect(cost('web_form')).toBe(3 * 100); // 11-20..11-22
    expect(cost('referral')).toBe(50);
    expect(cost('social_ads')).toBeNull(); // L5's channel: its cost entry ended on 11-10
  });
});

describe('claim windows on business time', () => {
  it('place the window on the team calendar, as the claim-window timer did', async () => {
    // A leads get 1 minute. L1 was offered at 00:30 and claimed at 00:33: late on the wall clock, but
    // on office hours (Friday 09:00–18:00) its window ran to 09:01. L3 (10 min) and L6 (4 min) are late
    // either way; L2 (B, 30m) and L4 (C, 2h) are in time either way.
    const tight = (clock: 'wall' | 'business'): OrgConfig => ({
      ...org,
      calendars: { office: { workingHours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '18:00' }] } },
      teams: org.teams.map((t) => (t.id === 'east' ? { ...t, calendar: 'office' } : t)),
      sla: {
        ...org.sla,
        policies: { ...org.sla.policies, A: { ...org.sla.policies.A, claimWithin: '1m', clock } },
      },
    });
    const within = async (clock: 'wall' | 'business') =>
      (await computeFigures({ db: database.db, org: tight(clock) }, { teamId: 'east', period }))
        .claimedWithinSla;
    expect(await within('wall')).toBe(2);
    expect(await within('business')).toBe(3);
  });
});
