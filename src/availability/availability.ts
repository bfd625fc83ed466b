import { and, eq, gt, inArray } from 'drizzle-orm';
import type { Directory } from '../config/members';
import type { OrgConfig } from '../config/org-types';
import type { Executor } from '../db/client';
import { memberAvailability } from '../db/schema';
import { validationFailed } from '../lib/errors';
import { startOfLocalDay } from '../routing/local-time';
import { loadMemberLoads } from '../routing/member-load';
import { type AvailabilityActor, actorLabel, authorizeAvailabilityChange } from './authorize';

/**
 * Members who are away (leave, sick, travel) until a time (issue 4 item 6). Routing skips them; they
 * come back by themselves when the time passes, or earlier with `setBack`. The row is kept after a
 * return (away_until NULL) so the last change still says who made it.
 */
export type AvailabilityRow = typeof memberAvailability.$inferSelect;

/** Longest leave one can set at once: a typo in the year should not park someone for a decade. */
export const MAX_AWAY_MS = 366 * 24 * 3600 * 1000;

export interface AvailabilityDeps {
  db: Executor;
  directory: Directory;
}

export function isAway(row: Pick<AvailabilityRow, 'awayUntil'> | null | undefined, now: Date): boolean {
  return !!row?.awayUntil && row.awayUntil.getTime() > now.getTime();
}

/** Members among `memberIds` who are away at `now`, with the time they come back. One PK look-up. */
export async function loadAwayMembers(
  executor: Executor,
  memberIds: readonly string[],
  now: Date,
): Promise<Map<string, Date>> {
  if (memberIds.length === 0) return new Map();
  const rows = await executor
    .select({ memberId: memberAvailability.memberId, awayUntil: memberAvailability.awayUntil })
    .from(memberAvailability)
    .where(and(inArray(memberAvailability.memberId, [...memberIds]), gt(memberAvailability.awayUntil, now)));
  return new Map(rows.map((r) => [r.memberId, r.awayUntil!]));
}

export async function setAway(
  deps: AvailabilityDeps,
  input: { memberId: string; until: Date; reason?: string | null; setBy: AvailabilityActor; now: Date },
): Promise<AvailabilityRow> {
  const { now, until } = input;
  authorizeAvailabilityChange(deps.directory, input.setBy, input.memberId);
  if (until.getTime() <= now.getTime()) {
    throw validationFailed([{ path: 'until', message: '离开截止时间必须晚于当前时间' }]);
  }
  if (until.getTime() - now.getTime() > MAX_AWAY_MS) {
    throw validationFailed([{ path: 'until', message: '离开时间最长 366 天' }]);
  }
  const row: AvailabilityRow = {
    memberId: input.memberId,
    awayUntil: until,
    reason: input.reason?.trim() || null,
    setBy: actorLabel(input.setBy),
    updatedAt: now,
  };
  // One upsert on the member's primary key: the last change wins, whoever makes it.
  await deps.db
    .insert(memberAvailability)
    .values(row)
    .onDuplicateKeyUpdate({
      set: { awayUntil: row.awayUntil, reason: row.reason, setBy: row.setBy, updatedAt: row.updatedAt },
    });
  return row;
}

/** Back now. Returns whether the member was away (false: nothing to do, nothing written). */
export async function setBack(
  deps: AvailabilityDeps,
  input: { memberId: string; setBy: AvailabilityActor; now: Date },
): Promise<boolean> {
  authorizeAvailabilityChange(deps.directory, input.setBy, input.memberId);
  // The condition is in the statement, so a concurrent setAway either lands before (and is
  // cleared) or after (and stands); affected rows tell which.
  const [result] = await deps.db
    .update(memberAvailability)
    .set({ awayUntil: null, reason: null, setBy: actorLabel(input.setBy), updatedAt: input.now })
    .where(and(eq(memberAvailability.memberId, input.memberId), gt(memberAvailability.awayUntil, input.now)));
  return result.affectedRows === 1;
}

export type MemberStatus = 'available' | 'away' | 'inactive';

export interface MemberAvailability {
  memberId: string;
  name: string;
  status: MemberStatus;
  /** Set only while away. */
  awayUntil: Date | null;
  reason: string | null;
  /** Who made the last change: a member id, `admin:api` or `admin:cli`. */
  setBy: string | null;
  teams: string[];
  openLeads: number;
  /** Leads offered since local midnight (org timezone). */
  assignedToday: number;
}

/**
 * Members of the org (all, or those named) with their availability and load, in config order. Three
 * statements whatever the number of members.
 */
export async function listAvailability(
  deps: { db: Executor; org: OrgConfig; directory: Directory },
  now: Date,
  options: { memberIds?: readonly string[] } = {},
): Promise<MemberAvailability[]> {
  const wanted = options.memberIds ? new Set(options.memberIds) : null;
  const members = deps.org.members.filter((m) => !wanted || wanted.has(m.id));
  if (members.length === 0) return [];
  const ids = members.map((m) => m.id);
  const [rows, loads] = await Promise.all([
    deps.db.select().from(memberAvailability).where(inArray(memberAvailability.memberId, ids)),
    loadMemberLoads(deps.db, ids, startOfLocalDay(deps.org.timezone, now)),
  ]);
  const byMember = new Map(rows.map((r) => [r.memberId, r]));
  return members.map((m) => {
    const row = byMember.get(m.id);
    const away = isAway(row, now);
    const load = loads.get(m.id)!;
    return {
      memberId: m.id,
      name: m.name,
      status: !m.active ? 'inactive' : away ? 'away' : 'available',
      awayUntil: away ? row!.awayUntil : null,
      reason: away ? (row!.reason ?? null) : null,
      setBy: row?.setBy ?? null,
      teams: deps.directory.teamsOf(m.id).map((t) => t.id),
      openLeads: load.openLeads,
      assignedToday: load.assignedSince,
    };
  });
}
