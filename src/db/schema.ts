import { sql } from 'drizzle-orm';
import {
  bigint,
  char,
  index,
  int,
  mysqlTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { json, mediumBlob, utc } from './columns';
import { deliveryTables } from './schema-delivery';
import { timerTables } from './schema-timers';

export const leads = mysqlTable(
  'leads',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    sourceId: varchar('source_id', { length: 64 }).notNull(),
    /** new → contacted → qualified → opportunity → won / lost, plus nurture (PRODUCT.md 9). */
    stage: varchar('stage', { length: 16 }).notNull().default('new'),
    teamId: varchar('team_id', { length: 64 }),
    /** The member the lead is offered to (claim card sent), until claimed or rerouted. */
    assigneeId: varchar('assignee_id', { length: 64 }),
    assignedAt: utc('assigned_at'),
    /** The member who claimed the lead and owns it. */
    ownerId: varchar('owner_id', { length: 64 }),
    claimedAt: utc('claimed_at'),
    /** Optimistic-concurrency version, bumped by every state change. */
    version: int('version').notNull().default(1),

    name: varchar('name', { length: 128 }),
    phone: varchar('phone', { length: 32 }),
    email: varchar('email', { length: 254 }),
    wechat: varchar('wechat', { length: 64 }),
    company: varchar('company', { length: 255 }),
    companyKey: varchar('company_key', { length: 191 }),
    title: varchar('title', { length: 128 }),
    province: varchar('province', { length: 64 }),
    city: varchar('city', { length: 64 }),
    industry: varchar('industry', { length: 64 }),
    companySize: int('company_size'),
    companySizeText: varchar('company_size_text', { length: 64 }),
    budget: bigint('budget', { mode: 'number' }),
    budgetText: varchar('budget_text', { length: 64 }),
    need: text('need'),
    campaign: varchar('campaign', { length: 255 }),
    keyword: varchar('keyword', { length: 255 }),
    landingPage: varchar('landing_page', { length: 2048 }),
    remark: text('remark'),
    externalId: varchar('external_id', { length: 191 }),
    tags: json<string[]>('tags').notNull(),
    custom: json<Record<string, string | number | boolean | null>>('custom').notNull(),

    /** BANT (PRODUCT.md 8–9): filled from `决策人：王总` / `时间：Q3` lines in notes; budget and need above. */
    authority: varchar('authority', { length: 128 }),
    purchaseTimeline: varchar('purchase_timeline', { length: 128 }),
    /** Set when the stage becomes won (yuan) or lost (one of `stages.lostReasons`). */
    wonAmount: bigint('won_amount', { mode: 'number' }),
    lostReason: varchar('lost_reason', { length: 64 }),
    lostDetail: varchar('lost_detail', { length: 255 }),
    /**
     * When the lead entered its current stage (stagnation counts from here): the time of its last
     * `lead.stage_changed` event, set with it (leads/stage-change.ts). The reports rely on that: a
     * team's stage changes in a period are those of its leads with stage_changed_at after the start.
     */
    stageChangedAt: utc('stage_changed_at'),
    /** When the lead was won or lost. */
    closedAt: utc('closed_at'),

    /**
     * Personal data is kept until then (`privacy.retentionDays` after the last submission; PIPL), then
     * the daily purge anonymises the lead (src/privacy). NULL on rows from before the column: the purge
     * counts from created_at for them.
     */
    retainUntil: utc('retain_until'),
    /** When the purge removed the personal data; the row stays, without it, for the figures. */
    anonymisedAt: utc('anonymised_at'),

    /**
     * Report rollups (src/leads/timeline-rollups.ts): what the reports need of a lead's timeline, kept
     * on the lead by `appendEvents` in the transaction that appends the events, so a cohort's figures
     * read one row per lead instead of its events. Definitions in src/reports/figures-types.ts.
     *
     * Every stage a `lead.stage_changed` event has named (`data.from` / `data.to`), one bit per stage
     * in `STAGES` order (new 1, contacted 2, … nurture 64); the current stage is added when read.
     */
    stagesReached: smallint('stages_reached', { unsigned: true }).notNull().default(0),
    /** The first `lead.assigned`: when, and its `data.memberId`. */
    firstAssignedAt: utc('first_assigned_at'),
    firstAssigneeId: varchar('first_assignee_id', { length: 64 }),
    /** The latest `lead.assigned` / `lead.rerouted` (the offer a claim answers). */
    lastOfferedAt: utc('last_offered_at'),
    /** The first `lead.claimed`: when, its actor, and `lastOfferedAt` as it stood then. */
    firstClaimedAt: utc('first_claimed_at'),
    firstClaimedBy: varchar('first_claimed_by', { length: 64 }),
    firstClaimOfferedAt: utc('first_claim_offered_at'),
    /** The first follow-up by a member (`lead.note_added`, `lead.followed_up`, `lead.stage_changed`). */
    firstResponseAt: utc('first_response_at'),
    firstResponseBy: varchar('first_response_by', { length: 64 }),

    score: int('score').notNull().default(0),
    fitScore: int('fit_score').notNull().default(0),
    behaviourScore: int('behaviour_score').notNull().default(0),
    grade: char('grade', { length: 1 }).notNull().default('C'),

    createdAt: utc('created_at').notNull(),
    updatedAt: utc('updated_at').notNull(),
  },
  (t) => [
    // (team_id, stage) for the pool and the open pipeline; closed_at for losses and win rates in a period
    // (src/reports); budget so the forecast sums a team's open pipeline from the index alone.
    // stages_reached: the forecast's win rates from the index alone.
    index('leads_team_stage_closed_idx').on(t.teamId, t.stage, t.closedAt, t.budget, t.stagesReached),
    index('leads_owner_stage_idx').on(t.ownerId, t.stage),
    // Member load (open leads, today's assignments) reads only this index (routing/member-load.ts).
    index('leads_assignee_load_idx').on(t.assigneeId, t.ownerId, t.stage, t.assignedAt),
    index('leads_company_key_idx').on(t.companyKey),
    index('leads_source_created_idx').on(t.sourceId, t.createdAt),
    index('leads_created_idx').on(t.createdAt),
    // Reports over every team (src/reports): closings in a period, and the open pipeline from the index.
    // A team's cohort with everything its report figures read (funnel, channels, claims and first
    // responses: src/reports), so a month's cohort is a range of this index, not its scattered rows.
    index('leads_team_created_idx').on(
      t.teamId,
      t.createdAt,
      t.sourceId,
      t.stage,
      t.stagesReached,
      t.wonAmount,
      t.grade,
      t.firstAssigneeId,
      t.firstClaimedBy,
      t.firstClaimedAt,
      t.firstClaimOfferedAt,
      t.firstResponseBy,
      t.firstResponseAt,
    ),
    index('leads_stage_closed_idx').on(t.stage, t.closedAt, t.budget),
    // The daily purge: leads past their retention date, not yet anonymised.
    index('leads_retention_idx').on(t.anonymisedAt, t.retainUntil),
    // A team's leads whose stage changed since a moment (stage stays in src/reports), from the index alone.
    index('leads_team_stage_changed_idx').on(t.teamId, t.stageChangedAt, t.createdAt),
  ],
);

