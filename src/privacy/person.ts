import { and, eq, inArray, or } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { leadIdentities, leads } from '../db/schema';
import type { LeadRow } from '../leads/lead-record';
import { normaliseEmail, normalisePhone } from '../leads/normalise';
import { maskEmail, maskName, maskPhone } from '../lib/mask';

/** Who a deletion request is about: a phone, an e-mail or a lead, as the admin typed it. */
export interface PersonQuery {
  phone?: string;
  email?: string;
  leadId?: number;
}

/**
 * A string that identifies the person wherever it occurs in free text or JSON (inbox events, outbox
 * payloads, refused submissions), and what it is replaced with where the row itself must stay.
 */
export interface Needle {
  text: string;
  mask: string;
}

export class PersonQueryError extends Error {
  override name = 'PersonQueryError';
}

/** The E.164 phone and the lower-cased e-mail of the query, refusing what could match nothing. */
export function normaliseQuery(query: PersonQuery): { phone?: string; email?: string; leadId?: number } {
  const given = [query.phone, query.email, query.leadId].filter((v) => v !== undefined);
  if (given.length !== 1) throw new PersonQueryError('请给出 --phone、--email 或 --lead 中的一个');
  if (query.phone !== undefined) {
    const phone = normalisePhone(query.phone);
    if (!phone.ok) throw new PersonQueryError(phone.message);
    return { phone: phone.value };
  }
  if (query.email !== undefined) {
    const email = normaliseEmail(query.email);
    if (!email.ok) throw new PersonQueryError(email.message);
    return { email: email.value };
  }
  if (!Number.isSafeInteger(query.leadId) || query.leadId! <= 0) throw new PersonQueryError('线索编号无效');
  return { leadId: query.leadId! };
}

/** The mainland national number of an E.164 `+86…` phone (what people type and chat apps show). */
function nationalOf(phone: string): string | null {
  return phone.startsWith('+86') ? phone.slice(3) : null;
}

/**
 * Every lead of the person: by the lead id, or the phone or e-mail in the lead's columns or its
 * identities (the WeChat field may hold the phone too), then again by the phones and e-mails those
 * leads have (one person, several submissions with different details), up to a few rounds.
 */
export async function findPersonLeads(db: Executor, query: PersonQuery): Promise<LeadRow[]> {
  const start = normaliseQuery(query);
  const found = new Map<number, LeadRow>();
  const phones = new Set<string>(start.phone ? [start.phone] : []);
  const emails = new Set<string>(start.email ? [start.email] : []);
  if (start.leadId !== undefined) {
    const [lead] = await db.select().from(leads).where(eq(leads.id, start.leadId));
    if (!lead) throw new PersonQueryError(`线索 #${start.leadId} 不存在`);
    found.set(lead.id, lead);
    if (lead.phone) phones.add(lead.phone);
    if (lead.email) emails.add(lead.email);
  }
  for (let round = 0; round < 4; round++) {
    const before = found.size;
    const phoneList = [...phones];
    const emailList = [...emails];
    const wechats = phoneList.map(nationalOf).filter((v): v is string => v !== null);
    const conditions = [
      ...(phoneList.length ? [inArray(leads.phone, phoneList)] : []),
      ...(emailList.length ? [inArray(leads.email, emailList)] : []),
      ...(wechats.length ? [inArray(leads.wechat, wechats)] : []),
    ];
    const identityConditions = [
      ...(phoneList.length
        ? [and(eq(leadIdentities.kind, 'phone'), inArray(leadIdentities.value, phoneList))]
        : []),
      ...(emailList.length
        ? [and(eq(leadIdentities.kind, 'email'), inArray(leadIdentities.value, emailList))]
        : []),
      ...(wechats.length
        ? [and(eq(leadIdentities.kind, 'wechat'), inArray(leadIdentities.value, wechats))]
        : []),
    ];
    if (identityConditions.length > 0) {
      const ids = await db
        .select({ leadId: leadIdentities.leadId })
        .from(leadIdentities)
        .where(or(...identityConditions));
      if (ids.length > 0)
        conditions.push(
          inArray(
            leads.id,
            ids.map((r) => r.leadId),
          ),
        );
    }
    if (conditions.length === 0) break;
    for (const lead of await db
      .select()
      .from(leads)
      .where(or(...conditions))) {
      found.set(lead.id, lead);
      if (lead.phone) phones.add(lead.phone);
      if (lead.email) emails.add(lead.email);
    }
    if (found.size === before) break;
  }
  return [...found.values()].sort((a, b) => a.id - b.id);
}

/**
 * The strings that identify the person in free text: the names, phones (E.164 and national),
 * e-mails and WeChat ids of their leads, plus what the admin asked for. Short names (one character)
 * are left out: they would match too much.
 */
export function needlesOf(
  people: readonly Pick<LeadRow, 'name' | 'phone' | 'email' | 'wechat'>[],
  query: PersonQuery = {},
): Needle[] {
  const out = new Map<string, string>();
  const add = (text: string | null | undefined, mask: (s: string) => string, min: number) => {
    const t = text?.trim();
    if (t && Array.from(t).length >= min) out.set(t, mask(t));
  };
  for (const p of [
    ...people,
    { name: null, phone: query.phone ?? null, email: query.email ?? null, wechat: null },
  ]) {
    add(p.name, maskName, 2);
    add(p.phone, maskPhone, 7);
    add(p.phone ? nationalOf(p.phone) : null, maskPhone, 7);
    add(p.email, maskEmail, 3);
    add(p.wechat, (w) => `${w.slice(0, 1)}***`, 6);
  }
  // Longest first, so `+8613812345678` is replaced before `13812345678` inside it.
  return [...out].sort((a, b) => b[0].length - a[0].length).map(([text, mask]) => ({ text, mask }));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces every needle in `text`; returns the text unchanged when none occurs. A phone number is
 * replaced only where it stands alone, never inside a longer run of digits (a message id).
 */
export function redactNeedles(text: string, needles: readonly Needle[]): string {
  let out = text;
  for (const { text: needle, mask } of needles) {
    if (!out.includes(needle)) continue;
    const pattern = /^\+?\d+$/.test(needle)
      ? new RegExp(`(?<!\\d)${escapeRegExp(needle)}(?!\\d)`, 'g')
      : new RegExp(escapeRegExp(needle), 'g');
    out = out.replace(pattern, mask);
  }
  return out;
}
