import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import { cards, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { parseDuration } from '../lib/duration';
import { offerToPool } from '../pool/offer-pool';
import { type DeadlineFn, policyFor, timersOnAssignment } from '../sla/lead-timers';
import { scheduleTimers } from '../timers/schedule';
import { cardContext, queueCard, settleCard } from './lead-cards';
import type { LeadDeps } from './lead-deps';
import type { LeadRow } from './lead-record';
import { appendEvents } from './timeline';
import { syncReportEventsTeam } from './timeline-rollups';

/** Who gets a lead: a member (with the card), or nobody (the pool), and why. */
export interface Assignment {
  teamId: string;
  memberId: string | null;
  reason: 'sticky_owner' | 'round_robin' | 'nurture_pool' | 'no_eligible_member' | 'initial';
  rule?: string;
}

/** The routing decision, made inside the assignment transaction (it may lock round-robin state). */
export type ChooseAssignee = (
  tx: Tx,
  lead: LeadRow,
  options: { exclude: string[]; now: Date },
) => Promise<Assignment>;
/** The same decision for a batch of new leads, each team's round robin locked once. */
export type ChooseAssignees = (tx: Tx, leads: LeadRow[], now: Date) => Promise<Assignment[]>;

export interface AssignDeps extends LeadDeps {
  chooseAssignee: ChooseAssignee;
  chooseAssignees: ChooseAssignees;
  deadline: DeadlineFn;
}

export type AssignOutcome = 'assigned' | 'pooled' | 'already_handled' | 'not_found';

/**
 * Offers a lead to the member routing picks (PRODUCT.md 4–5), or puts it in the pool: one
 * transaction with the lead's team and assignee, the timeline, the new-lead card and its outbox row,
 * and the SLA timers (claim window, unclaimed ladder). Runs from the `lead.assign` timer that the
 * intake writes in its own transaction, and again for each reroute hop (`hop` > 1, with the members
 * already tried excluded). Idempotent: a lead already claimed, or re-assigned since, is left alone.
 */
export async function assignLead(
  deps: AssignDeps,
  input: { leadId: number; hop: number; exclude: string[]; expectAssignee: string | null },
): Promise<AssignOutcome> {
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [lead] = await tx.select().from(leads).where(eq(leads.id, input.leadId)).for('update');
    if (!lead) return 'not_found';
    if (lead.ownerId !== null || lead.assigneeId !== input.expectAssignee) return 'already_handled';

    if (input.expectAssignee) await voidOfferCards(tx, deps, lead, input.expectAssignee);
    const assignment = await deps.chooseAssignee(tx, lead, { exclude: input.exclude, now });
    return writeAssignment(tx, deps, lead, assignment, input, now);
  });
}

/**
 * The first assignment of several new leads in one transaction (the `lead.assign` timers of one
 * claim, coalesced): the routing state of each team is locked and read once for the whole batch
 * instead of once per lead, which is what bounds assignments per second under a burst.
 */
export async function assignNewLeads(
  deps: AssignDeps,
  leadIds: readonly number[],
): Promise<Map<number, AssignOutcome>> {
  const outcomes = new Map<number, AssignOutcome>(leadIds.map((id) => [id, 'not_found' as AssignOutcome]));
  if (leadIds.length === 0) return outcomes;
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    // Sorted, so two batches lock leads in the same order.
    const rows = await tx
      .select()
      .from(leads)
      .where(
        inArray(
          leads.id,
          [...leadIds].sort((a, b) => a - b),
        ),
      )
      .orderBy(leads.id)
      .for('update');
    const open = rows.filter((lead) => {
      const fresh = lead.ownerId === null && lead.assigneeId === null;
      outcomes.set(lead.id, fresh ? 'not_found' : 'already_handled');
      return fresh;
    });
    const assignments = await deps.chooseAssignees(tx, open, now);
    for (const [i, lead] of open.entries()) {
      outcomes.set(
        lead.id,
        await writeAssignment(tx, deps, lead, assignments[i]!, { hop: 1, exclude: [] }, now),
      );
    }
    return outcomes;
  });
}

