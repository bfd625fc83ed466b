import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { MemberConfig, TeamConfig } from '../config/org-types';
import type { Tx } from '../db/client';
import { leadEvents, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { type AssignDeps, assignLead, assignNewLeads } from '../leads/assign-lead';
import { cardContext, queueCard } from '../leads/lead-cards';
import type { LeadRow } from '../leads/lead-record';
import { appendEvents } from '../leads/timeline';
import { parseDuration } from '../lib/duration';
import type { SlaBreach } from '../metrics/metrics';
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
export function slaTimerHandlers(deps: AssignDeps, hooks: SlaHooks = {}): TimerHandlers {
  const assignments = createAssignmentBatcher(deps);
  const breached = (breach: SlaBreach | null) => {
    if (breach) hooks.onBreach?.(breach);
  };
  return {
    [SLA_TIMER_KINDS.assign]: (timer) => assignments.add(leadIdOf(timer)),
    [SLA_TIMER_KINDS.claimWindow]: async (timer) => breached(await onClaimWindow(deps, timer)),
    [SLA_TIMER_KINDS.unclaimed]: async (timer) => breached(await onUnclaimed(deps, timer)),
    [SLA_TIMER_KINDS.followUp]: async (timer) => breached(await onFollowUpDue(deps, timer)),
    [SLA_TIMER_KINDS.recycleWarning]: (timer) => onRecycleWarning(deps, timer),
    [SLA_TIMER_KINDS.recycle]: (timer) => onRecycle(deps, timer),
    [SLA_TIMER_KINDS.stagnation]: async (timer) => breached(await onStagnation(deps, timer)),
    [SLA_TIMER_KINDS.cadence]: async (timer) => breached(await onCadence(deps, timer)),
  };
}

export interface SlaHooks {
  /**
   * Called after the transaction that recorded an `sla.escalated` or `sla.claim_missed` event has
   * committed (so a rolled-back, retried timer counts once): the server counts breaches in metrics.
   */
  onBreach?(breach: SlaBreach): void;
}

/** At most this many leads per assignment transaction. */
const MAX_ASSIGN_BATCH = 64;

/** Assignment transactions in flight at once per instance; more leads wait and form the next batch. */
const MAX_PARALLEL_ASSIGNMENTS = 4;

/**
 * Routing under pressure (`assignNewLeads`): while fewer than MAX_PARALLEL_ASSIGNMENTS transactions
 * are in flight, the new leads that arrived (the `lead.assign` timers of one claim) go out at once;
 * when more arrive meanwhile they wait and form the next batch, in which each team's round-robin
 * state is locked once for all of them instead of once per lead. So a quiet system routes each lead
 * immediately and a burst does not queue lead by lead on the team lock. Every batch locks leads in
 * id order and teams in name order, so concurrent batches cannot deadlock. A handler resolves when
 * its batch has committed, so the timer is marked done only then.
 */
function createAssignmentBatcher(deps: AssignDeps): { add(leadId: number): Promise<void> } {
  const pending: { leadId: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = 0;
  let pumpQueued = false;
  const run = async (batch: typeof pending) => {
    try {
      await assignNewLeads(
        deps,
        batch.map((b) => b.leadId),
      );
      for (const b of batch) b.resolve();
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  };
  const pump = () => {
    pumpQueued = false;
    while (running < MAX_PARALLEL_ASSIGNMENTS && pending.length > 0) {
      running++;
      void run(pending.splice(0, MAX_ASSIGN_BATCH)).finally(() => {
        running--;
        pump();
      });
    }
  };
  return {
    add: (leadId) =>
      new Promise<void>((resolve, reject) => {
        pending.push({ leadId, resolve, reject });
        // After the current synchronous dispatch: the handlers of one claim join one batch.
        if (!pumpQueued) {
          pumpQueued = true;
          queueMicrotask(pump);
        }
      }),
  };
}

/**
 * Whether a timer's effect is already on the lead's timeline. Timers run at least once (a worker killed
 * after the handler committed but before the timer was marked done, or paused past its lease, runs
 * it again), and the card a rung queues is deduplicated by its outbox key, but the event was written
 * again: the timeline showed two escalations for one lead and level, and the SLA reports counted two
 * breaches (found by `npm run test:chaos`). Each event now carries its timer's effect key, and a
 * handler that finds it does nothing. Called under the lead's row lock, so two runs at once queue up
 * on it and the second sees the first's event.
 */
async function effectRecorded(tx: Tx, leadId: number, effectKey: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: leadEvents.id })
    .from(leadEvents)
    .where(
      and(
        eq(leadEvents.leadId, leadId),
        sql`JSON_UNQUOTE(JSON_EXTRACT(${leadEvents.data}, '$.effectKey')) = ${effectKey}`,
      ),
    )
    .limit(1);
  return row !== undefined;
}

function leadIdOf(timer: DueTimer): number {
  if (timer.leadId === null) throw new Error(`timer ${timer.effectKey} has no lead`);
  return timer.leadId;
}

/**
 * The claim window passed (accept-or-reroute, PRODUCT.md 5): offer the lead to the next eligible rep,
 * up to the policy's hops; after that the unclaimed ladder (already running) escalates.
 */
async function onClaimWindow(deps: AssignDeps, timer: DueTimer): Promise<SlaBreach | null> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  const hop = Number(timer.payload.hop);
  const tried = [...((timer.payload.tried as string[] | undefined) ?? []), memberId];
  const [lead] = await deps.db.select().from(leads).where(eq(leads.id, leadId));
  if (!lead || lead.ownerId !== null || lead.assigneeId !== memberId) return null;
  const policy = policyFor(deps.org, lead.grade);
  if (hop > policy.rerouteHops) {
    const recorded = await withTransaction(deps.db, async (tx) => {
      await tx.select({ id: leads.id }).from(leads).where(eq(leads.id, leadId)).for('update');
      if (await effectRecorded(tx, leadId, timer.effectKey)) return false;
      await appendEvents(
        tx,
        [
          {
            leadId,
            type: 'sla.claim_missed',
            actor: { type: 'system', id: null },
            data: { memberId, hop, effectKey: timer.effectKey },
          },
        ],
        deps.clock.now(),
      );
      return true;
    });
    return recorded ? { type: 'sla.claim_missed', ladder: 'claim_window' } : null;
  }
  await assignLead(deps, { leadId, hop: hop + 1, exclude: tried, expectAssignee: memberId });
  return null;
}

