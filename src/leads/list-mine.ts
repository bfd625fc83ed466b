import { and, eq, inArray, min, notInArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { parseDbTime } from '../db/columns';
import { leads, timers } from '../db/schema';
import type { LeadRow } from './lead-record';

export interface MyLead {
  lead: LeadRow;
  /** The next thing due on it (a reminder, a follow-up deadline, a recycle), if any. */
  nextDueAt: Date | null;
}

const GRADE_ORDER: Record<string, number> = { A: 0, B: 1, C: 2 };

/**
 * 我的 (issue 5): a member's open leads, most urgent first: the soonest due timer (overdue first), then
 * leads with nothing scheduled by grade and age. Reads `leads_owner_stage_idx` and, for those leads,
 * `timers_lead_idx`.
 */
export async function listMyLeads(
  db: Db,
  memberId: string,
  limit = 200,
): Promise<{ total: number; leads: MyLead[] }> {
  const rows = await db
    .select()
    .from(leads)
    .where(and(eq(leads.ownerId, memberId), notInArray(leads.stage, ['won', 'lost'])))
    .limit(limit);
  if (rows.length === 0) return { total: 0, leads: [] };
  const due = await db
    .select({ leadId: timers.leadId, next: min(timers.dueAt) })
    .from(timers)
    .where(
      and(
        inArray(
          timers.leadId,
          rows.map((r) => r.id),
        ),
        eq(timers.status, 'pending'),
      ),
    )
    .groupBy(timers.leadId);
  const nextByLead = new Map(
    due.map((d) => [d.leadId, d.next ? parseDbTime(d.next as Date | string) : null]),
  );
  const list = rows.map((lead) => ({ lead, nextDueAt: nextByLead.get(lead.id) ?? null }));
  list.sort((a, b) => {
    if (a.nextDueAt && b.nextDueAt) return a.nextDueAt.getTime() - b.nextDueAt.getTime();
    if (a.nextDueAt) return -1;
    if (b.nextDueAt) return 1;
    return (
      (GRADE_ORDER[a.lead.grade] ?? 3) - (GRADE_ORDER[b.lead.grade] ?? 3) ||
      a.lead.createdAt.getTime() - b.lead.createdAt.getTime()
    );
  });
  return { total: rows.length, leads: list };
}