/**
 * Dedupe identities. The primary key (kind, value) is what makes two simultaneous submissions of the
 * same person end as one lead: the second INSERT fails or waits, never a read-then-write race.
 */
export const leadIdentities = mysqlTable(
  'lead_identities',
  {
    kind: varchar('kind', { length: 24 }).notNull(),
    value: varchar('value', { length: 191 }).notNull(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    createdAt: utc('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.value] }), index('lead_identities_lead_idx').on(t.leadId)],
);

/** `data.from` / `data.to` of a `lead.stage_changed` event; longer than a stage can be is cut, never refused. */
function stageOf(path: '$.from' | '$.to') {
  return sql.raw(
    `(case when \`type\` = 'lead.stage_changed' then left(json_unquote(json_extract(\`data\`, '${path}')), 32) end)`,
  );
}

/** The lead timeline: every change is an event row (`lead.created`, `lead.duplicate`, …). */
export const leadEvents = mysqlTable(
  'lead_events',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    type: varchar('type', { length: 64 }).notNull(),
    /** 'source' | 'member' | 'system' | 'admin' */
    actorType: varchar('actor_type', { length: 16 }).notNull(),
    actorId: varchar('actor_id', { length: 64 }),
    data: json<Record<string, unknown>>('data').notNull(),
    createdAt: utc('created_at').notNull(),
    /**
     * A stage change's `data.from` / `data.to`, NULL on every other event: virtual (computed, never
     * written) and kept in `lead_events_type_lead_idx`, so the reports read a lead's stage history
     * from that index alone instead of fetching each event's JSON (src/reports/figures-sql.ts).
     */
    stageFrom: varchar('stage_from', { length: 32 }).generatedAlwaysAs(stageOf('$.from'), {
      mode: 'virtual',
    }),
    stageTo: varchar('stage_to', { length: 32 }).generatedAlwaysAs(stageOf('$.to'), { mode: 'virtual' }),
  },
  (t) => [
    // A lead's timeline in order, with what the reports ask of each event besides its JSON (type,
    // actor type, time): claims and first responses of a cohort from the index alone.
    index('lead_events_timeline_idx').on(t.leadId, t.id, t.type, t.actorType, t.createdAt),
    index('lead_events_type_created_idx').on(t.type, t.createdAt),
    // One type's events of a lead in id order with what the reports need of them: a lead's stage
    // history (and the change before a given one) from the index alone. Type first, so the stage
    // changes of neighbouring leads share pages (a fifth of the events, dense in the buffer pool).
    index('lead_events_type_lead_idx').on(t.type, t.leadId, t.id, t.stageFrom, t.stageTo, t.createdAt),
  ],
);

/** Behaviour events reported through the activity API; they feed behaviour scoring. */
export const activities = mysqlTable(
  'activities',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    type: varchar('type', { length: 64 }).notNull(),
    sourceId: varchar('source_id', { length: 64 }),
    occurredAt: utc('occurred_at').notNull(),
    data: json<Record<string, unknown>>('data').notNull(),
    createdAt: utc('created_at').notNull(),
  },
  (t) => [index('activities_lead_type_idx').on(t.leadId, t.type, t.occurredAt)],
);

/** One row per issued API key. Only the SHA-256 of the key is stored; the key is shown once. */
export const sourceApiKeys = mysqlTable(
  'source_api_keys',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    sourceId: varchar('source_id', { length: 64 }).notNull(),
    keyHash: char('key_hash', { length: 64 }).notNull(),
    /** First characters of the key, to tell keys apart in listings. */
    keyPrefix: varchar('key_prefix', { length: 16 }).notNull(),
    label: varchar('label', { length: 128 }),
    createdAt: utc('created_at').notNull(),
    revokedAt: utc('revoked_at'),
  },
  (t) => [
    uniqueIndex('source_api_keys_hash_uq').on(t.keyHash),
    index('source_api_keys_source_idx').on(t.sourceId),
  ],
);