/** One rung of the unclaimed ladder: an escalation card to the supervisor or the director. */
async function onUnclaimed(deps: AssignDeps, timer: DueTimer): Promise<SlaBreach | null> {
  const leadId = leadIdOf(timer);
  const level = Number(timer.payload.level);
  const notify = String(timer.payload.notify) as 'rep' | 'supervisor' | 'director';
  return withTransaction(deps.db, async (tx): Promise<SlaBreach | null> => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
    if (!lead || lead.ownerId !== null || !lead.teamId) return null;
    const team = deps.directory.team(lead.teamId);
    if (!team) return null;
    if (await effectRecorded(tx, leadId, timer.effectKey)) return null;
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
          data: {
            ladder: 'unclaimed',
            level,
            notify,
            to: recipient?.id ?? null,
            assignee: lead.assigneeId,
            effectKey: timer.effectKey,
          },
        },
      ],
      now,
    );
    const breach: SlaBreach = { type: 'sla.escalated', ladder: 'unclaimed' };
    if (!recipient) {
      deps.logger.warn({ leadId, level, notify }, 'escalation has nobody to go to');
      return breach;
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
    return breach;
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
 * One rung of a ladder about an owned lead (follow-up due, stagnation): the owner gets a reminder
 * card, the supervisor or director an escalation card. Acts only while the owner, and for
 * stagnation the stage, are still those that scheduled it.
 */
async function runOwnerLadder(
  deps: AssignDeps,
  timer: DueTimer,
  rung: {
    ladder: 'follow_up' | 'stagnation' | 'cadence';
    key: string;
    applies: (lead: LeadRow) => boolean;
    reminder: (lead: LeadRow, now: Date) => { deadline: Date; reason: string };
    escalation: (lead: LeadRow, now: Date) => { missed: string; minutes: number; deadline?: Date };
  },
): Promise<SlaBreach | null> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  const level = Number(timer.payload.level);
  const notify = String(timer.payload.notify) as 'rep' | 'supervisor' | 'director';
  return withTransaction(deps.db, async (tx): Promise<SlaBreach | null> => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
    if (!lead || lead.ownerId !== memberId || !lead.teamId || ['won', 'lost'].includes(lead.stage))
      return null;
    if (!rung.applies(lead)) return null;
    const team = deps.directory.team(lead.teamId);
    const owner = deps.directory.member(memberId);
    if (!team || !owner) return null;
    if (await effectRecorded(tx, leadId, timer.effectKey)) return null;
    const recipient = escalationRecipient(deps, team, notify, memberId);
    const now = deps.clock.now();
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: notify === 'rep' ? 'sla.reminded' : 'sla.escalated',
          actor: { type: 'system', id: null },
          data: {
            ladder: rung.ladder,
            level,
            notify,
            to: recipient?.id ?? null,
            owner: memberId,
            ...timer.payload,
            effectKey: timer.effectKey,
          },
        },
      ],
      now,
    );
    const breach: SlaBreach | null = notify === 'rep' ? null : { type: 'sla.escalated', ladder: rung.ladder };
    if (!recipient) return breach;
    const extra = notify === 'rep' ? rung.reminder(lead, now) : rung.escalation(lead, now);
    await queueCard(tx, deps, {
      leadId,
      member: recipient,
      template: notify === 'rep' ? 'reminder' : 'escalation',
      context: cardContext(deps, lead, { member: { name: owner.name }, ...extra }, team),
      dedupeKey: `lead:${leadId}:${rung.key}:L${level}:c${String(timer.payload.claimNo)}`,
    });
    return breach;
  });
}

