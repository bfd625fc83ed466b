import { and, desc, eq, gte, isNotNull, ne, type SQL } from 'drizzle-orm';
import { loadAwayMembers } from '../availability/availability';
import type { Directory } from '../config/members';
import type { MemberConfig, OrgConfig } from '../config/org-types';
import { routingOf } from '../config/sections/routing';
import type { Tx } from '../db/client';
import { leads } from '../db/schema';
import { startOfLocalDay } from './local-time';
import { matchTeam, type RoutableLead } from './match-team';
import { loadMemberLoads } from './member-load';
import { lockTeamPositions, savePositions } from './routing-positions';
import { stepSmoothWeightedRoundRobin } from './smooth-weighted-round-robin';

export interface AssignmentDeps {
  org: OrgConfig;
  directory: Directory;
  /** The team's business calendar (working hours, rest days, 调休). Default: always working. */
  isWorkingTime?: (teamId: string, at: Date) => boolean;
}

export interface LeadToRoute extends RoutableLead {
  /** Set when re-routing an existing lead, so it is not its own sticky-owner precedent. */
  id?: number | null;
  /** Normalised company (leads.company_key) for the sticky owner. */
  companyKey?: string | null;
}

export type AssignmentReason = 'sticky_owner' | 'round_robin' | 'nurture_pool' | 'no_eligible_member';

/** Why a team member was passed over; goes into the `lead.assigned` event to answer "why not me". */
export type SkipReason =
  | 'inactive'
  | 'no_weight'
  | 'excluded'
  | 'off_hours'
  | 'away'
  | 'open_leads_cap'
  | 'daily_cap';

export interface Assignment {
  teamId: string;
  /** null: the lead goes to the team's pool (nurture, or nobody eligible). */
  memberId: string | null;
  reason: AssignmentReason;
  /** The routing rule that chose the team (`fallbackTeam` when none matched); absent for sticky owner. */
  rule?: string;
  skipped?: Record<string, SkipReason>;
}

export interface ChooseOptions {
  /** Members not to offer the lead to, e.g. those who let the claim window pass (accept-or-reroute). */
  excludeMemberIds?: readonly string[];
}

/**
 * Who a new (or re-routed) lead goes to, decided inside the caller's transaction:
 *
 * 1. grade C → the team's pool without a card (PRODUCT.md defaults: nurture);
 * 2. sticky owner: the most recent earlier lead of the same company whose owner is active and not
 *    away → that owner, in that lead's team;
 * 3. the team from the routing rules, then one smooth weighted round robin step over its eligible
 *    members (routing-positions.ts locks the team's state until the caller commits);
 * 4. nobody eligible → null, the pool takes it.
 *
 * The caller writes the lead (assignee_id, assigned_at = now) in the same transaction, so the next
 * assignment to the team, waiting on the lock, counts it against capacity. Call this late in the
 * transaction: the team stays locked until commit.
 */
export async function chooseAssignee(
  tx: Tx,
  deps: AssignmentDeps,
  lead: LeadToRoute,
  now: Date,
  options: ChooseOptions = {},
): Promise<Assignment> {
  const routing = routingOf(deps.org);
  const { teamId, rule } = matchTeam(routing, lead);
  if (lead.grade?.trim().toUpperCase() === 'C')
    return { teamId, memberId: null, reason: 'nurture_pool', rule };

  const excluded = new Set(options.excludeMemberIds ?? []);
  if (routing.stickyOwner && lead.companyKey) {
    const sticky = await findStickyOwner(tx, deps, { ...lead, companyKey: lead.companyKey }, now, {
      windowHours: routing.windowHours,
      excluded,
    });
    if (sticky) return { teamId: sticky.teamId ?? teamId, memberId: sticky.memberId, reason: 'sticky_owner' };
  }

  const picked = await pickTeamMember(tx, deps, teamId, now, excluded);
  const skipped = Object.keys(picked.skipped).length > 0 ? { skipped: picked.skipped } : {};
  return picked.memberId
    ? { teamId, memberId: picked.memberId, reason: 'round_robin', rule, ...skipped }
    : { teamId, memberId: null, reason: 'no_eligible_member', rule, ...skipped };
}

