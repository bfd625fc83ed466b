import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { MemberConfig, TeamConfig } from '../config/org-types';
import { leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { type AssignDeps, assignLead } from '../leads/assign-lead';
import { cardContext, queueCard } from '../leads/lead-cards';
import { appendEvents } from '../leads/timeline';
import { parseDuration } from '../lib/duration';
import { enqueueOutbox } from '../outbox/enqueue';
import { offerToPool } from '../pool/offer-pool';
import type { DueTimer } from '../timers/claim-due-timers';
import { cancelTimers } from '../timers/schedule';
import type { TimerHandlers } from '../timers/worker';
import { CANCELLED_BY_FOLLOW_UP, policyFor, SLA_TIMER_KINDS } from './lead-timers';

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
    [SLA_TIMER_KINDS.followUp]: (timer) => onFollowUpDue(deps, timer),
    [SLA_TIMER_KINDS.recycleWarning]: (timer) => onRecycleWarning(deps, timer),
    [SLA_TIMER_KINDS.recycle]: (timer) => onRecycle(deps, timer),
    [SLA_TIMER_KINDS.stagnation]: (timer) => onStagnation(deps, timer),
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

/**
 * The first follow-up is due and none was recorded (a follow-up cancels these timers): remind the
 * owner with a reminder card, then escalate to the supervisor and the director.
 */
async function onFollowUpDue(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  const level = Number(timer.payload.level);
  const notify = String(timer.payload.notify) as 'rep' | 'supervisor' | 'director';
  await withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
    if (!lead || lead.ownerId !== memberId || !lead.teamId || ['won', 'lost'].includes(lead.stage)) return;
    const team = deps.directory.team(lead.teamId);
    const owner = deps.directory.member(memberId);
    if (!team || !owner) return;
    const recipient = escalationRecipient(deps, team, notify, memberId);
    const now = deps.clock.now();
    const policy = policyFor(deps.org, lead.grade);
    const dueAt = new Date((lead.claimedAt ?? now).getTime() + parseDuration(policy.firstFollowUpWithin));
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: notify === 'rep' ? 'sla.reminded' : 'sla.escalated',
          actor: { type: 'system', id: null },
          data: { ladder: 'follow_up', level, notify, to: recipient?.id ?? null, owner: memberId },
        },
      ],
      now,
    );
    if (!recipient) return;
    const key = `lead:${leadId}:followup:L${level}:c${String(timer.payload.claimNo)}`;
    if (notify === 'rep') {
      await queueCard(tx, deps, {
        leadId,
        member: recipient,
        template: 'reminder',
        context: cardContext(
          deps,
          lead,
          { member: { name: owner.name }, deadline: dueAt, reason: '首次跟进已到期，请联系客户并记录跟进' },
          team,
        ),
        dedupeKey: key,
      });
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
          member: { name: owner.name },
          missed: '首次跟进',
          minutes: Math.max(1, Math.round((now.getTime() - dueAt.getTime()) / 60_000)),
          deadline: dueAt,
        },
        team,
      ),
      dedupeKey: key,
    });
  });
}

/** Before a claimed lead without follow-up goes back to the pool, its owner is warned. */
async function onRecycleWarning(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  await withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId));
    if (!lead || lead.ownerId !== memberId || ['won', 'lost'].includes(lead.stage)) return;
    const owner = deps.directory.member(memberId);
    const address = owner ? deps.directory.addressOf(owner, deps.platforms) : null;
    const policy = policyFor(deps.org, lead.grade);
    const now = deps.clock.now();
    await appendEvents(
      tx,
      [{ leadId, type: 'sla.recycle_warned', actor: { type: 'system', id: null }, data: { memberId } }],
      now,
    );
    if (!address) return;
    const who = [lead.company, lead.name].filter(Boolean).join(' · ') || `#${leadId}`;
    await enqueueOutbox(
      tx,
      [
        {
          dedupeKey: `lead:${leadId}:recycle-warning:c${String(timer.payload.claimNo)}`,
          platform: address.platform,
          leadId,
          message: {
            kind: 'text',
            to: { kind: 'user', userId: address.userId },
            text: `线索 #${leadId}（${who}）认领后还没有跟进记录，${formatWait(parseDuration(policy.recycleWarningBefore))}后将收回公海。请尽快联系客户并记录跟进。`,
          },
        },
      ],
      now,
    );
  });
}

/** No follow-up within the policy: the lead goes back to the team's pool and is offered to the team. */
async function onRecycle(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [result] = await tx
      .update(leads)
      .set({ ownerId: null, assigneeId: null, version: sql`${leads.version} + 1`, updatedAt: now })
      .where(
        and(eq(leads.id, leadId), eq(leads.ownerId, memberId), notInArray(leads.stage, ['won', 'lost'])),
      );
    if (result.affectedRows !== 1) return;
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId));
    if (!lead) return;
    const policy = policyFor(deps.org, lead.grade);
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: 'lead.recycled',
          actor: { type: 'system', id: null },
          data: { memberId, after: policy.recycleAfter },
        },
      ],
      now,
    );
    await cancelTimers(tx, { leadId, kinds: CANCELLED_BY_FOLLOW_UP });
    const owner = deps.directory.member(memberId);
    await offerToPool(tx, deps, lead, {
      reason: `${owner?.name ?? memberId}认领后 ${policy.recycleAfter} 未跟进，已收回公海`,
      exclude: [memberId],
      round: lead.version,
    });
  });
}

function formatWait(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} 天`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} 小时`;
  return `${Math.max(1, Math.round(ms / 60_000))} 分钟`;
}

const STAGE_NAMES: Record<string, string> = {
  new: '新线索',
  contacted: '已联系',
  qualified: '已确认需求',
  opportunity: '商机',
  nurture: '培育',
};

/** A lead stuck in one stage: remind the owner, then tell the supervisor (PRODUCT.md defaults). */
async function onStagnation(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  const stage = String(timer.payload.stage);
  const level = Number(timer.payload.level);
  const notify = String(timer.payload.notify) as 'rep' | 'supervisor' | 'director';
  await withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
    if (!lead || lead.ownerId !== memberId || lead.stage !== stage || !lead.teamId) return;
    const team = deps.directory.team(lead.teamId);
    const owner = deps.directory.member(memberId);
    if (!team || !owner) return;
    const recipient = escalationRecipient(deps, team, notify, memberId);
    const policy = policyFor(deps.org, lead.grade);
    const now = deps.clock.now();
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: notify === 'rep' ? 'sla.reminded' : 'sla.escalated',
          actor: { type: 'system', id: null },
          data: { ladder: 'stagnation', stage, level, notify, to: recipient?.id ?? null, owner: memberId },
        },
      ],
      now,
    );
    if (!recipient) return;
    const stageName = STAGE_NAMES[stage] ?? stage;
    const key = `lead:${leadId}:stagnation:${stage}:L${level}:c${String(timer.payload.claimNo)}`;
    if (notify === 'rep') {
      await queueCard(tx, deps, {
        leadId,
        member: recipient,
        template: 'reminder',
        context: cardContext(
          deps,
          lead,
          {
            member: { name: owner.name },
            deadline: now,
            reason: `已在「${stageName}」阶段停留超过 ${policy.stagnationAfter}，请推进或记录进展`,
          },
          team,
        ),
        dedupeKey: key,
      });
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
          member: { name: owner.name },
          missed: `推进「${stageName}」阶段`,
          minutes: Math.round(parseDuration(policy.stagnationAfter) / 60_000),
        },
        team,
      ),
      dedupeKey: key,
    });
  });
}