/**
 * `Idempotency-Key` records: the same key and body within 24 h get the stored answer; the same key
 * with another body gets 409. Written in the intake transaction, so a crash leaves no half record.
 */
export const idempotencyKeys = mysqlTable(
  'idempotency_keys',
  {
    sourceId: varchar('source_id', { length: 64 }).notNull(),
    idemKey: varchar('idem_key', { length: 191 }).notNull(),
    requestHash: char('request_hash', { length: 64 }).notNull(),
    statusCode: smallint('status_code').notNull(),
    response: json<Record<string, unknown>>('response').notNull(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }),
    createdAt: utc('created_at').notNull(),
    expiresAt: utc('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sourceId, t.idemKey] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);

/**
 * Intake payloads we refused (malformed JSON, schema or normalisation errors). Kept byte-for-byte so
 * nothing is lost: `leadrelay intake replay` re-submits them once fixed.
 */
export const rejectedPayloads = mysqlTable(
  'rejected_payloads',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    sourceId: varchar('source_id', { length: 64 }),
    /** 'pending' | 'replayed' | 'discarded' */
    status: varchar('status', { length: 16 }).notNull().default('pending'),
    reasonCode: varchar('reason_code', { length: 64 }).notNull(),
    issues: json<{ path: string; message: string }[]>('issues').notNull(),
    contentType: varchar('content_type', { length: 128 }),
    idempotencyKey: varchar('idempotency_key', { length: 191 }),
    requestId: varchar('request_id', { length: 64 }),
    body: mediumBlob('body').notNull(),
    replayCount: int('replay_count').notNull().default(0),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }),
    receivedAt: utc('received_at').notNull(),
    updatedAt: utc('updated_at').notNull(),
  },
  (t) => [index('rejected_payloads_status_idx').on(t.status, t.id)],
);

/**
 * Follow-up notes typed in chat (PRODUCT.md 8). `(platform, source_message_id)` is unique, so a
 * callback the platform delivers twice records one note (RELIABILITY.md, inbound idempotency).
 */
export const leadNotes = mysqlTable(
  'lead_notes',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    memberId: varchar('member_id', { length: 64 }).notNull(),
    text: text('text').notNull(),
    /** BANT fields the note filled, as parsed. */
    fields: json<Record<string, string | number>>('fields').notNull(),
    /** 'wecom' | 'dingtalk' | 'card' | 'api' */
    platform: varchar('platform', { length: 16 }).notNull(),
    sourceMessageId: varchar('source_message_id', { length: 128 }).notNull(),
    createdAt: utc('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('lead_notes_source_uq').on(t.platform, t.sourceMessageId),
    index('lead_notes_lead_idx').on(t.leadId, t.id),
  ],
);

