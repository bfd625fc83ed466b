import { eq } from 'drizzle-orm';
import { createOrgConfigValidator, parseOrgConfig } from '../../src/config/load-org-config';
import { createDirectory } from '../../src/config/members';
import type { OrgConfig } from '../../src/config/org-types';
import type { Db } from '../../src/db/client';
import { leads, routingPositions } from '../../src/db/schema';
import { withTransaction } from '../../src/db/transaction';
import {
  type Assignment,
  type AssignmentDeps,
  type ChooseOptions,
  chooseAssignee,
  type LeadToRoute,
} from '../../src/routing/choose-assignee';

/**
 * A routing org shared by the routing and availability tests:
 *
 * - east (fallback): a (weight 2), b (1), c (1), d (departed), e (weight 0); supervisor sup
 * - south (江苏 / 上海, or grade A VIPs): s1, s2; supervisor sup2
 * - cap (industry "capacity", or baidu 2026双11 campaigns): x (2 open leads), y (2 new a day), z
 * - director dir over east and south
 */
export function routingDoc(): Record<string, unknown> {
  const member = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `成员${id}`,
    platforms: { wecom: `W_${id}` },
    ...extra,
  });
  return {
    timezone: 'Asia/Shanghai',
    members: [
      member('sup', { weight: 0 }),
      member('sup2', { weight: 0 }),
      member('dir', { weight: 0 }),
      member('a', { weight: 2 }),
      member('b'),
      member('c'),
      member('d', { active: false }),
      member('e', { weight: 0 }),
      member('s1'),
      member('s2'),
      member('x', { capacity: { openLeads: 2, dailyNew: 50 } }),
      member('y', { capacity: { openLeads: 100, dailyNew: 2 } }),
      member('z'),
    ],
    teams: [
      { id: 'east', name: '华东', supervisor: 'sup', director: 'dir', members: ['a', 'b', 'c', 'd', 'e'] },
      { id: 'south', name: '华南', supervisor: 'sup2', director: 'dir', members: ['s1', 's2'] },
      { id: 'cap', name: '容量', supervisor: 'sup', members: ['x', 'y', 'z'] },
    ],
    sources: [
      { id: 'website', name: '官网表单', channel: 'web_form' },
      { id: 'baidu', name: '百度推广', channel: 'search_ads' },
    ],
    routing: {
      rules: [
        { name: 'jiangsu-shanghai', match: { province: ['江苏省', '上海'] }, team: 'south' },
        { name: 'capacity', match: { industry: ['capacity'] }, team: 'cap' },
        { name: 'vip-a', match: { custom: { vip: [true] }, grade: ['A'] }, team: 'south' },
        { name: 'baidu-1111', match: { source: ['baidu'], campaignPrefix: ['2026双11'] }, team: 'cap' },
      ],
      fallbackTeam: 'east',
    },
  };
}

export const validator = createOrgConfigValidator();

export function parseOrg(doc: Record<string, unknown> = routingDoc()): OrgConfig {
  return parseOrgConfig(JSON.stringify(doc), 'routing-test.jsonc', {}, validator);
}

export function routingDeps(
  doc?: Record<string, unknown>,
  extra: Partial<AssignmentDeps> = {},
): AssignmentDeps {
  const org = parseOrg(doc);
  return { org, directory: createDirectory(org), ...extra };
}

/** A lead row with only what routing reads; the rest defaulted. */
export async function insertLead(
  db: Db,
  fields: Partial<typeof leads.$inferInsert> & { now?: Date },
): Promise<number> {
  const now = fields.now ?? new Date('2026-11-21T01:00:00.000Z');
  const { now: _ignored, ...rest } = fields;
  const [row] = await db
    .insert(leads)
    .values({ sourceId: 'website', tags: [], custom: {}, createdAt: now, updatedAt: now, ...rest })
    .$returningId();
  return row!.id;
}

/**
 * What a caller of chooseAssignee does: choose and write the lead in one transaction, so the next
 * assignment counts it against capacity.
 */
export async function assignNew(
  db: Db,
  deps: AssignmentDeps,
  lead: LeadToRoute,
  now: Date,
  options: ChooseOptions = {},
): Promise<Assignment> {
  return withTransaction(db, async (tx) => {
    const assignment = await chooseAssignee(tx, deps, lead, now, options);
    await tx.insert(leads).values({
      sourceId: lead.source ?? 'website',
      teamId: assignment.teamId,
      assigneeId: assignment.memberId,
      assignedAt: assignment.memberId ? now : null,
      companyKey: lead.companyKey ?? null,
      grade: lead.grade ?? 'B',
      tags: [],
      custom: {},
      createdAt: now,
      updatedAt: now,
    });
    return assignment;
  });
}

export async function positionsOf(db: Db, teamId: string): Promise<Record<string, number>> {
  const rows = await db.select().from(routingPositions).where(eq(routingPositions.teamId, teamId));
  return Object.fromEntries(rows.map((r) => [r.memberId, r.currentWeight]));
}

export const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

export function countBy(ids: (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[String(id)] = (out[String(id)] ?? 0) + 1;
  return out;
}
