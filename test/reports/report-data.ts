import type { Db } from '../../src/db/client';
import { channelCosts, leads } from '../../src/db/schema';
import { appendEvents } from '../../src/leads/timeline';

/**
 * A small, known data set for the reports tests. Times are written in Asia/Shanghai local time
 * (`11-20 09:00` is 2026-11-20 09:00 +08:00). The report day is 2026-11-20: [11-20 00:00, 11-21 00:00).
 *
 * Team east, cohort of 11-20 (L1–L7):
 *   L1 website A 00:30  offered rep_a 00:30, claimed rep_a 00:33 (3 min ≤ 5m), note + →contacted 01:00,
 *                       →qualified 10:00, →opportunity 12:00, →won 14:00 (100000)
 *   L2 baidu   B 09:00  offered rep_b 09:00, rerouted rep_a 09:30, claimed rep_a 09:40 (10 min ≤ 30m),
 *                       已跟进 11:00; budget 50000; new
 *   L3 baidu   A 10:00  offered rep_b 10:00, claimed rep_b 10:10 (10 min > 5m), note + →contacted 10:20,
 *                       →lost 16:00 (预算不符)
 *   L4 website C 11:00  pooled, grabbed rep_b 12:00 (1 h from creation ≤ 2h), recycled 13:00,
 *                       grabbed rep_a 14:00; new
 *   L5 douyin  B 13:00  offered rep_a 13:00, claim missed 13:30, escalated (unclaimed) 15:00; budget 10000
 *   L6 website A 14:00  offered rep_a 14:00, claimed rep_a 14:04, →nurture 15:00, follow-up reminder
 *                       23:59:59.999; budget 30000
 *   L7 expo    B 00:00:00.000 (the first instant of the day) →nurture 16:00 by the admin (no response)
 * Team east, other cohorts:
 *   L8  website A 11-18 10:00  claimed 11-18, →contacted 11-18 11:00; reminded 11-20 02:00 and escalated
 *                       04:00 (follow_up); →qualified 11:00, →lost 17:00 (选择了竞品); stagnation escalation
 *                       at 11-21 00:00 (the next day)
 *   L9  website A 11-21 00:00:00.000 (the next day) offered and claimed; new
 *   L13 website 11-01 08:00 →lost 11-20 18:00 (预算不符)
 *   L14 website 11-01 08:00 →lost 11-19 23:59:59.999 (其他)
 *   L15 baidu   11-05 09:00 opportunity, budget 200000
 *   L16 website 07-01 won 08-01 (5000): closed before the 90-day win-rate window
 * Team west: L11 baidu A 10:00 offered rep_c, claimed 10:02, →contacted 10:30, recycled 18:00;
 *            L12 website 11-10 08:00 →lost 11-20 13:00 (预算不符).
 * No team: L17 partner 20:00.
 * Team north: no leads at all.
 *
 * Channel costs: search_ads 3000 over 11-16..11-25 (300 on 11-20) and 360 over 11-19..11-21 (120);
 * web_form 700 over 11-20..11-26 (100); referral 50 on 11-20; social_ads 500 over 11-01..11-10 (none).
 */
export const REPORT_DAY = '2026-11-20';

export function local(text: string): Date {
  const [date, time = '00:00'] = text.split(' ');
  const full = date!.length === 5 ? `2026-${date}` : date!;
  const withSeconds = time.length === 5 ? `${time}:00` : time;
  return new Date(`${full}T${withSeconds}+08:00`);
}

interface LeadSpec {
  id: number;
  source: string;
  team: string | null;
  grade?: string;
  created: string;
  stage?: string;
  budget?: number;
  wonAmount?: number;
  lostReason?: string;
  closed?: string;
}

interface EventSpec {
  lead: number;
  type: string;
  at: string;
  actor?: string | null;
  actorType?: 'member' | 'system' | 'admin';
  data?: Record<string, unknown>;
}

