import { and, eq, inArray, isNull, ne, or, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import {
  activities,
  cards,
  cardUpdateTokens,
  idempotencyKeys,
  inboxEvents,
  leadClaimers,
  leadEvents,
  leadIdentities,
  leadNotes,
  leads,
  memberFocus,
  outbox,
  rejectedPayloads,
  reportEvents,
  timers,
} from '../db/schema';
import type { LeadRow } from '../leads/lead-record';
import { normaliseEmail, normalisePhone } from '../leads/normalise';
import { type Needle, redactNeedles } from './person';

/**
 * Removes a person's data (RELIABILITY.md "Authorization and personal data" 4; PIPL art. 47) from
 * every table, inside the caller's transaction:
 *
 * | table | what refers to the person | erase | anonymise (retention) |
 * | --- | --- | --- | --- |
 * | leads | the rows | deleted | personal columns cleared, kept for the figures |
 * | lead_events | lead_id | deleted | data reduced to its non-personal keys |
 * | lead_notes, lead_identities, activities, timers, cards (+ card_update_tokens), idempotency_keys, member_focus | lead_id (card ids) | deleted | deleted |
 * | outbox | lead_id; other rows quoting the person | deleted; quotes masked | same |
 * | inbox_events | the messages that became the notes; others quoting the person | text removed; quotes masked | same |
 * | rejected_payloads | lead_id, or a body naming the person's phone, e-mail or name | deleted | deleted |
 *
 * Inbox rows are kept, emptied, rather than deleted: their unique key is what stops a platform's
 * late retry of the same message from being processed again. Returns what was done per table.
 *
 * Finding rows that merely quote the person (no lead id, e.g. a 我的 list) takes a scan of the inbox,
 * outbox and refused-submission tables: an erase (rare, on request) does it; the daily purge does not,
 * per lead, and instead removes every such row once it is older than the retention period
 * (purge.ts `sweepOldRecords`).
 */
export type RemovalMode = 'erase' | 'anonymise';

export type RemovalCounts = Record<string, { deleted: number; scrubbed: number }>;

/** Keys of `lead_events.data` that carry no personal data: kept when a lead is anonymised. */
const SAFE_EVENT_KEYS = new Set([
  'from',
  'to',
  'via',
  'amount',
  'reason',
  'teamId',
  'memberId',
  'hop',
  'rule',
  'score',
  'grade',
  'sourceId',
  'by',
  'level',
  'notify',
  'cardId',
  'for',
  'matchedOn',
  'filled',
  'alsoMatched',
  'noteId',
  'activityId',
  'points',
  'dueAt',
  'at',
  'round',
  'claimNo',
]);

/** `lead_events.data` with only its safe keys, and strings that quote the person masked. */
export function scrubEventData(
  data: Record<string, unknown>,
  needles: readonly Needle[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!SAFE_EVENT_KEYS.has(key)) continue;
    if (typeof value === 'string') out[key] = redactNeedles(value, needles).slice(0, 64);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === null) out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
      out[key] = value.map((v) => (typeof v === 'string' ? redactNeedles(v, needles) : v));
  }
  return out;
}

/** The lead columns that hold personal data (or free text that may): cleared when anonymising. */
const PERSONAL_COLUMNS = {
  name: null,
  phone: null,
  email: null,
  wechat: null,
  company: null,
  companyKey: null,
  title: null,
  need: null,
  keyword: null,
  landingPage: null,
  remark: null,
  externalId: null,
  authority: null,
  purchaseTimeline: null,
  budgetText: null,
  lostDetail: null,
} as const;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, '\\$&');

/** `column LIKE '%needle%'` for any needle (a candidate filter; the exact match is made in JS). */
function mentions(column: SQL | typeof outbox.message, needles: readonly Needle[]): SQL | undefined {
  if (needles.length === 0) return undefined;
  return or(...needles.map((n) => sql`CAST(${column} AS CHAR) LIKE ${`%${likeEscape(n.text)}%`}`));
}

