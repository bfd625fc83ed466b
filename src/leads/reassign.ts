import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import { cards, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { enqueueOutbox } from '../outbox/enqueue';
import { startOwnership } from '../pool/start-ownership';
import { CANCELLED_BY_CLOSING } from '../sla/lead-timers';
import { cancelTimers } from '../timers/schedule';
import type { AssignDeps } from './assign-lead';
import { managedTeamIds } from './lead-access';
import { cardContext, queueCard, settleCard } from './lead-cards';
import type { LeadRow } from './lead-record';
import type { AfterWrite } from './stage-change';
import { appendEvents } from './timeline';

export type ReassignOutcome =
  | { kind: 'reassigned'; lead: LeadRow; to: MemberConfig; from: MemberConfig | null }
  | { kind: 'same_owner'; lead: LeadRow; to: MemberConfig }
  | { kind: 'closed'; lead: LeadRow }
  | { kind: 'unknown_member'; lead: LeadRow; typed: string }
  | { kind: 'not_authorised'; lead: LeadRow }
  | { kind: 'not_found' };

/**
 * 转派 (issue 5): a supervisor or director hands a lead of their team to a named member of that team.
 * The target owns it at once (the supervisor decided; no claim window), with a fresh follow-up clock;
 * the previous holder's open cards say where it went and they are told; the target gets the lead's
 * detail card. The rights (team_id among the teams the actor manages) are in the locking statement.
 */
export async function reassignLead(
  deps: AssignDeps,
  input: { leadId: number; actor: MemberConfig; to: string },
  after?: AfterWrite<ReassignOutcome>,
): Promise<ReassignOutcome> {
  // A departed supervisor manages nothing any more.
  const managed = input.actor.active ? managedTeamIds(deps, input.actor.id) : [];
  return withTransaction(deps.db, async (tx) => {
    const outcome = await (async (): Promise<ReassignOutcome> => {
      const [lead] = await tx
        .select()
        .from(leads)
        .where(
          and(
            eq(leads.id, input.leadId),
            managed.length > 0 ? inArray(leads.teamId, managed) : sql`FALSE`,
            notInArray(leads.stage, ['won', 'lost']),
          ),
        )
        .for('update');
      if (!lead) {
        const [other] = await tx.select().from(leads).where(eq(leads.id, input.leadId));
        if (!other) return { kind: 'not_found' };
        return ['won', 'lost'].includes(other.stage) && other.teamId && managed.includes(other.teamId)
          ? { kind: 'closed', lead: other }
          : { kind: 'not_authorised', lead: other };
      }
      const team = deps.directory.team(lead.teamId!)!;
      const target = findTeamMember(deps, [team.supervisor, team.director, ...team.members], input.to);
      if (!target) return { kind: 'unknown_member', lead, typed: input.to };
      if (lead.ownerId === target.id) return { kind: 'same_owner', lead, to: target };

      const now = deps.clock.now();
      const previousId = lead.ownerId ?? lead.assigneeId;
      const from = previousId ? (deps.directory.member(previousId) ?? null) : null;
      await tx
        .update(leads)
        .set({
          ownerId: target.id,
          assigneeId: target.id,
          assignedAt: now,
          claimedAt: now,
          version: sql`${leads.version} + 1`,
          updatedAt: now,
        })
        .where(eq(leads.id, lead.id));
      const updated: LeadRow = {
        ...lead,
        ownerId: target.id,
        assigneeId: target.id,
        assignedAt: now,
        claimedAt: now,
        version: lead.version + 1,
        updatedAt: now,
      };
      await appendEvents(
        tx,
        [
          {
            leadId: lead.id,
            type: 'lead.reassigned',
            actor: { type: 'member', id: input.actor.id },
            data: { from: previousId, to: target.id, by: input.actor.id },
          },
        ],
        now,
      );
      // The old claim's clocks end; the new owner's start (startOwnership schedules them).
      await cancelTimers(tx, { leadId: lead.id, kinds: CANCELLED_BY_CLOSING });
      await startOwnership(tx, deps, updated, target, { via: 'reassign', cardId: null, now });

      const reason = `已由${input.actor.name}转派给${target.name}`;
      const open = await tx
        .select()
        .from(cards)
        .where(and(eq(cards.leadId, lead.id), eq(cards.status, 'open')));
      for (const card of open) {
        const recipients = card.recipients
          .map((id) => deps.directory.member(id))
          .filter((m): m is MemberConfig => !!m);
        await settleCard(tx, deps, {
          card,
          lead: updated,
          template: 'closed',
          context: cardContext(deps, updated, { reason }, team),
          members: recipients,
          dedupeKey: `card:${card.id}:settle`,
        });
      }
      await queueCard(tx, deps, {
        leadId: lead.id,
        member: target,
        template: 'detail',
        context: cardContext(
          deps,
          updated,
          { reason: `${input.actor.name}把这条线索转派给你，请尽快跟进` },
          team,
        ),
        dedupeKey: `lead:${lead.id}:reassigned:v${updated.version}`,
      });
      const fromAddress =
        from && from.id !== input.actor.id ? deps.directory.addressOf(from, deps.platforms) : null;
      if (from && fromAddress) {
        await enqueueOutbox(
          tx,
          [
            {
              dedupeKey: `lead:${lead.id}:reassigned:v${updated.version}:from`,
              platform: fromAddress.platform,
              leadId: lead.id,
              message: {
                kind: 'text',
                to: { kind: 'user', userId: fromAddress.userId },
                text:
                  from.language === 'en'
                    ? `Lead #${lead.id} was reassigned to ${target.name} by ${input.actor.name}.`
                    : `线索 #${lead.id} 已由${input.actor.name}转派给${target.name}。`,
              },
            },
          ],
          now,
        );
      }
      return { kind: 'reassigned', lead: updated, to: target, from };
    })();
    await after?.(tx, outcome);
    return outcome;
  });
}

/** A member of the team by what a supervisor typed: id, exact name, or WeCom/DingTalk user id. */
export function findTeamMember(
  deps: Pick<AssignDeps, 'directory'>,
  ids: (string | undefined)[],
  typed: string,
): MemberConfig | undefined {
  const t = typed.trim().replace(/^@/, '').toLowerCase();
  const members = [...new Set(ids.filter((id): id is string => !!id))]
    .map((id) => deps.directory.member(id))
    .filter((m): m is MemberConfig => !!m?.active);
  return (
    members.find((m) => m.id.toLowerCase() === t) ??
    members.find((m) => m.name.toLowerCase() === t) ??
    members.find((m) => m.platforms.wecom?.toLowerCase() === t || m.platforms.dingtalk?.toLowerCase() === t)
  );
}
