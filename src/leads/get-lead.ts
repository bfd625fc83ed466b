import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { leadEvents, leads } from '../db/schema';

/** The lead with its timeline, for the admin API. */
export async function getLeadWithTimeline(db: Db, leadId: number, timelineLimit = 500) {
  const [lead] = await db.select().from(leads).where(eq(leads.id, leadId));
  if (!lead) return null;
  const timeline = await db
    .select({
      id: leadEvents.id,
      type: leadEvents.type,
      actorType: leadEvents.actorType,
      actorId: leadEvents.actorId,
      data: leadEvents.data,
      at: leadEvents.createdAt,
    })
    .from(leadEvents)
    .where(eq(leadEvents.leadId, leadId))
    .orderBy(asc(leadEvents.id))
    .limit(timelineLimit);
  return { lead, timeline };
}