/** Writes one routing decision: the lead, its timeline, its card and timers, or the pool. */
async function writeAssignment(
  tx: Tx,
  deps: AssignDeps,
  lead: LeadRow,
  assignment: Assignment,
  input: { hop: number; exclude: string[]; expectAssignee?: string | null },
  now: Date,
): Promise<AssignOutcome> {
  {
    const team = deps.directory.team(assignment.teamId);
    const member = assignment.memberId ? deps.directory.member(assignment.memberId) : undefined;
    await tx
      .update(leads)
      .set({
        teamId: assignment.teamId,
        assigneeId: member?.id ?? null,
        assignedAt: member ? now : lead.assignedAt,
        version: sql`${leads.version} + 1`,
        updatedAt: now,
      })
      .where(and(eq(leads.id, lead.id), isNull(leads.ownerId)));
    if (assignment.teamId !== lead.teamId) await syncReportEventsTeam(tx, lead.id);

    if (!member) {
      await appendEvents(
        tx,
        [
          {
            leadId: lead.id,
            type: 'lead.pooled',
            actor: { type: 'system', id: null },
            data: { teamId: assignment.teamId, reason: assignment.reason, hop: input.hop },
          },
        ],
        now,
      );
      if (assignment.reason === 'no_eligible_member') {
        const pooled = { ...lead, teamId: assignment.teamId };
        await offerToPool(tx, deps, pooled, {
          reason: '暂无可分配的销售（请假、下班或已满额）',
          exclude: input.exclude,
          round: lead.version,
        });
      }
      return 'pooled';
    }
    await appendEvents(
      tx,
      [
        {
          leadId: lead.id,
          type: input.hop === 1 ? 'lead.assigned' : 'lead.rerouted',
          actor: { type: 'system', id: null },
          data: {
            teamId: assignment.teamId,
            memberId: member.id,
            reason: assignment.reason,
            hop: input.hop,
            ...(assignment.rule ? { rule: assignment.rule } : {}),
            ...(input.expectAssignee ? { from: input.expectAssignee } : {}),
          },
        },
      ],
      now,
    );
    const updated = { ...lead, teamId: assignment.teamId, assigneeId: member.id, assignedAt: now };
    const claimWithinMs = parseDuration(policyFor(deps.org, lead.grade).claimWithin);
    await queueCard(tx, deps, {
      leadId: lead.id,
      member,
      template: 'new-lead',
      context: cardContext(
        deps,
        updated,
        {
          member: { name: member.name },
          minutes: claimWithinMs / 60_000,
          deadline: new Date(now.getTime() + claimWithinMs),
        },
        team,
      ),
      dedupeKey: `lead:${lead.id}:card:new:${input.hop}:${member.id}`,
    });
    await scheduleTimers(
      tx,
      timersOnAssignment(deps.org, deps.deadline, updated, { memberId: member.id, hop: input.hop }),
    );
    return 'assigned';
  }
}

/** The previous rep's offer is over (rerouted or reassigned): their card says so instead of offering. */
async function voidOfferCards(tx: Tx, deps: AssignDeps, lead: LeadRow, memberId: string): Promise<void> {
  const member = deps.directory.member(memberId);
  if (!member) return;
  const open = await tx
    .select()
    .from(cards)
    .where(and(eq(cards.leadId, lead.id), eq(cards.template, 'new-lead'), eq(cards.status, 'open')));
  const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
  for (const card of open.filter((c) => c.recipients.includes(memberId))) {
    await settleCard(tx, deps, {
      card,
      lead,
      template: 'closed',
      context: cardContext(deps, lead, { reason: '超时未认领，已转他人' }, team),
      members: [member],
      dedupeKey: `card:${card.id}:settle`,
    });
  }
}
