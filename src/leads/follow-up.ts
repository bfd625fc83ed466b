import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import { leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { parseDuration } from '../lib/duration';
import { enqueueOutbox } from '../outbox/enqueue';
import { policyFor, SLA_TIMER_KINDS } from '../sla/lead-timers';
import { scheduleTimers } from '../timers/schedule';
import type { AssignDeps } from './assign-lead';
import { writableLead } from './lead-access';
import { satisfyFollowUp } from './stage-change';
import { appendEvents } from './timeline';

export type FollowUpOutcome = 'recorded' | 'snoozed' | 'not_authorised' | 'not_found';

/**
 * A follow-up on a lead (PRODUCT.md 7): it satisfies the follow-up ladder and the recycle timers of
 * the current claim, and starts the grade's cadence (A weekly, B every two weeks, C monthly). Only
 * the owner, or the supervisor or director of the lead's team, may record one; the rights are part
 * of the locking SELECT. The conversation issue adds the note text and stage changes; here the
 * reminder card's 已跟进 records it and asks for the note (typed notes are `addNote`).
 */
export async function recordFollowUp(
  deps: AssignDeps,
  input: { leadId: number; member: MemberConfig; via: 'card' | 'api'; note?: string },
): Promise<FollowUpOutcome> {
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [lead] = await tx
      .select()
      .from(leads)
      .where(and(writableLead(deps, input.member, input.leadId), isNotNull(leads.ownerId)))
      .for('update');
    if (!lead)
      return (await tx.select({ id: leads.id }).from(leads).where(eq(leads.id, input.leadId))).length
        ? 'not_authorised'
        : 'not_found';
    await tx
      .update(leads)
      .set({ version: sql`${leads.version} + 1`, updatedAt: now })
      .where(eq(leads.id, lead.id));
    await appendEvents(
      tx,
      [
        {
          leadId: lead.id,
          type: 'lead.followed_up',
          actor: { type: 'member', id: input.member.id },
          data: { via: input.via, ...(input.note ? { note: input.note } : {}) },
        },
      ],
      now,
    );
    await satisfyFollowUp(tx, deps, { ...lead, version: lead.version + 1 });
    const policy = policyFor(deps.org, lead.grade);
    const address = deps.directory.addressOf(input.member, deps.platforms);
    if (input.via === 'card' && address) {
      await enqueueOutbox(
        tx,
        [
          {
            dedupeKey: `lead:${lead.id}:followed-up:v${lead.version + 1}`,
            platform: address.platform,
            leadId: lead.id,
            message: {
              kind: 'text',
              to: { kind: 'user', userId: address.userId },
              text: `已记录线索 #${lead.id} 的跟进，下次回访提醒在 ${policy.cadence} 后。请直接回复补充跟进内容（例如：客户下周来厂参观，预算：50万）。`,
            },
          },
        ],
        now,
      );
    }
    return 'recorded';
  });
}

/** 推迟一天: the reminder comes back in a day (a new timer; the ladder's own timers are untouched). */
export async function snoozeReminder(
  deps: AssignDeps,
  input: { leadId: number; member: MemberConfig; cardId: string },
): Promise<FollowUpOutcome> {
  if (!input.member.active) return 'not_authorised';
  return withTransaction(deps.db, async (tx) => {
    const [lead] = await tx
      .select()
      .from(leads)
      .where(and(eq(leads.id, input.leadId), eq(leads.ownerId, input.member.id)));
    if (!lead) return 'not_authorised';
    const policy = policyFor(deps.org, lead.grade);
    await scheduleTimers(tx, [
      {
        effectKey: `lead:${lead.id}:snooze:${input.cardId}`,
        kind: SLA_TIMER_KINDS.cadence,
        leadId: lead.id,
        dueAt: deps.deadline(lead.teamId, policy.clock, parseDuration('1d')),
        payload: { memberId: lead.ownerId, claimNo: `s-${input.cardId}`, level: 1, notify: 'rep' },
      },
    ]);
    await appendEvents(
      tx,
      [
        {
          leadId: lead.id,
          type: 'sla.snoozed',
          actor: { type: 'member', id: input.member.id },
          data: { cardId: input.cardId, for: '1d' },
        },
      ],
      deps.clock.now(),
    );
    return 'snoozed';
  });
}
