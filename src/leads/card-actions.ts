import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import { cards, cardUpdateTokens, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { InboundEvent } from '../platforms/types';
import { type GrabOutcome, grabLead } from '../pool/grab-lead';
import { offerToPool } from '../pool/offer-pool';
import { startOwnership } from '../pool/start-ownership';
import type { AssignDeps } from './assign-lead';
import { assignLead } from './assign-lead';
import { type FollowUpOutcome, recordFollowUp, snoozeReminder } from './follow-up';
import { type CardRow, cardContext, settleCard } from './lead-cards';
import { appendEvents } from './timeline';

type CardAction = Extract<InboundEvent, { kind: 'card_action' }>;

export type CardActionOutcome =
  | 'claimed'
  | 'already_owner'
  | 'taken_by_other'
  | 'not_assignee'
  | 'released'
  | 'unknown_member'
  | 'unknown_card'
  | 'unknown_action'
  | 'reassigned'
  | 'taken_over'
  | 'not_authorised'
  | GrabOutcome
  | FollowUpOutcome;

/**
 * A button click on one of our cards. The clicker's identity is the verified callback's user id
 * (RELIABILITY.md "Authorization" 1), never anything in the button key.
 */
export async function handleCardAction(deps: AssignDeps, event: CardAction): Promise<CardActionOutcome> {
  const member = deps.directory.memberByPlatformUser(event.platform, event.userId);
  if (!member?.active) {
    deps.logger.warn(
      { platform: event.platform, cardId: event.cardId },
      'card click from an unknown or departed member',
    );
    return 'unknown_member';
  }
  const [card] = await deps.db.select().from(cards).where(eq(cards.id, event.cardId));
  if (!card) {
    deps.logger.warn({ cardId: event.cardId }, 'click on a card we do not know');
    return 'unknown_card';
  }
  const token = event.updateToken ? { userId: event.userId, token: event.updateToken } : undefined;
  if (token) {
    // Every click brings a fresh update token for the clicker's copy of the card.
    await deps.db
      .insert(cardUpdateTokens)
      .values({ cardId: card.id, userId: token.userId, token: token.token, issuedAt: deps.clock.now() })
      .onDuplicateKeyUpdate({ set: { token: token.token, issuedAt: deps.clock.now() } });
  }
  switch (event.actionId) {
    case 'claim':
      return claimLead(deps, { leadId: card.leadId, card, member, ...(token ? { token } : {}) });
    case 'release':
      return releaseLead(deps, { card, member, token });
    case 'reassign_next':
      return reassignNext(deps, { card, member });
    case 'take_over':
      return takeOver(deps, { card, member, token });
    case 'followed_up':
      return recordFollowUp(deps, { leadId: card.leadId, member, via: 'card' });
    case 'snooze_1d':
      return snoozeReminder(deps, { leadId: card.leadId, member, cardId: card.id });
    case 'grab':
      return grabLead(deps, { leadId: card.leadId, card, member, ...(token ? { token } : {}) });
    default:
      deps.logger.warn({ cardId: card.id, actionId: event.actionId }, 'unknown card action');
      return 'unknown_action';
  }
}

/**
 * 认领: one conditional UPDATE decides (RELIABILITY.md "Time and concurrency" 2). Only the member the
 * lead is offered to may claim it from a new-lead card; the rights check is in the WHERE clause, so
 * there is no gap between check and write.
 */
export async function claimLead(
  deps: AssignDeps,
  input: {
    leadId: number;
    /** The card clicked, or the member's open new-lead card when claimed by command; may be null. */
    card: CardRow | null;
    member: MemberConfig;
    token?: { userId: string; token: string };
  },
): Promise<CardActionOutcome> {
  const { card, member, leadId } = input;
  // A departed member claims nothing, even a lead still offered to them (handleCardAction refuses
  // them first; this guards every other caller).
  if (!member.active) return 'unknown_member';
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [result] = await tx
      .update(leads)
      .set({ ownerId: member.id, claimedAt: now, version: sql`${leads.version} + 1`, updatedAt: now })
      .where(and(eq(leads.id, leadId), isNull(leads.ownerId), eq(leads.assigneeId, member.id)));
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId));
    if (!lead) return 'unknown_card';
    const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;

    if (result.affectedRows === 1) {
      await startOwnership(tx, deps, lead, member, {
        via: card ? 'card' : 'chat',
        cardId: card?.id ?? null,
        now,
      });
      if (!card) return 'claimed';
      await settleCard(tx, deps, {
        card,
        lead,
        template: 'claimed',
        context: cardContext(deps, lead, { member: { name: member.name }, claimedAt: now }, team),
        members: card.recipients.map((id) => deps.directory.member(id)).filter((m): m is MemberConfig => !!m),
        ...(input.token ? { updateToken: input.token } : {}),
        dedupeKey: `card:${card.id}:settle`,
      });
      return 'claimed';
    }
    if (lead.ownerId === member.id) return 'already_owner';
    // Someone else holds it, or it is not offered to this member: show the clicker why, on the card.
    const owner = lead.ownerId ? deps.directory.member(lead.ownerId) : undefined;
    if (!card) return owner ? 'taken_by_other' : 'not_assignee';
    const reason = owner ? `已被${owner.name}认领` : '该线索已不再分配给你';
    await settleCard(tx, deps, {
      card,
      lead,
      template: 'closed',
      context: cardContext(deps, lead, { reason }, team),
      members: [member],
      ...(input.token ? { updateToken: input.token } : {}),
      dedupeKey: `card:${card.id}:void:${member.id}:${lead.version}`,
    });
    return owner ? 'taken_by_other' : 'not_assignee';
  });
}