/**
 * `chooseAssignee` for several leads in one transaction (the batched `lead.assign` path): grade C and
 * sticky owners are decided per lead; the rest are grouped by team and dealt in one locked round
 * robin pass per team, in the order given (oldest lead first).
 */
export async function chooseAssignees(
  tx: Tx,
  deps: AssignmentDeps,
  leadsToRoute: readonly LeadToRoute[],
  now: Date,
): Promise<Assignment[]> {
  const routing = routingOf(deps.org);
  const results: (Assignment | undefined)[] = [];
  const byTeam = new Map<string, { index: number; rule: string }[]>();
  for (const [index, lead] of leadsToRoute.entries()) {
    const { teamId, rule } = matchTeam(routing, lead);
    if (lead.grade?.trim().toUpperCase() === 'C') {
      results[index] = { teamId, memberId: null, reason: 'nurture_pool', rule };
      continue;
    }
    if (routing.stickyOwner && lead.companyKey) {
      const sticky = await findStickyOwner(tx, deps, { ...lead, companyKey: lead.companyKey }, now, {
        windowHours: routing.windowHours,
        excluded: new Set(),
      });
      if (sticky) {
        results[index] = {
          teamId: sticky.teamId ?? teamId,
          memberId: sticky.memberId,
          reason: 'sticky_owner',
        };
        continue;
      }
    }
    const group = byTeam.get(teamId) ?? [];
    group.push({ index, rule });
    byTeam.set(teamId, group);
  }
  // Teams in a fixed order, so two batches lock them in the same order.
  for (const teamId of [...byTeam.keys()].sort()) {
    const group = byTeam.get(teamId)!;
    const picked = await pickTeamMembers(
      tx,
      deps,
      teamId,
      now,
      group.map(() => new Set<string>()),
    );
    group.forEach(({ index, rule }, i) => {
      const { memberId, skipped } = picked[i]!;
      const extra = Object.keys(skipped).length > 0 ? { skipped } : {};
      results[index] = memberId
        ? { teamId, memberId, reason: 'round_robin', rule, ...extra }
        : { teamId, memberId: null, reason: 'no_eligible_member', rule, ...extra };
    });
  }
  return results as Assignment[];
}

/** How many earlier leads of the company are looked at: enough to skip a few departed owners. */
const STICKY_CANDIDATES = 20;

async function findStickyOwner(
  tx: Tx,
  deps: AssignmentDeps,
  lead: LeadToRoute & { companyKey: string },
  now: Date,
  options: { windowHours: number | undefined; excluded: ReadonlySet<string> },
): Promise<{ memberId: string; teamId: string | null } | null> {
  const conditions: SQL[] = [eq(leads.companyKey, lead.companyKey), isNotNull(leads.ownerId)];
  if (lead.id) conditions.push(ne(leads.id, lead.id));
  if (options.windowHours) {
    conditions.push(gte(leads.updatedAt, new Date(now.getTime() - options.windowHours * 3_600_000)));
  }
  // leads_company_key_idx holds the primary key, so `ORDER BY id DESC` reads the index backwards.
  const rows = await tx
    .select({ ownerId: leads.ownerId, teamId: leads.teamId })
    .from(leads)
    .where(and(...conditions))
    .orderBy(desc(leads.id))
    .limit(STICKY_CANDIDATES);
  const owners = rows.filter((r): r is { ownerId: string; teamId: string | null } => {
    const owner = r.ownerId ? deps.directory.member(r.ownerId) : undefined;
    return !!owner?.active && !options.excluded.has(owner.id);
  });
  if (owners.length === 0) return null;
  const away = await loadAwayMembers(tx, [...new Set(owners.map((o) => o.ownerId))], now);
  const found = owners.find((o) => !away.has(o.ownerId));
  if (!found) return null;
  // A lead without a team (old data) follows the owner's first team.
  const teamId = found.teamId ?? deps.org.teams.find((t) => t.members.includes(found.ownerId))?.id ?? null;
  return { memberId: found.ownerId, teamId };
}