const LEADS: LeadSpec[] = [
  {
    id: 1,
    source: 'website',
    team: 'east',
    grade: 'A',
    created: '11-20 00:30',
    stage: 'won',
    wonAmount: 100000,
    closed: '11-20 14:00',
  },
  { id: 2, source: 'baidu', team: 'east', grade: 'B', created: '11-20 09:00', budget: 50000 },
  {
    id: 3,
    source: 'baidu',
    team: 'east',
    grade: 'A',
    created: '11-20 10:00',
    stage: 'lost',
    lostReason: '预算不符',
    closed: '11-20 16:00',
  },
  { id: 4, source: 'website', team: 'east', grade: 'C', created: '11-20 11:00' },
  { id: 5, source: 'douyin', team: 'east', grade: 'B', created: '11-20 13:00', budget: 10000 },
  {
    id: 6,
    source: 'website',
    team: 'east',
    grade: 'A',
    created: '11-20 14:00',
    stage: 'nurture',
    budget: 30000,
  },
  { id: 7, source: 'expo', team: 'east', grade: 'B', created: '11-20 00:00:00.000', stage: 'nurture' },
  {
    id: 8,
    source: 'website',
    team: 'east',
    grade: 'A',
    created: '11-18 10:00',
    stage: 'lost',
    lostReason: '选择了竞品',
    closed: '11-20 17:00',
  },
  { id: 9, source: 'website', team: 'east', grade: 'A', created: '11-21 00:00:00.000' },
  { id: 11, source: 'baidu', team: 'west', grade: 'A', created: '11-20 10:00', stage: 'contacted' },
  {
    id: 12,
    source: 'website',
    team: 'west',
    created: '11-10 08:00',
    stage: 'lost',
    lostReason: '预算不符',
    closed: '11-20 13:00',
  },
  {
    id: 13,
    source: 'website',
    team: 'east',
    created: '11-01 08:00',
    stage: 'lost',
    lostReason: '预算不符',
    closed: '11-20 18:00',
  },
  {
    id: 14,
    source: 'website',
    team: 'east',
    created: '11-01 08:00',
    stage: 'lost',
    lostReason: '其他',
    closed: '11-19 23:59:59.999',
  },
  { id: 15, source: 'baidu', team: 'east', created: '11-05 09:00', stage: 'opportunity', budget: 200000 },
  {
    id: 16,
    source: 'website',
    team: 'east',
    created: '07-01 09:00',
    stage: 'won',
    wonAmount: 5000,
    closed: '08-01 10:00',
  },
  { id: 17, source: 'partner', team: null, created: '11-20 20:00' },
];

const stage = (
  lead: number,
  at: string,
  from: string,
  to: string,
  actor: string | null = 'rep_a',
  extra = {},
) =>
  ({
    lead,
    type: 'lead.stage_changed',
    at,
    actor,
    actorType: actor ? 'member' : 'admin',
    data: { from, to, via: 'chat', ...extra },
  }) satisfies EventSpec;
const offer = (lead: number, at: string, memberId: string, hop = 1): EventSpec => ({
  lead,
  type: hop === 1 ? 'lead.assigned' : 'lead.rerouted',
  at,
  data: { teamId: 'east', memberId, hop },
});
const claim = (lead: number, at: string, member: string, via = 'card'): EventSpec => ({
  lead,
  type: 'lead.claimed',
  at,
  actor: member,
  actorType: 'member',
  data: { via },
});
const sla = (lead: number, type: string, at: string, ladder?: string): EventSpec => ({
  lead,
  type,
  at,
  data: ladder ? { ladder, level: 1 } : {},
});
const member = (lead: number, type: string, at: string, actor: string): EventSpec => ({
  lead,
  type,
  at,
  actor,
  actorType: 'member',
  data: {},
});