/** The first follow-up is due and none was recorded (a follow-up cancels these timers). */
function onFollowUpDue(deps: AssignDeps, timer: DueTimer): Promise<SlaBreach | null> {
  const dueAt = (lead: LeadRow, now: Date) =>
    new Date(
      (lead.claimedAt ?? now).getTime() + parseDuration(policyFor(deps.org, lead.grade).firstFollowUpWithin),
    );
  return runOwnerLadder(deps, timer, {
    ladder: 'follow_up',
    key: 'followup',
    applies: () => true,
    reminder: (lead, now) => ({ deadline: dueAt(lead, now), reason: '首次跟进已到期，请联系客户并记录跟进' }),
    escalation: (lead, now) => ({
      missed: '首次跟进',
      minutes: Math.max(1, Math.round((now.getTime() - dueAt(lead, now).getTime()) / 60_000)),
      deadline: dueAt(lead, now),
    }),
  });
}

/** Before a claimed lead without follow-up goes back to the pool, its owner is warned. */
async function onRecycleWarning(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const leadId = leadIdOf(timer);
  const memberId = String(timer.payload.memberId);
  await withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
    if (!lead || lead.ownerId !== memberId || ['won', 'lost'].includes(lead.stage)) return;
    if (await effectRecorded(tx, leadId, timer.effectKey)) return;
    const owner = deps.directory.member(memberId);
    const address = owner ? deps.directory.addressOf(owner, deps.platforms) : null;
    const policy = policyFor(deps.org, lead.grade);
    const now = deps.clock.now();
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: 'sla.recycle_warned',
          actor: { type: 'system', id: null },
          data: { memberId, effectKey: timer.effectKey },
        },
      ],
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
function onStagnation(deps: AssignDeps, timer: DueTimer): Promise<SlaBreach | null> {
  const stage = String(timer.payload.stage);
  const stageName = STAGE_NAMES[stage] ?? stage;
  return runOwnerLadder(deps, timer, {
    ladder: 'stagnation',
    key: `stagnation:${stage}`,
    applies: (lead) => lead.stage === stage,
    reminder: (lead, now) => ({
      deadline: now,
      reason: `已在「${stageName}」阶段停留超过 ${policyFor(deps.org, lead.grade).stagnationAfter}，请推进或记录进展`,
    }),
    escalation: (lead) => ({
      missed: `推进「${stageName}」阶段`,
      minutes: Math.round(parseDuration(policyFor(deps.org, lead.grade).stagnationAfter) / 60_000),
    }),
  });
}

/** The grade's follow-up cadence came round (or a snoozed reminder): remind the owner. */
function onCadence(deps: AssignDeps, timer: DueTimer): Promise<SlaBreach | null> {
  return runOwnerLadder(deps, timer, {
    ladder: 'cadence',
    key: timer.effectKey.includes(':snooze:') ? `snooze:${timer.id}` : 'cadence',
    applies: () => true,
    reminder: (_lead, now) => ({ deadline: now, reason: '按跟进节奏该回访这位客户了' }),
    escalation: () => ({ missed: '回访', minutes: 0 }),
  });
}
