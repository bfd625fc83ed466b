import type { Tx } from '../db/client';
import { cardContext, queueCard } from '../leads/lead-cards';
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
  let offered = 0;
  for (const memberId of team.members) {
    const member = deps.directory.member(memberId);
    if (!member?.active || member.weight === 0 || input.exclude.includes(member.id)) continue;
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
