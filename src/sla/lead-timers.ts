import type { Grade, OrgConfig, SlaPolicy } from '../config/org-types';
import { parseDuration } from '../lib/duration';
import type { TimerSpec } from '../timers/schedule';

/**
 * Which timers a lead's state implies (PRODUCT.md capability 7). Pure: the domain actions call these
 * inside their transaction and write the specs with `scheduleTimers`; handlers (sla/handlers.ts)
 * re-check the lead's state when a timer fires, so a stale timer does nothing.
 *
 * Effect keys name each effect once: `lead:42:claim:1` (the first claim window),
 * `lead:42:unclaimed:L2`, `lead:42:followup:L1:c1` (the first claim's ladder). A re-assignment or a
 * second claim gets keys of its own (the hop or claim number is in the key).
 */
export const SLA_TIMER_KINDS = {
  assign: 'lead.assign',
  claimWindow: 'sla.claim_window',
  unclaimed: 'sla.unclaimed',
  followUp: 'sla.followup',
  recycleWarning: 'sla.recycle_warning',
  recycle: 'sla.recycle',
  stagnation: 'sla.stagnation',
  cadence: 'sla.cadence',
} as const;

/** Timers that a claim satisfies. */
export const CANCELLED_BY_CLAIM = [SLA_TIMER_KINDS.claimWindow, SLA_TIMER_KINDS.unclaimed];
/** Timers that a follow-up (note, stage change) satisfies; the caller schedules the next cadence. */
export const CANCELLED_BY_FOLLOW_UP = [
  SLA_TIMER_KINDS.followUp,
  SLA_TIMER_KINDS.recycleWarning,
  SLA_TIMER_KINDS.recycle,
];

/**
 * Turns "this long from now on the policy's clock" into a due time: wall-clock durations count from
 * the database clock (`inMs`); business-hours durations are placed by the team's calendar.
 */
export type DeadlineFn = (teamId: string | null, clock: SlaPolicy['clock'], ms: number) => TimerSpec['dueAt'];

export function policyFor(org: OrgConfig, grade: string): SlaPolicy {
  const g = (['A', 'B', 'C'].includes(grade) ? grade : 'C') as Grade;
  const policy = org.sla.policies[g];
  // The older `sla.claimWindow` shorthand still wins when a file sets it.
  const claimWithin = org.sla.claimWindow?.[g];
  return claimWithin ? { ...policy, claimWithin } : policy;
}

/** On (re-)assignment to a member: the claim window of this hop, and on the first hop the ladder. */
export function timersOnAssignment(
  org: OrgConfig,
  deadline: DeadlineFn,
  lead: { id: number; grade: string; teamId: string | null },
  assignment: { memberId: string; hop: number },
): TimerSpec[] {
  const policy = policyFor(org, lead.grade);
  const specs: TimerSpec[] = [
    {
      effectKey: `lead:${lead.id}:claim:${assignment.hop}`,
      kind: SLA_TIMER_KINDS.claimWindow,
      leadId: lead.id,
      dueAt: deadline(lead.teamId, policy.clock, parseDuration(policy.claimWithin)),
      payload: { memberId: assignment.memberId, hop: assignment.hop },
    },
  ];
  if (assignment.hop === 1) specs.push(...unclaimedLadder(org, deadline, lead));
  return specs;
}

/** The unclaimed ladder counts from the lead's arrival, whoever it is offered to meanwhile. */
export function unclaimedLadder(
  org: OrgConfig,
  deadline: DeadlineFn,
  lead: { id: number; grade: string; teamId: string | null },
): TimerSpec[] {
  const policy = policyFor(org, lead.grade);
  return policy.unclaimedEscalation.map((step, i) => ({
    effectKey: `lead:${lead.id}:unclaimed:L${i + 1}`,
    kind: SLA_TIMER_KINDS.unclaimed,
    leadId: lead.id,
    dueAt: deadline(lead.teamId, policy.clock, parseDuration(step.after)),
    payload: { level: i + 1, notify: step.notify },
  }));
}

