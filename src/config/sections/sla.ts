import type { Grade } from '../org-types';

export type SlaClock = 'wall' | 'business';

export interface EscalationStep {
  after: string;
  notify: 'rep' | 'supervisor' | 'director';
}

/** One grade's service levels; every field has a default from PRODUCT.md (sla.schema.json). */
export interface SlaPolicy {
  clock: SlaClock;
  claimWithin: string;
  rerouteHops: number;
  unclaimedEscalation: EscalationStep[];
  firstFollowUpWithin: string;
  followUpEscalation: EscalationStep[];
  recycleAfter: string;
  recycleWarningBefore: string;
  stagnationAfter: string;
  /** Counted from stagnationAfter: remind the owner, then the supervisor (PRODUCT.md defaults). */
  stagnationEscalation: EscalationStep[];
  cadence: string;
}

export interface SlaConfig {
  /** Older shorthand for policies.<grade>.claimWithin. */
  claimWindow?: Partial<Record<Grade, string>>;
  policies: Record<Grade, SlaPolicy>;
}

export interface PoolConfig {
  maxGrabsPerDay: number;
  maxOpenLeads: number;
  reclaimCooldown: string;
  offerToTeam: boolean;
}
