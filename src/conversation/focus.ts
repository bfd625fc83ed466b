import { and, desc, eq, gte } from 'drizzle-orm';
import type { Db, Executor } from '../db/client';
import { cards, memberFocus } from '../db/schema';

/**
 * A member's current lead (PRODUCT.md 8: "the lead of the last card the rep dealt with"): the newer
 * of the last card sent to them alone (`cards.focus_member_id`, written with the card at no extra
 * cost) and the last lead they acted on or named (`member_focus`). Older than `windowMs`: none, and
 * the bot asks for an id rather than guess.
 */
export async function currentLead(
  db: Db,
  memberId: string,
  now: Date,
  windowMs: number,
): Promise<number | null> {
  const since = new Date(now.getTime() - windowMs);
  const [[card], [focus]] = await Promise.all([
    db
      .select({ leadId: cards.leadId, at: cards.createdAt })
      .from(cards)
      .where(and(eq(cards.focusMemberId, memberId), gte(cards.createdAt, since)))
      .orderBy(desc(cards.createdAt))
      .limit(1),
    db
      .select({ leadId: memberFocus.leadId, at: memberFocus.updatedAt })
      .from(memberFocus)
      .where(and(eq(memberFocus.memberId, memberId), gte(memberFocus.updatedAt, since))),
  ]);
  if (card && focus) return card.at > focus.at ? card.leadId : focus.leadId;
  return (card ?? focus)?.leadId ?? null;
}

/** The member acted on or named this lead: it becomes their current one. */
export async function setFocus(tx: Executor, memberId: string, leadId: number, now: Date): Promise<void> {
  await tx
    .insert(memberFocus)
    .values({ memberId, leadId, updatedAt: now })
    .onDuplicateKeyUpdate({ set: { leadId, updatedAt: now } });
}
