import type { MemberConfig } from '../config/org-types';
import type { Tx } from '../db/client';
import { cardContext, queueCard, queueGroupCard } from '../leads/lead-cards';
import type { LeadDeps } from '../leads/lead-deps';
import type { LeadRow } from '../leads/lead-record';

/**
 * Offers a lead in the pool to its team (PRODUCT.md 6): each active member with a non-zero weight
 * gets a 抢单 card, masked (several people see it). Not for nurture (grade C) leads, and not to the
 * member who just gave the lead up. Runs inside the transaction that put the lead in the pool.
 */
export async function offerToPool(
  tx: Tx,
  deps: LeadDeps,
  lead: LeadRow,
  input: { reason: string; exclude: string[]; round: number },
): Promise<number> {
  if (!deps.org.pool.offerToTeam || lead.grade === 'C' || !lead.teamId) return 0;
  const team = deps.directory.team(lead.teamId);
  if (!team) return 0;
  const eligible = team.members
    .map((id) => deps.directory.member(id))
    .filter((m): m is MemberConfig => !!m?.active && m.weight !== 0 && !input.exclude.includes(m.id));
  // Where the team has a group whose cards call back (DingTalk), its members there get one card in
  // the group instead of one each; everyone else still gets their own.
  const group = deps.directory.cardGroupOf(team, deps.platforms);
  const inGroup = group
    ? eligible.filter((m) => deps.directory.addressOf(m, deps.platforms)?.platform === group.platform)
    : [];
  let offered = 0;
  if (group && inGroup.length > 0) {
    await queueGroupCard(tx, deps, {
      leadId: lead.id,
      members: inGroup,
      group,
      template: 'pool-offer',
      context: cardContext(deps, lead, { reason: input.reason }, team),
      dedupeKey: `lead:${lead.id}:pool:${input.round}:group:${team.id}`,
    });
    offered += inGroup.length;
  }
  for (const member of eligible) {
    if (inGroup.includes(member)) continue;
    const cardId = await queueCard(tx, deps, {
      leadId: lead.id,
      member,
      template: 'pool-offer',
      context: cardContext(deps, lead, { reason: input.reason }, team),
      dedupeKey: `lead:${lead.id}:pool:${input.round}:${member.id}`,
      focus: false,
    });
    if (cardId) offered++;
  }
  return offered;
}