/** True when a refused submission's body is about the person: its phone or e-mail, or a needle. */
function bodyIsAbout(
  body: Buffer,
  needles: readonly Needle[],
  phones: Set<string>,
  emails: Set<string>,
): boolean {
  const text = body.toString('utf8');
  if (needles.some((n) => redactNeedles(text, [n]) !== text)) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object') return false;
  const record = parsed as Record<string, unknown>;
  for (const field of ['phone', 'wechat']) {
    const value = record[field];
    if (typeof value !== 'string') continue;
    const phone = normalisePhone(value);
    if (phone.ok && phones.has(phone.value)) return true;
  }
  if (typeof record.email === 'string') {
    const email = normaliseEmail(record.email);
    if (email.ok && emails.has(email.value)) return true;
  }
  return false;
}

export async function removeLeadData(
  tx: Tx,
  input: { leads: readonly LeadRow[]; needles: readonly Needle[]; mode: RemovalMode; now: Date },
): Promise<RemovalCounts> {
  const ids = input.leads.map((l) => l.id);
  const counts: RemovalCounts = {};
  const count = (table: string, kind: 'deleted' | 'scrubbed', n: number) => {
    counts[table] ??= { deleted: 0, scrubbed: 0 };
    counts[table][kind] += n;
  };
  const affected = (result: unknown) => (result as [{ affectedRows: number }])[0].affectedRows;
  const { needles } = input;
  if (ids.length === 0) return counts;

  // The chat messages that became notes: their inbox rows lose the text (they stay, for dedupe).
  const noteSources = await tx
    .select({ platform: leadNotes.platform, messageId: leadNotes.sourceMessageId })
    .from(leadNotes)
    .where(inArray(leadNotes.leadId, ids));
  count('lead_notes', 'deleted', affected(await tx.delete(leadNotes).where(inArray(leadNotes.leadId, ids))));

  const cardIds = (await tx.select({ id: cards.id }).from(cards).where(inArray(cards.leadId, ids))).map(
    (c) => c.id,
  );
  if (cardIds.length > 0) {
    count(
      'card_update_tokens',
      'deleted',
      affected(await tx.delete(cardUpdateTokens).where(inArray(cardUpdateTokens.cardId, cardIds))),
    );
  }
  count('cards', 'deleted', affected(await tx.delete(cards).where(inArray(cards.leadId, ids))));

  // Inbox: the notes' source messages, then any other message quoting the person.
  const sourceConditions = noteSources.map((s) =>
    and(eq(inboxEvents.platform, s.platform), eq(inboxEvents.eventId, s.messageId)),
  );
  const scan = input.mode === 'erase';
  const quoting = scan ? mentions(sql`${inboxEvents.event}`, needles) : undefined;
  const inboxConditions = [...sourceConditions, ...(quoting ? [quoting] : [])];
  if (inboxConditions.length > 0) {
    const rows = await tx
      .select({
        id: inboxEvents.id,
        platform: inboxEvents.platform,
        eventId: inboxEvents.eventId,
        event: inboxEvents.event,
        status: inboxEvents.status,
      })
      .from(inboxEvents)
      .where(or(...inboxConditions));
    const sources = new Set(noteSources.map((s) => `${s.platform}\u0000${s.messageId}`));
    for (const row of rows) {
      const event = row.event as Record<string, unknown>;
      let next: Record<string, unknown>;
      if (sources.has(`${row.platform}\u0000${row.eventId}`)) {
        next = { ...event, text: '', erased: true };
      } else {
        const redacted = redactNeedles(JSON.stringify(event), needles);
        if (redacted === JSON.stringify(event)) continue;
        next = JSON.parse(redacted) as Record<string, unknown>;
      }
      await tx
        .update(inboxEvents)
        .set({
          event: next,
          // A message not processed yet would act on an erased lead: it is done.
          ...(row.status === 'done' ? {} : { status: 'done', processedAt: input.now, lastError: 'erased' }),
        })
        .where(eq(inboxEvents.id, row.id));
      count('inbox_events', 'scrubbed', 1);
    }
  }

  // Outbox: everything about the lead, sent or not; other rows that quote the person are masked.
  count('outbox', 'deleted', affected(await tx.delete(outbox).where(inArray(outbox.leadId, ids))));
  const outboxQuoting = scan
    ? [mentions(sql`${outbox.message}`, needles), mentions(sql`${outbox.renderedBody}`, needles)].filter(
        (c): c is SQL => c !== undefined,
      )
    : [];
  if (outboxQuoting.length > 0) {
    const rows = await tx
      .select({ id: outbox.id, message: outbox.message, renderedBody: outbox.renderedBody })
      .from(outbox)
      // A row being sent right now keeps its frozen bytes; it is masked by the next erase or purge.
      .where(and(or(...outboxQuoting), ne(outbox.status, 'sending')));
    for (const row of rows) {
      const message = JSON.parse(redactNeedles(JSON.stringify(row.message), needles)) as Record<
        string,
        unknown
      >;
      const renderedBody = row.renderedBody === null ? null : redactNeedles(row.renderedBody, needles);
      await tx.update(outbox).set({ message, renderedBody }).where(eq(outbox.id, row.id));
      count('outbox', 'scrubbed', 1);
    }
  }

  for (const [name, table, column] of [
    ['timers', timers, timers.leadId],
    ['activities', activities, activities.leadId],
    ['lead_identities', leadIdentities, leadIdentities.leadId],
    ['idempotency_keys', idempotencyKeys, idempotencyKeys.leadId],
    ['member_focus', memberFocus, memberFocus.leadId],
  ] as const) {
    count(name, 'deleted', affected(await tx.delete(table).where(inArray(column, ids))));
  }

  // Refused submissions: replayed into the lead, or naming the person's phone, e-mail or name.
  const phones = new Set(input.leads.map((l) => l.phone).filter((p): p is string => !!p));
  const emails = new Set(input.leads.map((l) => l.email).filter((e): e is string => !!e));
  const lastFours = [...phones].map((p) => p.slice(-4));
  const bodyMentions = scan ? mentions(sql`${rejectedPayloads.body}`, needles) : undefined;
  const candidates = [
    inArray(rejectedPayloads.leadId, ids),
    ...(bodyMentions ? [bodyMentions] : []),
    ...(scan ? lastFours.map((d) => sql`CAST(${rejectedPayloads.body} AS CHAR) LIKE ${`%${d}%`}`) : []),
    ...(scan
      ? [...emails].map(
          (e) => sql`LOWER(CAST(${rejectedPayloads.body} AS CHAR)) LIKE ${`%${likeEscape(e)}%`}`,
        )
      : []),
  ];
  const refused = await tx
    .select({ id: rejectedPayloads.id, leadId: rejectedPayloads.leadId, body: rejectedPayloads.body })
    .from(rejectedPayloads)
    .where(or(...candidates));
  const refusedIds = refused
    .filter(
      (r) => (r.leadId !== null && ids.includes(r.leadId)) || bodyIsAbout(r.body, needles, phones, emails),
    )
    .map((r) => r.id);
  if (refusedIds.length > 0) {
    count(
      'rejected_payloads',
      'deleted',
      affected(await tx.delete(rejectedPayloads).where(inArray(rejectedPayloads.id, refusedIds))),
    );
  }

  if (input.mode === 'erase') {
    count(
      'lead_events',
      'deleted',
      affected(await tx.delete(leadEvents).where(inArray(leadEvents.leadId, ids))),
    );
    count(
      'lead_claimers',
      'deleted',
      affected(await tx.delete(leadClaimers).where(inArray(leadClaimers.leadId, ids))),
    );
    count(
      'report_events',
      'deleted',
      affected(await tx.delete(reportEvents).where(inArray(reportEvents.leadId, ids))),
    );
    count('leads', 'deleted', affected(await tx.delete(leads).where(inArray(leads.id, ids))));
    return counts;
  }
  const events = await tx
    .select({ id: leadEvents.id, data: leadEvents.data })
    .from(leadEvents)
    .where(inArray(leadEvents.leadId, ids));
  for (const event of events) {
    const scrubbed = scrubEventData(event.data, needles);
    if (JSON.stringify(scrubbed) === JSON.stringify(event.data)) continue;
    await tx.update(leadEvents).set({ data: scrubbed }).where(eq(leadEvents.id, event.id));
    count('lead_events', 'scrubbed', 1);
  }
  count(
    'leads',
    'scrubbed',
    affected(
      await tx
        .update(leads)
        .set({
          ...PERSONAL_COLUMNS,
          tags: [],
          custom: {},
          retainUntil: null,
          anonymisedAt: input.now,
          updatedAt: input.now,
        })
        .where(and(inArray(leads.id, ids), isNull(leads.anonymisedAt))),
    ),
  );
  return counts;
}
