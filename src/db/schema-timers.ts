import { bigint, index, int, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { json, utc } from './columns';

/**
 * Time is data (ARCHITECTURE.md): SLA deadlines, reminders and recycling are rows with a due time.
 * `effect_key` (e.g. `lead:42:escalate:L2`) is unique, so scheduling the same effect twice, from any
 * instance, makes one row; a fired row keeps its key, so the effect cannot happen again.
 */
export const timers = mysqlTable(
  'timers',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    effectKey: varchar('effect_key', { length: 191 }).notNull(),
    kind: varchar('kind', { length: 48 }).notNull(),
    leadId: bigint('lead_id', { mode: 'number', unsigned: true }),
    payload: json<Record<string, unknown>>('payload').notNull(),
    dueAt: utc('due_at').notNull(),
    /** pending | firing | done | cancelled | failed */
    status: varchar('status', { length: 16 }).notNull().default('pending'),
    attempts: int('attempts').notNull().default(0),
    leaseToken: varchar('lease_token', { length: 32 }),
    leaseUntil: utc('lease_until'),
    lastError: varchar('last_error', { length: 512 }),
    createdAt: utc('created_at').notNull(),
    firedAt: utc('fired_at'),
  },
  (t) => [
    uniqueIndex('timers_effect_uq').on(t.effectKey),
    index('timers_due_idx').on(t.status, t.dueAt),
    index('timers_lease_idx').on(t.status, t.leaseUntil),
    index('timers_lead_idx').on(t.leadId, t.status),
  ],
);

/**
 * Smooth weighted round robin state per team and member (the nginx algorithm): the current weight
 * of each member, updated in the assignment transaction. A member who is away is skipped and does
 * not accumulate weight, so on return they rejoin at their old position instead of receiving a burst.
 */
export const routingPositions = mysqlTable(
  'routing_positions',
  {
    teamId: varchar('team_id', { length: 64 }).notNull(),
    memberId: varchar('member_id', { length: 64 }).notNull(),
    currentWeight: bigint('current_weight', { mode: 'number' }).notNull().default(0),
    updatedAt: utc('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.memberId] })],
);

/** Members who are away (leave, sick, travel) until a time; set by themselves or their supervisor. */
export const memberAvailability = mysqlTable('member_availability', {
  memberId: varchar('member_id', { length: 64 }).primaryKey(),
  awayUntil: utc('away_until'),
  reason: varchar('reason', { length: 255 }),
  setBy: varchar('set_by', { length: 64 }),
  updatedAt: utc('updated_at').notNull(),
});

export const timerTables = { timers, routingPositions, memberAvailability };
