import { eq } from 'drizzle-orm';
import type { MemberConfig, TeamConfig } from '../config/org-types';
import { leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { type AssignDeps, assignLead } from '../leads/assign-lead';
import { cardContext, queueCard } from '../leads/lead-cards';
import { appendEvents } from '../leads/timeline';
import { parseDuration } from '../lib/duration';
import type { DueTimer } from '../timers/claim-due-timers';
import type { TimerHandlers } from '../timers/worker';
import { policyFor, SLA_TIMER_KINDS } from './lead-timers';

/**
 * What each SLA timer does when it fires. Every handler re-reads the lead in its own transaction and
 * acts only if the state that scheduled it still holds (unclaimed, still offered to the same member),
 * so a timer that lost a race with a claim does nothing; every message it queues has a unique key,
 * so a handler that runs twice (at-least-once timers) sends once.
 */
export function slaTimerHandlers(deps: AssignDeps): TimerHandlers {
  return {
    [SLA_TIMER_KINDS.assign]: async (timer) => {
      await assignLead(deps, { leadId: leadIdOf(timer), hop: 1, exclude: [], expectAssignee: null });
    },
    [SLA_TIMER_KINDS.claimWindow]: (timer) => onClaimWindow(deps, timer),
    [SLA_TIMER_KINDS.unclaimed]: (timer) => onUnclaimed(deps, timer),
  };
}

function leadIdOf(timer: DueTimer): number {
  if (timer.leadId === null) throw new Error(`timer ${timer.effectKey} has no lead`);
  return timer.leadId;
}

/**
 * The claim window passed (accept-or-reroute, PRODUCT.md 5): offer the lead to the next eligible rep,
 * up to the policy's hops; after that the unclaimed ladder (already running) escalates.
 */
async function onClaimWindow(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  const hop = Number(timer.payload.hop);
  const tried = [...((timer.payload.tried as string[] | undefined) ?? []), memberId];
  const [lead] = await deps.db.select().from(leads).where(eq(leads.id, leadId));
  if (!lead || lead.ownerId !== null || lead.assigneeId !== memberId) return;
  const policy = policyFor(deps.org, lead.grade);
  if (hop > policy.rerouteHops) {
    await withTransaction(deps.db, (tx) =>
      appendEvents(
        tx,
        [{ leadId, type: 'sla.claim_missed', actor: { type: 'system', id: null }, data: { memberId, hop } }],
        deps.clock.now(),
      ),
    );
    return;
  }
  await assignLead(deps, { leadId, hop: hop + 1, exclude: tried, expectAssignee: memberId });
}

/** One rung of the unclaimed ladder: an escalation card to the supervisor or the director. */
async function onUnclaimed(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const level = Number(timer.payload.level);
  const notify = String(timer.payload.notify) as 'rep' | 'supervisor' | 'director';
  await withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
    if (!lead || lead.ownerId !== null || !lead.teamId) return;
    const team = deps.directory.team(lead.teamId);
    if (!team) return;
    const recipient = escalationRecipient(deps, team, notify, lead.assigneeId);
    const now = deps.clock.now();
    const assignee = lead.assigneeId ? deps.directory.member(lead.assigneeId) : undefined;
    const overdueMs = now.getTime() - lead.createdAt.getTime();
    const policy = policyFor(deps.org, lead.grade);
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: 'sla.escalated',
          actor: { type: 'system', id: null },
          data: { ladder: 'unclaimed', level, notify, to: recipient?.id ?? null, assignee: lead.assigneeId },
        },
      ],
      now,
    );
    if (!recipient) {
      deps.logger.warn({ leadId, level, notify }, 'escalation has nobody to go to');
      return;
    }
    await queueCard(tx, deps, {
      leadId,
      member: recipient,
      template: 'escalation',
      context: cardContext(
        deps,
        lead,
        {
          ...(assignee ? { member: { name: assignee.name } } : { member: { name: '（公海）' } }),
          missed: '认领',
          minutes: Math.max(1, Math.round(overdueMs / 60_000)),
          deadline: new Date(lead.createdAt.getTime() + parseDuration(policy.claimWithin)),
        },
        team,
      ),
      dedupeKey: `lead:${leadId}:escalation:unclaimed:L${level}`,
    });
  });
}

function escalationRecipient(
  deps: AssignDeps,
  team: TeamConfig,
  notify: 'rep' | 'supervisor' | 'director',
  assigneeId: string | null,
): MemberConfig | undefined {
  const id =
    notify === 'rep'
      ? assigneeId
      : notify === 'supervisor'
        ? team.supervisor
        : (team.director ?? team.supervisor);
  const member = id ? deps.directory.member(id) : undefined;
  return member?.active ? member : undefined;
}