/**
 * On a claim (the `claimNo`-th of this lead): the follow-up ladder (the rep is reminded when the
 * first follow-up is due, then the supervisor and director), the recycle warning, and the recycle.
 */
export function timersOnClaim(
  org: OrgConfig,
  deadline: DeadlineFn,
  lead: { id: number; grade: string; teamId: string | null },
  claim: { memberId: string; claimNo: number },
): TimerSpec[] {
  const policy = policyFor(org, lead.grade);
  const firstFollowUp = parseDuration(policy.firstFollowUpWithin);
  const recycle = parseDuration(policy.recycleAfter);
  const key = (what: string) => `lead:${lead.id}:${what}:c${claim.claimNo}`;
  const specs: TimerSpec[] = policy.followUpEscalation.map((step, i) => ({
    effectKey: key(`followup:L${i + 1}`),
    kind: SLA_TIMER_KINDS.followUp,
    leadId: lead.id,
    dueAt: deadline(lead.teamId, policy.clock, firstFollowUp + parseDuration(step.after)),
    payload: { level: i + 1, notify: step.notify, memberId: claim.memberId, claimNo: claim.claimNo },
  }));
  const warning = recycle - parseDuration(policy.recycleWarningBefore);
  if (warning > 0) {
    specs.push({
      effectKey: key('recycle-warning'),
      kind: SLA_TIMER_KINDS.recycleWarning,
      leadId: lead.id,
      dueAt: deadline(lead.teamId, policy.clock, warning),
      payload: { memberId: claim.memberId, claimNo: claim.claimNo },
    });
  }
  // Stagnation: the lead sits in its current stage. A stage change (conversation issue) cancels these
  // and schedules the ladder for the new stage.
  const stagnation = parseDuration(policy.stagnationAfter);
  policy.stagnationEscalation.forEach((step, i) => {
    specs.push({
      effectKey: key(`stagnation:new:L${i + 1}`),
      kind: SLA_TIMER_KINDS.stagnation,
      leadId: lead.id,
      dueAt: deadline(lead.teamId, policy.clock, stagnation + parseDuration(step.after)),
      payload: {
        level: i + 1,
        notify: step.notify,
        memberId: claim.memberId,
        claimNo: claim.claimNo,
        stage: 'new',
      },
    });
  });
  specs.push({
    effectKey: key('recycle'),
    kind: SLA_TIMER_KINDS.recycle,
    leadId: lead.id,
    dueAt: deadline(lead.teamId, policy.clock, recycle),
    payload: { memberId: claim.memberId, claimNo: claim.claimNo },
  });
  return specs;
}

/**
 * On a stage change (conversation issue): the stagnation ladder of the new stage, counted from now.
 * Keyed by the lead version of the change, so returning to a stage later gets a ladder of its own.
 */
export function stagnationTimers(
  org: OrgConfig,
  deadline: DeadlineFn,
  lead: { id: number; grade: string; teamId: string | null },
  change: { memberId: string; stage: string; version: number },
): TimerSpec[] {
  const policy = policyFor(org, lead.grade);
  const stagnation = parseDuration(policy.stagnationAfter);
  return policy.stagnationEscalation.map((step, i) => ({
    effectKey: `lead:${lead.id}:stagnation:${change.stage}:L${i + 1}:v${change.version}`,
    kind: SLA_TIMER_KINDS.stagnation,
    leadId: lead.id,
    dueAt: deadline(lead.teamId, policy.clock, stagnation + parseDuration(step.after)),
    payload: {
      level: i + 1,
      notify: step.notify,
      memberId: change.memberId,
      claimNo: `v${change.version}`,
      stage: change.stage,
    },
  }));
}

/** Every SLA timer of an owned lead; a won or lost lead needs none of them. */
export const CANCELLED_BY_CLOSING = [
  SLA_TIMER_KINDS.claimWindow,
  SLA_TIMER_KINDS.unclaimed,
  SLA_TIMER_KINDS.followUp,
  SLA_TIMER_KINDS.recycleWarning,
  SLA_TIMER_KINDS.recycle,
  SLA_TIMER_KINDS.stagnation,
  SLA_TIMER_KINDS.cadence,
];
