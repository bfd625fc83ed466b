/**
 * What the intake API accepts (after zod parsing) and what normalisation produces. Field names are
 * camelCase in JSON; the database uses snake_case columns.
 */
export interface LeadInput {
  name?: string;
  phone?: string;
  email?: string;
  wechat?: string;
  company?: string;
  title?: string;
  province?: string;
  city?: string;
  industry?: string;
  /** Employees: a number, or text such as "100-499人" (the lower bound is used for ranges). */
  companySize?: number | string;
  /** Yuan: a number, or text such as "50万", "¥80,000", "1.5亿". */
  budget?: number | string;
  need?: string;
  campaign?: string;
  keyword?: string;
  landingPage?: string;
  remark?: string;
  externalId?: string;
  tags?: string[];
  custom?: Record<string, string | number | boolean | null>;
}

/** Normalised contact and company fields, plus what dedupe and scoring read. */
export interface NormalisedLead {
  name: string | null;
  /** E.164, e.g. "+8613812345678". */
  phone: string | null;
  email: string | null;
  /** Trimmed, lower-cased WeChat id. */
  wechat: string | null;
  /** As given, trimmed, full-width folded to half-width. */
  company: string | null;
  /** Matching key: legal suffixes, spaces and punctuation removed, lower-cased. Null if empty. */
  companyKey: string | null;
  title: string | null;
  province: string | null;
  city: string | null;
  industry: string | null;
  companySize: number | null;
  companySizeText: string | null;
  budget: number | null;
  /** The budget as written when it was text (kept even when it could not be read as an amount). */
  budgetText: string | null;
  need: string | null;
  campaign: string | null;
  keyword: string | null;
  landingPage: string | null;
  remark: string | null;
  externalId: string | null;
  tags: string[];
  custom: Record<string, string | number | boolean | null>;
}

/** Fields scoring rules may name (plus `custom.<key>`). */
export interface ScoringInput extends NormalisedLead {
  source: string;
}
