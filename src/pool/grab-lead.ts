import { and, count, eq, gte, inArray, isNull, ne, notInArray, or, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import { cards, leadEvents, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { AssignDeps } from '../leads/assign-lead';
import { type CardRow, cardContext, settleCard } from '../leads/lead-cards';
import { parseDuration } from '../lib/duration';
import { startOfLocalDay } from '../routing/local-time';
import { CLOSED_STAGES } from '../routing/member-load';
import { startOwnership } from './start-ownership';

export type GrabOutcome =
  | 'grabbed'
  | 'taken_by_other'
  | 'not_in_team'
  | 'daily_limit'
  | 'open_leads_limit'
  | 'cooldown'
  | 'unknown_card';

/**
 * 抢单 (PRODUCT.md 6; RELIABILITY.md "Time and concurrency" 2): one conditional UPDATE decides the
 * winner: the lead must still be in the pool (no owner, no assignee) and in one of the grabber's
 * teams, both checked in the WHERE clause. The limits (grabs per day, open leads, the cool-down for a
 * previous owner) are read first in the same transaction. The winner's card becomes "claimed"; every
 * other copy of the offer is updated to say who won.
 */
export async function grabLead(
  deps: AssignDeps,
  input: {
    leadId: number;
    /** The offer clicked; null when grabbed by command (`认领 123`). */
    card: CardRow | null;
    member: MemberConfig;
    token?: { userId: string; token: string };
  },
): Promise<GrabOutcome> {
  const { card, member, leadId } = input;
  // A departed member is still listed in their old team (history), but grabs nothing.
  const teams = member.active ? deps.directory.teamsOf(member.id).map((t) => t.id) : [];
  if (teams.length === 0) return 'not_in_team';
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const refusal = await checkGrabLimits(tx, deps, member, leadId, now);
    if (refusal) return refusal;
    const [result] = await tx
      .update(leads)
      .set({
        ownerId: member.id,
        assigneeId: member.id,
        claimedAt: now,
        version: sql`${leads.version} + 1`,
        updatedAt: now,
      })
      .where(
        and(
          eq(leads.id, leadId),
          isNull(leads.ownerId),
          isNull(leads.assigneeId),
          inArray(leads.teamId, teams),
        ),
      );
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId));
    if (!lead) return 'unknown_card';
    const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
    if (result.affectedRows !== 1) {
      if (!lead.teamId || !teams.includes(lead.teamId)) return 'not_in_team';
      const winner = lead.ownerId ? deps.directory.member(lead.ownerId) : undefined;
      if (card)
        await settleCard(tx, deps, {
          card,
          lead,
          template: 'closed',
          context: cardContext(
            deps,
            lead,
            { reason: winner ? `已被${winner.name}抢单` : '线索已不在公海' },
            team,
          ),
          members: [member],
          ...(input.token ? { updateToken: input.token } : {}),
          dedupeKey: `card:${card.id}:settle`,
        });
      return 'taken_by_other';
    }
    await startOwnership(tx, deps, lead, member, { via: 'pool', cardId: card?.id ?? null, now });
    // Every open pool card of this lead: the winner's shows the claim, the others who won.
    const offers = await tx
      .select()
      .from(cards)
      .where(and(eq(cards.leadId, lead.id), eq(cards.template, 'pool-offer'), eq(cards.status, 'open')));
    for (const offer of offers) {
      const mine = card ? offer.id === card.id : offer.recipients.includes(member.id);
      const recipients = offer.recipients
        .map((id) => deps.directory.member(id))
        .filter((m): m is MemberConfig => !!m);
      await settleCard(tx, deps, {
        card: offer,
        lead,
        template: mine ? 'claimed' : 'closed',
        context: cardContext(
          deps,
          lead,
          mine ? { member: { name: member.name }, claimedAt: now } : { reason: `已被${member.name}抢单` },
          team,
        ),
        members: recipients,
        ...(mine && input.token ? { updateToken: input.token } : {}),
        dedupeKey: `card:${offer.id}:settle`,
      });
    }
    return 'grabbed';
  });
}

async function checkGrabLimits(
  tx: Parameters<Parameters<AssignDeps['db']['transaction']>[0]>[0],
  deps: AssignDeps,
  member: MemberConfig,
  leadId: number,
  now: Date,
): Promise<GrabOutcome | null> {
  const timezone = deps.directory.teamsOf(member.id)[0]?.timezone ?? deps.org.timezone;
  const [grabs] = await tx
    .select({ n: count() })
    .from(leadEvents)
    .where(
      and(
        eq(leadEvents.actorId, member.id),
        eq(leadEvents.type, 'lead.claimed'),
        gte(leadEvents.createdAt, startOfLocalDay(timezone, now)),
        sql`JSON_UNQUOTE(JSON_EXTRACT(${leadEvents.data}, '$.via')) = 'pool'`,
      ),
    );
  if (Number(grabs?.n ?? 0) >= deps.org.pool.maxGrabsPerDay) return 'daily_limit';
  const [open] = await tx
    .select({ n: count() })
    .from(leads)
    .where(
      and(
        or(eq(leads.ownerId, member.id), eq(leads.assigneeId, member.id)),
        notInArray(leads.stage, CLOSED_STAGES),
        ne(leads.id, leadId),
      ),
    );
  if (Number(open?.n ?? 0) >= Math.min(deps.org.pool.maxOpenLeads, member.capacity.openLeads))
    return 'open_leads_limit';
  const cooldownStart = new Date(now.getTime() - parseDuration(deps.org.pool.reclaimCooldown));
  const [gaveUp] = await tx
    .select({ n: count() })
    .from(leadEvents)
    .where(
      and(
        eq(leadEvents.leadId, leadId),
        inArray(leadEvents.type, ['lead.released', 'lead.recycled']),
        sql`JSON_UNQUOTE(JSON_EXTRACT(${leadEvents.data}, '$.memberId')) = ${member.id}`,
        gte(leadEvents.createdAt, cooldownStart),
      ),
    );
  return Number(gaveUp?.n ?? 0) > 0 ? 'cooldown' : null;
}
