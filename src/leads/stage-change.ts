import { eq, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import type { Tx } from '../db/client';
import { leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { parseDuration } from '../lib/duration';
import {
  CANCELLED_BY_CLOSING,
  CANCELLED_BY_FOLLOW_UP,
  policyFor,
  SLA_TIMER_KINDS,
  stagnationTimers,
} from '../sla/lead-timers';
import { cancelTimers, scheduleTimers } from '../timers/schedule';
import type { AssignDeps } from './assign-lead';
import { writableLead } from './lead-access';
import type { LeadRow } from './lead-record';
import { REMINDER_TIMER_KIND } from './reminder-timers';
import { CLOSED, checkTransition, matchLostReason, type Stage } from './stages';
import { appendEvents } from './timeline';

/** Runs inside the action's transaction with its outcome: the reply to the member is queued here. */
export type AfterWrite<R> = (tx: Tx, outcome: R) => Promise<void>;

export type StageChangeOutcome =
  | { kind: 'changed'; lead: LeadRow; from: string; to: Stage }
  | { kind: 'gate'; lead: LeadRow; to: Stage; missing: import('../config/sections/stages').GateField[] }
  | { kind: 'bad_reason'; lead: LeadRow; reasons: readonly string[] }
  | { kind: 'same_stage'; lead: LeadRow }
  | { kind: 'closed'; lead: LeadRow }
  | { kind: 'unclaimed'; lead: LeadRow }
  | { kind: 'not_authorised'; lead: LeadRow }
  | { kind: 'not_found' };

export interface StageChangeInput {
  leadId: number;
  member: MemberConfig;
  to: Stage;
  /** Yuan, for won. */
  amount?: number | undefined;
  /** What the member typed after 输单, matched against `stages.lostReasons`. */
  lostReason?: string | undefined;
  via: 'chat' | 'card' | 'api';
}

/**
 * A stage change (PRODUCT.md 9): the gates of the config are checked against the locked row, then one
 * transaction writes the stage, the timeline event, and the timers the new stage implies (see
 * `applyStageChange`). Only the owner, or the team's supervisor or director, may change it.
 */
export async function changeStage(
  deps: AssignDeps,
  input: StageChangeInput,
  after?: AfterWrite<StageChangeOutcome>,
): Promise<StageChangeOutcome> {
  return withTransaction(deps.db, async (tx) => {
    const outcome = await changeStageIn(tx, deps, input);
    await after?.(tx, outcome);
    return outcome;
  });
}

async function changeStageIn(tx: Tx, deps: AssignDeps, input: StageChangeInput): Promise<StageChangeOutcome> {
  const [lead] = await tx
    .select()
    .from(leads)
    .where(writableLead(deps, input.member, input.leadId))
    .for('update');
  if (!lead) {
    const [other] = await tx.select().from(leads).where(eq(leads.id, input.leadId));
    return other ? { kind: 'not_authorised', lead: other } : { kind: 'not_found' };
  }
  if (!lead.ownerId) return { kind: 'unclaimed', lead };
  let lost: { reason: string; detail: string } | null = null;
  if (input.to === 'lost' && input.lostReason) {
    lost = matchLostReason(deps.org.stages.lostReasons, input.lostReason);
    if (!lost) return { kind: 'bad_reason', lead, reasons: deps.org.stages.lostReasons };
  }
  const check = checkTransition(deps.org.stages, lead.stage, input.to, {
    lead,
    amount: input.amount,
    lostReason: lost?.reason,
  });
  if (!check.ok) {
    if (check.problem === 'gate') {
      if (input.to === 'lost' && check.missing.includes('lostReason'))
        return { kind: 'bad_reason', lead, reasons: deps.org.stages.lostReasons };
      return { kind: 'gate', lead, to: input.to, missing: check.missing };
    }
    return { kind: check.problem, lead };
  }
  const changed = await applyStageChange(tx, deps, lead, {
    to: input.to,
    member: input.member,
    via: input.via,
    ...(input.to === 'won' && input.amount !== undefined ? { amount: input.amount } : {}),
    ...(lost ? { lostReason: lost.reason, lostDetail: lost.detail } : {}),
  });
  return { kind: 'changed', lead: changed, from: lead.stage, to: input.to };
}

/**
 * Writes a checked stage change on a locked, owned lead: the row (stage, when, amount or reason),
 * `lead.stage_changed` on the timeline, and the timers (SLA issue, PRODUCT.md defaults):
 * - the stagnation ladder restarts for the new stage; a stage change by the owner also counts as a
 *   follow-up (first follow-up and recycle timers satisfied, the cadence restarts);
 * - contacted: a call-back reminder to the owner `stages.contactedCallbackAfter` later;
 * - won or lost: every SLA timer stops.
 */
export async function applyStageChange(
  tx: Tx,
  deps: AssignDeps,
  lead: LeadRow,
  change: {
    to: Stage;
    member: MemberConfig;
    via: 'chat' | 'card' | 'api' | 'note';
    amount?: number;
    lostReason?: string;
    lostDetail?: string;
  },
): Promise<LeadRow> {
  const now = deps.clock.now();
  const closed = CLOSED.has(change.to);
  const version = lead.version + 1;
  const patch = {
    stage: change.to,
    stageChangedAt: now,
    version,
    updatedAt: now,
    closedAt: closed ? now : null,
    wonAmount: change.to === 'won' ? (change.amount ?? null) : lead.wonAmount,
    lostReason: change.to === 'lost' ? (change.lostReason ?? null) : null,
    lostDetail: change.to === 'lost' ? change.lostDetail || null : null,
  };
  await tx
    .update(leads)
    .set({ ...patch, version: sql`${leads.version} + 1` })
    .where(eq(leads.id, lead.id));
  await appendEvents(
    tx,
    [
      {
        leadId: lead.id,
        type: 'lead.stage_changed',
        actor: { type: 'member', id: change.member.id },
        data: {
          from: lead.stage,
          to: change.to,
          via: change.via,
          ...(change.amount !== undefined && change.to === 'won' ? { amount: change.amount } : {}),
          ...(change.lostReason ? { reason: change.lostReason } : {}),
          ...(change.lostDetail ? { detail: change.lostDetail } : {}),
        },
      },
    ],
    now,
  );
  const updated: LeadRow = { ...lead, ...patch };
  if (closed) {
    await cancelTimers(tx, { leadId: lead.id, kinds: CANCELLED_BY_CLOSING });
    return updated;
  }
  await cancelTimers(tx, { leadId: lead.id, kinds: [SLA_TIMER_KINDS.stagnation] });
  const ownerId = lead.ownerId!;
  await scheduleTimers(tx, [
    ...stagnationTimers(deps.org, deps.deadline, lead, { memberId: ownerId, stage: change.to, version }),
    ...(change.to === 'contacted'
      ? [
          {
            effectKey: `lead:${lead.id}:callback:v${version}`,
            kind: REMINDER_TIMER_KIND,
            leadId: lead.id,
            dueAt: deps.deadline(
              lead.teamId,
              policyFor(deps.org, lead.grade).clock,
              parseDuration(deps.org.stages.contactedCallbackAfter),
            ),
            payload: { memberId: ownerId, text: '回访客户（已联系后的例行回访）', by: 'system' },
          },
        ]
      : []),
  ]);
  if (change.via !== 'note') await satisfyFollowUp(tx, deps, updated);
  return updated;
}

/**
 * A follow-up happened (note, stage change, 已跟进): the first-follow-up ladder and the recycle timers
 * of the current claim are satisfied, and the grade's cadence restarts from now.
 */
export async function satisfyFollowUp(tx: Tx, deps: AssignDeps, lead: LeadRow): Promise<void> {
  await cancelTimers(tx, { leadId: lead.id, kinds: [...CANCELLED_BY_FOLLOW_UP, SLA_TIMER_KINDS.cadence] });
  if (CLOSED.has(lead.stage) || !lead.ownerId) return;
  const policy = policyFor(deps.org, lead.grade);
  await scheduleTimers(tx, [
    {
      effectKey: `lead:${lead.id}:cadence:v${lead.version}`,
      kind: SLA_TIMER_KINDS.cadence,
      leadId: lead.id,
      dueAt: deps.deadline(lead.teamId, policy.clock, parseDuration(policy.cadence)),
      payload: { memberId: lead.ownerId, claimNo: lead.version, level: 1, notify: 'rep' },
    },
  ]);
}
