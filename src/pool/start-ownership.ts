import type { MemberConfig } from '../config/org-types';
import type { Tx } from '../db/client';
import type { AssignDeps } from '../leads/assign-lead';
import type { LeadRow } from '../leads/lead-record';
import { appendEvents } from '../leads/timeline';
import { CANCELLED_BY_CLAIM, timersOnClaim } from '../sla/lead-timers';
import { cancelTimers, scheduleTimers } from '../timers/schedule';

/**
 * A lead gets an owner (claim, grab, take-over): the claim goes on the timeline, the claim window and
 * the unclaimed ladder are satisfied, and the follow-up clock starts: the follow-up ladder and the
 * recycle timers of this claim (keys carry the lead version, so a later claim gets its own timers).
 */
export async function startOwnership(
  tx: Tx,
  deps: AssignDeps,
  lead: LeadRow,
  member: MemberConfig,
  claim: { via: 'card' | 'escalation' | 'pool' | 'chat' | 'reassign'; cardId: string | null; now: Date },
): Promise<void> {
  await appendEvents(
    tx,
    [
      {
        leadId: lead.id,
        type: 'lead.claimed',
        actor: { type: 'member', id: member.id },
        data: { via: claim.via, cardId: claim.cardId },
      },
    ],
    claim.now,
  );
  await cancelTimers(tx, { leadId: lead.id, kinds: CANCELLED_BY_CLAIM });
  await scheduleTimers(
    tx,
    timersOnClaim(deps.org, deps.deadline, lead, { memberId: member.id, claimNo: lead.version }),
  );
}
