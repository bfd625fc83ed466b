import type { MemberConfig } from '../config/org-types';
import type { Tx } from '../db/client';
import type { AssignDeps } from '../leads/assign-lead';
import type { LeadRow } from '../leads/lead-record';
import { CANCELLED_BY_CLAIM, timersOnClaim } from '../sla/lead-timers';
import { cancelTimers, scheduleTimers } from '../timers/schedule';

/**
 * A lead gets an owner (claim, grab, take-over): the claim window and the unclaimed ladder are
 * satisfied, the follow-up clock starts: the follow-up ladder and the recycle timers of this claim
 * (keys carry the lead version, so a later claim of the same lead gets timers of its own).
 */
export async function startOwnership(
  tx: Tx,
  deps: AssignDeps,
  lead: LeadRow,
  member: MemberConfig,
): Promise<void> {
  await cancelTimers(tx, { leadId: lead.id, kinds: CANCELLED_BY_CLAIM });
  await scheduleTimers(
    tx,
    timersOnClaim(deps.org, deps.deadline, lead, { memberId: member.id, claimNo: lead.version }),
  );
}
