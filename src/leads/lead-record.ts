import type { leads } from '../db/schema';
import type { NormalisedLead, ScoringInput } from './types';

export type LeadRow = typeof leads.$inferSelect;

/** Fields copied between a normalised submission and the `leads` row, one to one. */
const SCALAR_FIELDS = [
  'name',
  'phone',
  'email',
  'wechat',
  'company',
  'companyKey',
  'title',
  'province',
  'city',
  'industry',
  'companySize',
  'companySizeText',
  'budget',
  'budgetText',
  'need',
  'campaign',
  'keyword',
  'landingPage',
  'remark',
  'externalId',
] as const satisfies readonly (keyof NormalisedLead & keyof LeadRow)[];

type ScalarField = (typeof SCALAR_FIELDS)[number];

/** The part of a lead row that merging and scoring read: its scalar fields, tags and custom fields. */
export type MergeableLead = Pick<LeadRow, ScalarField | 'tags' | 'custom'>;

export function toScoringInput(lead: NormalisedLead | LeadRow, sourceId: string): ScoringInput {
  const out = { source: sourceId, tags: lead.tags, custom: lead.custom } as ScoringInput;
  const target = out as unknown as Record<ScalarField, unknown>;
  for (const field of SCALAR_FIELDS) target[field] = lead[field];
  return out;
}

export function fromLeadRow(row: MergeableLead): NormalisedLead {
  const out = { tags: row.tags, custom: row.custom } as NormalisedLead;
  const target = out as unknown as Record<ScalarField, unknown>;
  for (const field of SCALAR_FIELDS) target[field] = row[field];
  return out;
}

/**
 * Merge rule for duplicates (PRODUCT.md 2): the new submission fills fields the lead does not have;
 * it never overwrites what is there (the owner may have corrected it). Tags are unioned, custom
 * fields filled key by key. Returns the patch and the names of the fields it filled.
 */
export function mergeSubmission(
  existing: MergeableLead,
  incoming: NormalisedLead,
): { patch: Partial<LeadRow>; filled: string[] } {
  const patch: Record<string, unknown> = {};
  const filled: string[] = [];
  for (const field of SCALAR_FIELDS) {
    const current = existing[field];
    const next = incoming[field];
    if ((current === null || current === '') && next !== null && next !== '') {
      patch[field] = next;
      if (field !== 'companyKey' && field !== 'companySizeText') filled.push(field);
    }
  }
  const newTags = incoming.tags.filter((t) => !existing.tags.includes(t));
  if (newTags.length > 0) {
    patch.tags = [...existing.tags, ...newTags].slice(0, 50);
    filled.push('tags');
  }
  const newCustom = Object.entries(incoming.custom).filter(([k]) => !(k in existing.custom));
  if (newCustom.length > 0) {
    patch.custom = { ...existing.custom, ...Object.fromEntries(newCustom) };
    filled.push(...newCustom.map(([k]) => `custom.${k}`));
  }
  return { patch: patch as Partial<LeadRow>, filled };
}
