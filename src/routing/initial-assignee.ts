import type { Directory } from '../config/members';
import type { Grade, MemberConfig, OrgConfig, TeamConfig } from '../config/org-types';
import { parseDuration } from '../lib/duration';

/** PRODUCT.md "Defaults that come from the field": grade A is claimed within 5 minutes. */
export const DEFAULT_CLAIM_WINDOW: Record<Grade, string> = { A: '5m', B: '30m', C: '2h' };

export function claimWindowMs(org: OrgConfig, grade: string): number {
  const g = (['A', 'B', 'C'].includes(grade) ? grade : 'C') as Grade;
  return parseDuration(
    org.sla.claimWindow?.[g] ?? org.sla.policies[g]?.claimWithin ?? DEFAULT_CLAIM_WINDOW[g],
  );
}

/**
 * The simple first routing rule, until the assignment issue brings rules and weighted round robin:
 * the first team, its first active member with a non-zero weight.
 */
export function pickInitialAssignee(
  org: OrgConfig,
  directory: Directory,
): { team: TeamConfig; member: MemberConfig } | null {
  for (const team of org.teams) {
    for (const memberId of team.members) {
      const member = directory.member(memberId);
      if (member?.active && member.weight > 0) return { team, member };
    }
  }
  return null;
}
