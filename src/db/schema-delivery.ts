import { bigint, index, int, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { json, mediumText, utc } from './columns';

/**
 * Outbound messages (RELIABILITY.md "Outbound delivery"). A row is written in the same transaction
 * as the change that causes it; `dedupe_key` makes the effect happen once however often the change
 * is retried; the rendered request is frozen at the first attempt so every retry sends the same bytes.
 */
export const outbox = mysqlTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    dedupeKey: varchar('dedupe_key', { length: 191 }).notNull(),
    platform: varchar('platform', { length: 16 }).notNull(),
    kind: varchar('kind', { length: 24 }).notNull(),
    /** The neutral OutboundMessage (platforms/types.ts). */
    message: json<Record<string, unknown>>('message').notNull(),
    renderedApi: varchar('rendered_api', { length: 64 }),
    renderedBody: mediumText('rendered_body'),
    renderedTarget: varchar('rendered_target', { length: 191 }),
    pacingTarget: varchar('pacing_target', { length: 191 }),
    /** pending | sending | sent | dead | maybe_sent */
    status: varchar('status', { length: 16 }).notNull().default('pending'),
    attempts: int('attempts').notNull().default(0),
    nextAttemptAt: utc('next_attempt_at').notNull(),
    /** Fencing token of the current claim: completing a row requires it to still match. */
    leaseToken: varchar('lease_token', { length: 32 }),
    leaseUntil: utc('lease_until'),
    firstAttemptAt: utc('first_attempt_at'),
    lastError: varchar('last_error', { length: 512 }),
    result: json<Record<string, unknown>>('result'),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }),
    cardId: varchar('card_id', { length: 128 }),
    createdAt: utc('created_at').notNull(),
    sentAt: utc('sent_at'),
  },
  (t) => [
    uniqueIndex('outbox_dedupe_uq').on(t.dedupeKey),
    index('outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('outbox_lease_idx').on(t.status, t.leaseUntil),
    index('outbox_lead_idx').on(t.leadId),
  ],
);

/**
 * Every send attempt per pacing target (a member, a group robot), so several instances share one
 * view of the platforms' rate limits: the excess waits, it is never dropped.
 */
export const outboxAttempts = mysqlTable(
  'outbox_attempts',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    pacingTarget: varchar('pacing_target', { length: 191 }).notNull(),
    outboxId: bigint('outbox_id', { mode: 'number', unsigned: true }).notNull(),
    attemptedAt: utc('attempted_at').notNull(),
  },
  (t) => [index('outbox_attempts_target_idx').on(t.pacingTarget, t.attemptedAt)],
);

/** One row per pacing target, locked while a claim counts its recent attempts (serialises them). */
export const pacingTargets = mysqlTable('pacing_targets', {
  target: varchar('target', { length: 191 }).primaryKey(),
});

/**
 * Verified inbound callbacks. The unique key (platform, app, event id) drops the platforms' retries;
 * rows are processed after the 200 is sent, and a sweeper finishes what a crash left.
 */
export const inboxEvents = mysqlTable(
  'inbox_events',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    platform: varchar('platform', { length: 16 }).notNull(),
    appId: varchar('app_id', { length: 64 }).notNull(),
    eventId: varchar('event_id', { length: 191 }).notNull(),
    kind: varchar('kind', { length: 24 }).notNull(),
    /** The normalised InboundEvent (never the raw body). */
    event: json<Record<string, unknown>>('event').notNull(),
    /** received | done | failed */
    status: varchar('status', { length: 16 }).notNull().default('received'),
    attempts: int('attempts').notNull().default(0),
    leaseToken: varchar('lease_token', { length: 32 }),
    leaseUntil: utc('lease_until'),
    lastError: varchar('last_error', { length: 512 }),
    receivedAt: utc('received_at').notNull(),
    processedAt: utc('processed_at'),
  },
  (t) => [
    uniqueIndex('inbox_events_uq').on(t.platform, t.appId, t.eventId),
    index('inbox_events_status_idx').on(t.status, t.receivedAt),
  ],
);

/** Cards we sent: maps a card id (WeCom task_id) back to its lead and tracks whether it is settled. */
export const cards = mysqlTable(
  'cards',
  {
    id: varchar('id', { length: 128 }).primaryKey(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    template: varchar('template', { length: 64 }).notNull(),
    platform: varchar('platform', { length: 16 }).notNull(),
    /** Member ids the card was sent to. */
    recipients: json<string[]>('recipients').notNull(),
    /**
     * The member for whom this card makes its lead the current one (a new-lead, reminder, escalation
     * or detail card to one person); null for cards to many (pool offers). See conversation/focus.ts.
     */
    focusMemberId: varchar('focus_member_id', { length: 64 }),
    /** open | settled */
    status: varchar('status', { length: 16 }).notNull().default('open'),
    createdAt: utc('created_at').notNull(),
    settledAt: utc('settled_at'),
  },
  (t) => [index('cards_lead_idx').on(t.leadId), index('cards_focus_idx').on(t.focusMemberId, t.createdAt)],
);

/**
 * The latest card-update token per card and user (WeCom response_code: single use, 72 h). The send
 * answer and every click carry a fresh one.
 */
export const cardUpdateTokens = mysqlTable(
  'card_update_tokens',
  {
    cardId: varchar('card_id', { length: 128 }).notNull(),
    userId: varchar('user_id', { length: 64 }).notNull(),
    token: varchar('token', { length: 255 }).notNull(),
    issuedAt: utc('issued_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.cardId, t.userId] })],
);

/**
 * The `user_id` under which a card posted once to a group chat (a DingTalk pool offer) keeps the token
 * of its send answer: it updates the card as the whole group sees it, whoever the update is for.
 */
export const GROUP_CARD_TOKEN_HOLDER = '#group';

/**
 * Id blocks (hi/lo): an instance reserves a range of lead ids with one UPDATE and hands them out from
 * memory, so the intake knows a lead's id before its transaction and can send it in one round trip.
 */
export const idBlocks = mysqlTable('id_blocks', {
  name: varchar('name', { length: 32 }).primaryKey(),
  nextId: bigint('next_id', { mode: 'number', unsigned: true }).notNull(),
});

export const deliveryTables = {
  outbox,
  outboxAttempts,
  pacingTargets,
  inboxEvents,
  cards,
  cardUpdateTokens,
  idBlocks,
};
