import { and, count, gte, inArray, isNull, notInArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { leads } from '../db/schema';

/** Stages after which a lead no longer weighs on anyone's capacity (PRODUCT.md 9). */
export const CLOSED_STAGES = ['won', 'lost'];

export interface MemberLoad {
  /** Open leads the member owns, plus open leads offered to them and not yet claimed by anyone. */
  openLeads: number;
  /** Leads offered to the member since `since` (local midnight for the daily cap). */
  assignedSince: number;
}

/**
 * The capacity figures of several members in two statements, whatever their number:
 *
 * - owned open leads: `owner_id IN (…) AND stage NOT IN (…)`, a range on `leads_owner_stage_idx`
 *   answered from the index alone;
 * - offers: `assignee_id IN (…)` on `leads_assignee_idx`, keeping only rows that can count (unclaimed,
 *   or assigned since `since`). A claimed lead keeps its assignee, so it is counted once, as owned.
 *
 * Leads offered and then released (退回公海) lose their assignee and stop counting towards the daily
 * cap; the cap is about leads a member is currently being handed.
 */
export async function loadMemberLoads(
  executor: Executor,
  memberIds: readonly string[],
  since: Date,
): Promise<Map<string, MemberLoad>> {
  const loads = new Map<string, MemberLoad>(memberIds.map((id) => [id, { openLeads: 0, assignedSince: 0 }]));
  if (memberIds.length === 0) return loads;
  const ids = [...memberIds];
  const [owned, offered] = await Promise.all([
    executor
      .select({ memberId: leads.ownerId, n: count() })
      .from(leads)
      .where(and(inArray(leads.ownerId, ids), notInArray(leads.stage, CLOSED_STAGES)))
      .groupBy(leads.ownerId),
    executor
      .select({
        memberId: leads.assigneeId,
        open: sql<number>`SUM(${leads.ownerId} IS NULL AND ${notInArray(leads.stage, CLOSED_STAGES)})`.mapWith(
          Number,
        ),
        since: sql<number>`SUM(${gte(leads.assignedAt, since)})`.mapWith(Number),
      })
      .from(leads)
      .where(and(inArray(leads.assigneeId, ids), or(isNull(leads.ownerId), gte(leads.assignedAt, since))))
      .groupBy(leads.assigneeId),
  ]);
  for (const row of owned) {
    const load = row.memberId ? loads.get(row.memberId) : undefined;
    if (load) load.openLeads += row.n;
  }
  for (const row of offered) {
    const load = row.memberId ? loads.get(row.memberId) : undefined;
    if (!load) continue;
    load.openLeads += row.open ?? 0;
    load.assignedSince += row.since ?? 0;
  }
  return loads;
}