/**
 * One smooth weighted round robin step over the team's eligible members: active, weight > 0, not
 * excluded, the team in working time, not away, under both capacity caps. Members passed over do
 * not take part in the step, so they neither gain nor lose position.
 */
export async function pickTeamMember(
  tx: Tx,
  deps: AssignmentDeps,
  teamId: string,
  now: Date,
  excluded: ReadonlySet<string> = new Set(),
): Promise<{ memberId: string | null; skipped: Record<string, SkipReason> }> {
  const [picked] = await pickTeamMembers(tx, deps, teamId, now, [excluded]);
  return picked!;
}

/**
 * `requests.length` steps at once, for a batch of leads of one team: the team's positions are locked
 * once, loads and absences read once, and every step sees the loads and positions the previous
 * steps left (a member picked for the first lead counts one more open lead for the second). The
 * result is exactly what the same number of single steps in a row would give.
 */
export async function pickTeamMembers(
  tx: Tx,
  deps: AssignmentDeps,
  teamId: string,
  now: Date,
  requests: readonly ReadonlySet<string>[],
): Promise<{ memberId: string | null; skipped: Record<string, SkipReason> }[]> {
  const team = deps.directory.team(teamId);
  if (!team) throw new Error(`路由选择了不存在的团队 "${teamId}"（配置检查应已发现）`);
  const base: Record<string, SkipReason> = {};
  const candidates: MemberConfig[] = [];
  for (const id of team.members) {
    const member = deps.directory.member(id);
    if (!member?.active) base[id] = 'inactive';
    else if (member.weight <= 0) base[id] = 'no_weight';
    else candidates.push(member);
  }
  const nobody = (skipped: Record<string, SkipReason>) => requests.map(() => ({ memberId: null, skipped }));
  // Nothing to lock when nobody could be picked anyway.
  if (candidates.length === 0) return nobody(base);
  if (!(deps.isWorkingTime?.(teamId, now) ?? true)) {
    return nobody({ ...base, ...Object.fromEntries(candidates.map((m) => [m.id, 'off_hours' as const])) });
  }

  // Lock first, then read: what we read about away and capacity is then current with respect to
  // every assignment to this team committed before us.
  const positions = await lockTeamPositions(tx, teamId, team.members, now);
  const ids = candidates.map((m) => m.id);
  const dayStart = startOfLocalDay(team.timezone ?? deps.org.timezone, now);
  const [away, loads] = await Promise.all([
    loadAwayMembers(tx, ids, now),
    loadMemberLoads(tx, ids, dayStart),
  ]);
  const currents = new Map(ids.map((id) => [id, positions.get(id) ?? 0]));
  const results: { memberId: string | null; skipped: Record<string, SkipReason> }[] = [];
  let changed = false;
  for (const excluded of requests) {
    const skipped: Record<string, SkipReason> = { ...base };
    const eligible = candidates.filter((m) => {
      const load = loads.get(m.id)!;
      if (excluded.has(m.id)) skipped[m.id] = 'excluded';
      else if (away.has(m.id)) skipped[m.id] = 'away';
      else if (load.openLeads >= m.capacity.openLeads) skipped[m.id] = 'open_leads_cap';
      else if (load.assignedSince >= m.capacity.dailyNew) skipped[m.id] = 'daily_cap';
      else return true;
      return false;
    });
    const step = stepSmoothWeightedRoundRobin(
      eligible.map((m) => ({ id: m.id, weight: m.weight, current: currents.get(m.id) ?? 0 })),
    );
    if (!step) {
      results.push({ memberId: null, skipped });
      continue;
    }
    for (const [id, current] of step.currents) currents.set(id, current);
    const load = loads.get(step.picked)!;
    load.openLeads += 1;
    load.assignedSince += 1;
    changed = true;
    results.push({ memberId: step.picked, skipped });
  }
  if (changed) await savePositions(tx, teamId, currents, now);
  return results;
}
