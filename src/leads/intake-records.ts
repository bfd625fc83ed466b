import { createHash } from 'node:crypto';
import type { ScoringConfig } from '../config/org-types';
import { SLA_TIMER_KINDS } from '../sla/lead-timers';
import type { TimerSpec } from '../timers/schedule';
import { dedupeKeys } from './dedupe-keys';
import {
  fromLeadRow,
  type LeadRow,
  type MergeableLead,
  mergeSubmission,
  toScoringInput,
} from './lead-record';
import { gradeFor, type LeadScore, scoreLead } from './scoring';
import type { LeadEvent } from './timeline';
import type { NormalisedLead } from './types';

/**
 * The rows intake writes, as pure functions shared by the one-lead path (`intakeLead`, one
 * submission per transaction) and the batched one (`intakeMany`, many per transaction): both create
 * and merge leads with exactly these records, so the rules live here once.
 */

/** A row of `lead_identities`: the dedupe keys plus the per-source external id. */
export interface IdentityKey {
  kind: string;
  value: string;
}

/** A `lead_identities` row that names the lead holding a key. */
export interface IdentityMatch extends IdentityKey {
  leadId: number;
}

/** A per-source external id is an identity too: a source re-sending its own record is the same lead. */
export function identityKeys(lead: NormalisedLead, sourceId: string): IdentityKey[] {
  const keys: IdentityKey[] = [...dedupeKeys(lead)];
  if (lead.externalId) {
    const value = `${sourceId}:${lead.externalId}`;
    keys.push({
      kind: 'external_id',
      value: value.length <= 191 ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`,
    });
  }
  // One order everywhere, so concurrent inserts of overlapping keys lock in the same order.
  return keys.sort((a, b) => (a.kind + a.value < b.kind + b.value ? -1 : 1));
}

/** The fit score of a new submission (behaviour comes later, from activities). */
export function scoreSubmission(
  lead: NormalisedLead,
  sourceId: string,
  scoring: ScoringConfig,
  now: Date,
): LeadScore {
  return scoreLead(toScoringInput(lead, sourceId), [], scoring, now);
}

/**
 * The `leads` row of a new lead (the table's other columns keep their defaults). Mapped rather than
 * `NormalisedLead & …` so it stays a plain object type, which `insertStatement` accepts.
 */
export type NewLeadRow = { [K in keyof NormalisedLead]: NormalisedLead[K] } & {
  id: number;
  sourceId: string;
  score: number;
  fitScore: number;
  behaviourScore: number;
  grade: string;
  createdAt: Date;
  updatedAt: Date;
  /** Personal data kept until then (`privacy.retentionDays` after intake); unset: from created_at. */
  retainUntil?: Date;
};

/**
 * A new lead: its row, identities, `lead.created` event and the `lead.assign` timer. Routing (round
 * robin state, capacity, availability) runs as its own action right after the lead commits: the
 * timer is due at once. Durable, so a crash between the two still assigns the lead on restart.
 * `note` is added to the event's data (an import says which file and row the lead came from).
 */
export function newLeadRecords(input: {
  leadId: number;
  lead: NormalisedLead;
  keys: IdentityKey[];
  fit: LeadScore;
  sourceId: string;
  now: Date;
  note?: Record<string, unknown>;
  /** `privacy.retentionDays`: sets the lead's retention date (the purge falls back to created_at). */
  retentionDays?: number;
}): {
  row: NewLeadRow;
  identities: { kind: string; value: string; leadId: number; createdAt: Date }[];
  events: LeadEvent[];
  timer: TimerSpec;
} {
  const { leadId, lead, fit, now, sourceId } = input;
  return {
    // Every field named (TypeScript checks none is missing): a spread of the lead made a new hidden
    // class per row, the largest single cost of planning a bulk import's batch.
    row: {
      name: lead.name,
      phone: lead.phone,
      email: lead.email,
      wechat: lead.wechat,
      company: lead.company,
      companyKey: lead.companyKey,
      title: lead.title,
      province: lead.province,
      city: lead.city,
      industry: lead.industry,
      companySize: lead.companySize,
      companySizeText: lead.companySizeText,
      budget: lead.budget,
      budgetText: lead.budgetText,
      need: lead.need,
      campaign: lead.campaign,
      keyword: lead.keyword,
      landingPage: lead.landingPage,
      remark: lead.remark,
      externalId: lead.externalId,
      tags: lead.tags,
      custom: lead.custom,
      id: leadId,
      sourceId,
      score: fit.score,
      fitScore: fit.fitScore,
      behaviourScore: 0,
      grade: fit.grade,
      createdAt: now,
      updatedAt: now,
      ...(input.retentionDays !== undefined
        ? { retainUntil: new Date(now.getTime() + input.retentionDays * 86_400_000) }
        : {}),
    },
    identities: input.keys.map((k) => ({ kind: k.kind, value: k.value, leadId, createdAt: now })),
    events: [
      {
        leadId,
        type: 'lead.created',
        actor: { type: 'source', id: sourceId },
        data: {
          sourceId,
          score: fit.score,
          grade: fit.grade,
          breakdown: fit.breakdown,
          ...input.note,
        },
      },
    ],
    timer: { effectKey: `lead:${leadId}:assign`, kind: SLA_TIMER_KINDS.assign, leadId, dueAt: { inMs: 0 } },
  };
}

/** What merging a duplicate reads of the lead it merges into. */
export type MergeTarget = MergeableLead & Pick<LeadRow, 'id' | 'sourceId' | 'behaviourScore' | 'grade'>;

/** The change a duplicate submission makes to the lead it matched. */
export interface DuplicateMerge {
  /** The fields it fills (never overwrites), and the new score. */
  set: Partial<LeadRow> & { score: number; fitScore: number; grade: string };
  /** Keys of the submission no lead holds yet: they now identify this lead too. */
  fresh: IdentityKey[];
  events: LeadEvent[];
}

/**
 * Merges a submission into `existing`, the lead with the smallest id among `matches` (several leads
 * can match: phone on one, e-mail on another; the oldest customer record wins). The submission fills
 * empty fields (PRODUCT.md 2), the lead is re-scored on its own source, and the timeline gets
 * `lead.duplicate` (plus `lead.grade_changed` when the grade moves).
 */
export function mergeDuplicate(
  existing: MergeTarget,
  input: {
    lead: NormalisedLead;
    keys: IdentityKey[];
    matches: IdentityMatch[];
    sourceId: string;
    now: Date;
    note?: Record<string, unknown>;
  },
  scoring: ScoringConfig,
): DuplicateMerge {
  const leadId = existing.id;
  const { patch, filled } = mergeSubmission(existing, input.lead);
  const merged = { ...fromLeadRow(existing), ...patch } as NormalisedLead;
  const fit = scoreLead(toScoringInput(merged, existing.sourceId), [], scoring, input.now);
  const score = fit.fitScore + existing.behaviourScore;
  const grade = gradeFor(score, scoring.grades);

  const known = new Set(input.matches.map((m) => `${m.kind}\u0000${m.value}`));
  const fresh = input.keys.filter((k) => !known.has(`${k.kind}\u0000${k.value}`));
  const otherLeads = [...new Set(input.matches.map((m) => m.leadId))].filter((id) => id !== leadId);
  const events: LeadEvent[] = [
    {
      leadId,
      type: 'lead.duplicate',
      actor: { type: 'source', id: input.sourceId },
      data: {
        sourceId: input.sourceId,
        matchedOn: [...new Set(input.matches.filter((m) => m.leadId === leadId).map((m) => m.kind))],
        filled,
        campaign: input.lead.campaign,
        keyword: input.lead.keyword,
        externalId: input.lead.externalId,
        ...(otherLeads.length > 0 ? { alsoMatched: otherLeads } : {}),
        ...input.note,
      },
    },
  ];
  if (grade !== existing.grade) {
    events.push({
      leadId,
      type: 'lead.grade_changed',
      actor: { type: 'source', id: input.sourceId },
      data: { from: existing.grade, to: grade, score, reason: 'duplicate_merged' },
    });
  }
  return { set: { ...patch, score, fitScore: fit.fitScore, grade }, fresh, events };
}
