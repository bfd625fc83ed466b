import { fitKeyLength, MAX_KEY_LENGTH, toHalfWidth } from './normalise';
import type { NormalisedLead } from './types';

/**
 * Keys under which a lead is looked up to find an earlier lead of the same person. Each kind is
 * matched only against the same kind: a WeChat id that happens to be a phone number is a `wechat`
 * key, because the two fields are not guaranteed to belong to the same account.
 */
export type DedupeKind = 'phone' | 'email' | 'wechat' | 'company_contact';

export interface DedupeKey {
  kind: DedupeKind;
  value: string;
}

/** Key values are stored in a VARCHAR(191) column; longer ones become `sha256:<hex>`. */
export const MAX_DEDUPE_VALUE_LENGTH = MAX_KEY_LENGTH;

/** Name as compared for company_contact: folded, whitespace removed, lower-cased. */
export function nameMatchKey(name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null;
  const key = toHalfWidth(name).replace(/\s+/g, '').toLowerCase();
  return key === '' ? null : key;
}

/**
 * Phone, email and WeChat as their normalised values, plus `company_contact` =
 * `<companyKey>|<name key>` when both are present (company keys never contain `|`, so the split is
 * unambiguous). The company alone is not a key: many people work at one company.
 */
export function dedupeKeys(lead: NormalisedLead): DedupeKey[] {
  const keys: DedupeKey[] = [];
  if (lead.phone) keys.push({ kind: 'phone', value: fitKeyLength(lead.phone) });
  if (lead.email) keys.push({ kind: 'email', value: fitKeyLength(lead.email) });
  if (lead.wechat) keys.push({ kind: 'wechat', value: fitKeyLength(lead.wechat) });
  const name = nameMatchKey(lead.name);
  if (lead.companyKey && name) {
    keys.push({ kind: 'company_contact', value: fitKeyLength(`${lead.companyKey}|${name}`) });
  }
  return keys;
}