/**
 * A member's current lead: the lead of the last card they were sent or acted on, or the last lead
 * they named (`#123`). Free text without an id is a note on it while it is fresh
 * (`conversation.contextWindow`).
 */
export const memberFocus = mysqlTable('member_focus', {
  memberId: varchar('member_id', { length: 64 }).primaryKey(),
  leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
  updatedAt: utc('updated_at').notNull(),
});

/**
 * Channel costs entered for reports (config `channelCosts` or `POST /api/v1/channel-costs`): the
 * amount spent on a channel over a period, prorated by day into any report period.
 */
export const channelCosts = mysqlTable(
  'channel_costs',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    channel: varchar('channel', { length: 64 }).notNull(),
    /** Inclusive start and exclusive end (UTC instants of local midnights). */
    periodStart: utc('period_start').notNull(),
    periodEnd: utc('period_end').notNull(),
    /** Yuan. */
    amount: bigint('amount', { mode: 'number' }).notNull(),
    note: varchar('note', { length: 255 }),
    createdAt: utc('created_at').notNull(),
  },
  (t) => [index('channel_costs_channel_idx').on(t.channel, t.periodStart)],
);

/**
 * Report rollup (src/leads/timeline-rollups.ts): each member who has claimed the lead (a
 * `lead.claimed` event with them as actor), once, so the reps report counts a cohort's claimers
 * without reading its events.
 */
export const leadClaimers = mysqlTable(
  'lead_claimers',
  {
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    memberId: varchar('member_id', { length: 64 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.leadId, t.memberId] })],
);

/**
 * Report rollup (src/leads/timeline-rollups.ts): the timeline events the period figures count
 * (stage changes, SLA events, recycling), each with its lead's current team and what the figures
 * need of it, so a team's period reads a range of one index instead of every team's events and their
 * leads. `team_id` follows the lead's (assign-lead.ts syncs it when the team changes).
 */
export const reportEvents = mysqlTable(
  'report_events',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }).notNull(),
    teamId: varchar('team_id', { length: 64 }),
    type: varchar('type', { length: 64 }).notNull(),
    /** The event's time. */
    createdAt: utc('created_at').notNull(),
    /** A stage change's `data.from`: the stage it left. */
    stageLeft: varchar('stage_left', { length: 32 }),
    /** A stage change's stay: from the lead's previous stage change (or its creation) to it, in µs. */
    stayMicros: bigint('stay_micros', { mode: 'number' }),
    /** An `sla.reminded` / `sla.escalated` event's `data.ladder`. */
    ladder: varchar('ladder', { length: 32 }),
  },
  (t) => [
    index('report_events_team_idx').on(
      t.teamId,
      t.type,
      t.createdAt,
      t.leadId,
      t.stageLeft,
      t.stayMicros,
      t.ladder,
    ),
    index('report_events_type_idx').on(t.type, t.createdAt, t.leadId, t.stageLeft, t.stayMicros, t.ladder),
    index('report_events_lead_idx').on(t.leadId),
  ],
);

/**
 * One row per team, digest kind and period: the primary key is what makes several instances send a
 * digest once (the first INSERT wins; the others see the row and do nothing).
 */
export const digestRuns = mysqlTable(
  'digest_runs',
  {
    teamId: varchar('team_id', { length: 64 }).notNull(),
    /** 'daily' | 'weekly' */
    kind: varchar('kind', { length: 16 }).notNull(),
    /** The local date of the period's start: `2026-11-21` (daily) or the Monday (weekly). */
    periodKey: varchar('period_key', { length: 16 }).notNull(),
    /** Sent after its scheduled time (the service was down then). */
    late: int('late').notNull().default(0),
    instance: varchar('instance', { length: 64 }),
    createdAt: utc('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.kind, t.periodKey] })],
);

export * from './schema-delivery';
export * from './schema-timers';

export const schemaTables = {
  leads,
  leadIdentities,
  leadEvents,
  leadClaimers,
  reportEvents,
  activities,
  sourceApiKeys,
  idempotencyKeys,
  rejectedPayloads,
  leadNotes,
  memberFocus,
  channelCosts,
  digestRuns,
  ...deliveryTables,
  ...timerTables,
};

/** `NOW(3)`: the database clock, for due-checks several instances must agree on. */
export const dbNow = sql`NOW(3)`;