/**
 * 退回公海: the offered member hands the lead back before claiming it. The pool itself (offers to
 * the team, grabbing) is the assignment issue's; here the lead is released and the card says so.
 */
export async function releaseLead(
  deps: AssignDeps,
  input: { card: CardRow; member: MemberConfig; token?: { userId: string; token: string } },
): Promise<CardActionOutcome> {
  const { card, member } = input;
  if (!member.active) return 'unknown_member';
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [result] = await tx
      .update(leads)
      .set({ assigneeId: null, version: sql`${leads.version} + 1`, updatedAt: now })
      .where(and(eq(leads.id, card.leadId), isNull(leads.ownerId), eq(leads.assigneeId, member.id)));
    const [lead] = await tx.select().from(leads).where(eq(leads.id, card.leadId));
    if (!lead) return 'unknown_card';
    if (result.affectedRows !== 1) return lead.ownerId === member.id ? 'already_owner' : 'not_assignee';
    const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
    await appendEvents(
      tx,
      [
        {
          leadId: lead.id,
          type: 'lead.released',
          actor: { type: 'member', id: member.id },
          data: { via: 'card', reason: '退回公海', memberId: member.id },
        },
      ],
      now,
    );
    await settleCard(tx, deps, {
      card,
      lead,
      template: 'closed',
      context: cardContext(deps, lead, { reason: `${member.name}已退回公海` }, team),
      members: [member],
      ...(input.token ? { updateToken: input.token } : {}),
      dedupeKey: `card:${card.id}:settle`,
    });
    await offerToPool(tx, deps, lead, {
      reason: `${member.name}退回公海`,
      exclude: [member.id],
      round: lead.version,
    });
    return 'released';
  });
}

/** True when the member is the supervisor or director of the lead's team. */
function managesTeam(deps: AssignDeps, memberId: string, teamId: string | null): boolean {
  const team = teamId ? deps.directory.team(teamId) : undefined;
  return !!team && (team.supervisor === memberId || team.director === memberId);
}

/**
 * 改派给下一位 on an escalation card: the lead is offered to the next eligible rep of the team (the
 * current one excluded). Only the team's supervisor or director may do it.
 */
async function reassignNext(
  deps: AssignDeps,
  input: { card: CardRow; member: MemberConfig },
): Promise<CardActionOutcome> {
  const [lead] = await deps.db.select().from(leads).where(eq(leads.id, input.card.leadId));
  if (!lead) return 'unknown_card';
  if (!managesTeam(deps, input.member.id, lead.teamId)) return 'not_authorised';
  if (lead.ownerId !== null) return 'taken_by_other';
  const outcome = await assignLead(deps, {
    leadId: lead.id,
    hop: lead.version + 1,
    exclude: lead.assigneeId ? [lead.assigneeId] : [],
    expectAssignee: lead.assigneeId,
  });
  // Moved on either way: to the next rep, or (nobody eligible) to the team's pool. Only a lead that
  // changed hands meanwhile was not moved (this said 'already_owner' for a pooled lead before).
  return outcome === 'assigned' || outcome === 'pooled' ? 'reassigned' : 'taken_by_other';
}

/**
 * 我来跟进: the supervisor or director takes the lead themselves. The rights check is part of the
 * UPDATE (team_id IN the teams the clicker manages), so there is no gap between check and write.
 */
async function takeOver(
  deps: AssignDeps,
  input: { card: CardRow; member: MemberConfig; token?: { userId: string; token: string } },
): Promise<CardActionOutcome> {
  const { card, member } = input;
  const managed = deps.org.teams
    .filter((t) => t.supervisor === member.id || t.director === member.id)
    .map((t) => t.id);
  if (managed.length === 0) return 'not_authorised';
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [result] = await tx
      .update(leads)
      .set({
        ownerId: member.id,
        claimedAt: now,
        assigneeId: member.id,
        version: sql`${leads.version} + 1`,
        updatedAt: now,
      })
      .where(and(eq(leads.id, card.leadId), isNull(leads.ownerId), inArray(leads.teamId, managed)));
    const [lead] = await tx.select().from(leads).where(eq(leads.id, card.leadId));
    if (!lead) return 'unknown_card';
    if (result.affectedRows !== 1) return lead.ownerId === member.id ? 'already_owner' : 'taken_by_other';
    await startOwnership(tx, deps, lead, member, { via: 'escalation', cardId: card.id, now });
    const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
    await settleCard(tx, deps, {
      card,
      lead,
      template: 'claimed',
      context: cardContext(deps, lead, { member: { name: member.name }, claimedAt: now }, team),
      members: [member],
      ...(input.token ? { updateToken: input.token } : {}),
      dedupeKey: `card:${card.id}:settle`,
    });
    return 'taken_over';
  });
}