const EVENTS: EventSpec[] = [
  offer(1, '11-20 00:30', 'rep_a'),
  claim(1, '11-20 00:33', 'rep_a'),
  member(1, 'lead.note_added', '11-20 01:00', 'rep_a'),
  stage(1, '11-20 01:00', 'new', 'contacted', 'rep_a', { via: 'note' }),
  stage(1, '11-20 10:00', 'contacted', 'qualified'),
  stage(1, '11-20 12:00', 'qualified', 'opportunity'),
  stage(1, '11-20 14:00', 'opportunity', 'won', 'rep_a', { amount: 100000 }),
  sla(1, 'sla.reminded', '11-20 20:00', 'cadence'),

  offer(2, '11-20 09:00', 'rep_b'),
  offer(2, '11-20 09:30', 'rep_a', 2),
  claim(2, '11-20 09:40', 'rep_a'),
  member(2, 'lead.followed_up', '11-20 11:00', 'rep_a'),

  offer(3, '11-20 10:00', 'rep_b'),
  claim(3, '11-20 10:10', 'rep_b'),
  member(3, 'lead.note_added', '11-20 10:20', 'rep_b'),
  stage(3, '11-20 10:20', 'new', 'contacted', 'rep_b', { via: 'note' }),
  stage(3, '11-20 16:00', 'contacted', 'lost', 'rep_b', { reason: '预算不符' }),

  { lead: 4, type: 'lead.pooled', at: '11-20 11:00', data: { teamId: 'east' } },
  claim(4, '11-20 12:00', 'rep_b', 'pool'),
  { lead: 4, type: 'lead.recycled', at: '11-20 13:00', data: { memberId: 'rep_b' } },
  claim(4, '11-20 14:00', 'rep_a', 'pool'),

  offer(5, '11-20 13:00', 'rep_a'),
  sla(5, 'sla.claim_missed', '11-20 13:30'),
  sla(5, 'sla.escalated', '11-20 15:00', 'unclaimed'),

  offer(6, '11-20 14:00', 'rep_a'),
  claim(6, '11-20 14:04', 'rep_a'),
  stage(6, '11-20 15:00', 'new', 'nurture'),
  sla(6, 'sla.reminded', '11-20 23:59:59.999', 'follow_up'),

  stage(7, '11-20 16:00', 'new', 'nurture', null),

  offer(8, '11-18 10:00', 'rep_a'),
  claim(8, '11-18 10:01', 'rep_a'),
  stage(8, '11-18 11:00', 'new', 'contacted'),
  sla(8, 'sla.reminded', '11-20 02:00', 'follow_up'),
  sla(8, 'sla.escalated', '11-20 04:00', 'follow_up'),
  stage(8, '11-20 11:00', 'contacted', 'qualified'),
  stage(8, '11-20 17:00', 'qualified', 'lost', 'rep_a', { reason: '选择了竞品' }),
  sla(8, 'sla.escalated', '11-21 00:00:00.000', 'stagnation'),

  offer(9, '11-21 00:00:00.000', 'rep_a'),
  claim(9, '11-21 00:01', 'rep_a'),

  offer(11, '11-20 10:00', 'rep_c'),
  claim(11, '11-20 10:02', 'rep_c'),
  stage(11, '11-20 10:30', 'new', 'contacted', 'rep_c'),
  { lead: 11, type: 'lead.recycled', at: '11-20 18:00', data: { memberId: 'rep_c' } },

  stage(12, '11-20 13:00', 'new', 'lost', 'rep_c', { reason: '预算不符' }),
  stage(13, '11-20 18:00', 'new', 'lost', 'rep_a', { reason: '预算不符' }),
  stage(14, '11-19 23:59:59.999', 'new', 'lost', 'rep_a', { reason: '其他' }),
  stage(15, '11-06 10:00', 'new', 'contacted'),
  stage(15, '11-10 10:00', 'contacted', 'qualified'),
  stage(15, '11-12 10:00', 'qualified', 'opportunity'),
  stage(16, '08-01 10:00', 'opportunity', 'won', 'rep_a', { amount: 5000 }),
];

const COSTS = [
  { channel: 'search_ads', from: '11-16', to: '11-26', amount: 3000 },
  { channel: 'search_ads', from: '11-19', to: '11-22', amount: 360 },
  { channel: 'web_form', from: '11-20', to: '11-27', amount: 700 },
  { channel: 'referral', from: '11-20', to: '11-21', amount: 50 },
  { channel: 'social_ads', from: '11-01', to: '11-11', amount: 500 },
];

/** As leads/stage-change.ts writes it: the time of the lead's last stage change, null without one. */
function stageChangedAt(lead: number): Date | null {
  const times = EVENTS.filter((e) => e.lead === lead && e.type === 'lead.stage_changed').map((e) =>
    local(e.at).getTime(),
  );
  return times.length === 0 ? null : new Date(Math.max(...times));
}

export async function seedReportData(db: Db): Promise<void> {
  await db.insert(leads).values(
    LEADS.map((l) => ({
      id: l.id,
      sourceId: l.source,
      teamId: l.team,
      grade: l.grade ?? 'C',
      stage: l.stage ?? 'new',
      budget: l.budget ?? null,
      wonAmount: l.wonAmount ?? null,
      lostReason: l.lostReason ?? null,
      closedAt: l.closed ? local(l.closed) : null,
      stageChangedAt: stageChangedAt(l.id),
      tags: [],
      custom: {},
      createdAt: local(l.created),
      updatedAt: local(l.created),
    })),
  );
  // Inserted in time order, so event ids follow time as they do when the app writes them.
  const events = [
    ...LEADS.map(
      (l): EventSpec => ({ lead: l.id, type: 'lead.created', at: l.created, actorType: 'system' }),
    ),
    ...EVENTS,
  ]
    .map((e, i) => ({ e, i, t: local(e.at).getTime() }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  // One at a time through appendEvents, as the app writes them: with the report rollups they imply.
  for (const { e } of events) {
    await appendEvents(
      db,
      [
        {
          leadId: e.lead,
          type: e.type,
          actor: { type: e.actorType ?? 'system', id: e.actor ?? null },
          data: e.data ?? {},
        },
      ],
      local(e.at),
    );
  }
  await db.insert(channelCosts).values(
    COSTS.map((c) => ({
      channel: c.channel,
      periodStart: local(c.from),
      periodEnd: local(c.to),
      amount: c.amount,
      note: null,
      createdAt: local('11-01'),
    })),
  );
}
