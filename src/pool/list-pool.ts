import { and, desc, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { leads } from '../db/schema';
import { maskName, maskPhone } from '../lib/mask';

export interface PoolEntry {
  id: number;
  grade: string;
  score: number;
  company: string | null;
  /** Masked: the pool is seen by the whole team (PRODUCT.md 6). */
  name: string;
  phone: string;
  sourceId: string;
  since: Date;
}

/**
 * What is in a member's team pools, best first (the `公海` / `pool` chat command of the conversation
 * issue shows this). Personal data is masked until someone claims the lead.
 */
export async function listPool(db: Db, teamIds: string[], limit = 20): Promise<PoolEntry[]> {
  if (teamIds.length === 0) return [];
  const rows = await db
    .select()
    .from(leads)
    .where(
      and(
        inArray(leads.teamId, teamIds),
        isNull(leads.ownerId),
        isNull(leads.assigneeId),
        inArray(leads.stage, ['new', 'contacted', 'qualified', 'opportunity', 'nurture']),
      ),
    )
    .orderBy(desc(leads.score), desc(leads.updatedAt))
    .limit(limit);
  return rows.map((r) => ({
    id: r.id,
    grade: r.grade,
    score: r.score,
    company: r.company,
    name: maskName(r.name),
    phone: maskPhone(r.phone),
    sourceId: r.sourceId,
    since: r.updatedAt,
  }));
}
