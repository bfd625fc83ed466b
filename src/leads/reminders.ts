import { eq } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import { leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { DueTimer } from '../timers/claim-due-timers';
import { scheduleTimers } from '../timers/schedule';
import type { TimerHandlers } from '../timers/worker';
import type { AssignDeps } from './assign-lead';
import { canWrite, writableLead } from './lead-access';
import { cardContext, queueCard } from './lead-cards';
import type { LeadRow } from './lead-record';
import { REMINDER_TIMER_KIND } from './reminder-timers';
import type { AfterWrite } from './stage-change';
import { CLOSED } from './stages';
import { appendEvents } from './timeline';

export type ReminderOutcome =
  | { kind: 'scheduled'; lead: LeadRow; at: Date }
  | { kind: 'not_authorised'; lead: LeadRow }
  | { kind: 'not_found' };

/**
 * 提醒 (PRODUCT.md 8): a timer that sends the member a reminder card about the lead at `at` (already
 * resolved in the team's timezone by the grammar). The owner or the team's supervisor or director
 * may set one; it goes to whoever set it. Typing the same reminder twice schedules it once.
 */
export async function setReminder(
  deps: AssignDeps,
  input: { leadId: number; member: MemberConfig; at: Date; text: string },
  after?: AfterWrite<ReminderOutcome>,
): Promise<ReminderOutcome> {
  return withTransaction(deps.db, async (tx) => {
    const outcome = await (async (): Promise<ReminderOutcome> => {
      const [lead] = await tx
        .select()
        .from(leads)
        .where(writableLead(deps, input.member, input.leadId));
      if (!lead) {
        const [other] = await tx.select().from(leads).where(eq(leads.id, input.leadId));
        return other ? { kind: 'not_authorised', lead: other } : { kind: 'not_found' };
      }
      await scheduleTimers(tx, [
        {
          effectKey: `lead:${lead.id}:remind:${input.member.id}:${input.at.getTime()}`,
          kind: REMINDER_TIMER_KIND,
          leadId: lead.id,
          dueAt: input.at,
          payload: { memberId: input.member.id, text: input.text, by: input.member.id },
        },
      ]);
      await appendEvents(
        tx,
        [
          {
            leadId: lead.id,
            type: 'reminder.set',
            actor: { type: 'member', id: input.member.id },
            data: { at: input.at.toISOString(), text: input.text },
          },
        ],
        deps.clock.now(),
      );
      return { kind: 'scheduled', lead, at: input.at };
    })();
    await after?.(tx, outcome);
    return outcome;
  });
}

/**
 * The reminder is due: a reminder card (已跟进 / 推迟一天) to the member, if they may still write to
 * the lead and it is still open (a lead won, lost or handed to someone else meanwhile needs no
 * reminder). The card's key is the timer's, so a timer that runs twice sends one card.
 */
async function onReminder(deps: AssignDeps, timer: DueTimer): Promise<void> {
  const memberId = String(timer.payload.memberId);
  const text = String(timer.payload.text ?? '');
  const member = deps.directory.member(memberId);
  if (!member?.active || timer.leadId === null) return;
  const leadId = timer.leadId;
  await withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId));
    if (!lead || CLOSED.has(lead.stage) || !canWrite(deps, member, lead)) return;
    const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
    const now = deps.clock.now();
    await appendEvents(
      tx,
      [
        {
          leadId,
          type: 'reminder.sent',
          actor: { type: 'system', id: null },
          data: { to: memberId, text, dueAt: timer.dueAt.toISOString() },
        },
      ],
      now,
    );
    await queueCard(tx, deps, {
      leadId,
      member,
      template: 'reminder',
      context: cardContext(
        deps,
        lead,
        {
          deadline: timer.dueAt,
          reason: text ? `提醒：${text}` : '你设置的提醒到了',
          member: { name: member.name },
        },
        team,
      ),
      dedupeKey: `reminder:${timer.effectKey}`,
    });
  });
}

export function reminderTimerHandlers(deps: AssignDeps): TimerHandlers {
  return { [REMINDER_TIMER_KIND]: (timer) => onReminder(deps, timer) };
}
