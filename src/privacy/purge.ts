import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { OrgConfig } from '../config/org-types';
import { privacyOf } from '../config/sections/privacy';
import type { Db } from '../db/client';
import { leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { Logger } from '../lib/logger';
import { needlesOf } from './person';
import { type RemovalCounts, removeLeadData } from './remove-lead-data';

const DAY_MS = 86_400_000;

/**
 * Leads whose personal data has outlived its retention date: `retain_until` passed, or (rows from
 * before the column, or written by a path that does not set it) created longer than the retention
 * period ago. Anonymised leads are done and never match again, which makes the purge idempotent.
 */
function expired(org: Pick<OrgConfig, 'privacy'>, now: Date) {
  const cutoff = new Date(now.getTime() - privacyOf(org).retentionDays * DAY_MS);
  return and(
    isNull(leads.anonymisedAt),
    or(lte(leads.retainUntil, now), and(isNull(leads.retainUntil), lte(leads.createdAt, cutoff))),
  );
}

/** Rows per table one sweep deletes (the oldest first); the rest wait for the next run. */
const SWEEP_LIMIT = 1_000;

/**
 * Messages and refused submissions older than the retention period, whomever they were about: they
 * may quote anyone (a 我的 list names several customers), and finding them by content per lead would
 * scan these tables for every lead. Inbox rows are long past any platform retry; outbox rows only
 * once finished (sent, dead, maybe_sent); refused submissions whatever their state.
 */
export async function sweepOldRecords(
  db: Db,
  cutoff: Date,
  limit = SWEEP_LIMIT,
): Promise<{ counts: RemovalCounts; more: boolean }> {
  const counts: RemovalCounts = {};
  let more = false;
  for (const [table, statement] of [
    [
      'inbox_events',
      sql`DELETE FROM inbox_events WHERE received_at < ${cutoff} AND status IN ('done', 'failed') ORDER BY id LIMIT ${limit}`,
    ],
    [
      'outbox',
      sql`DELETE FROM outbox WHERE created_at < ${cutoff} AND status IN ('sent', 'dead', 'maybe_sent') ORDER BY id LIMIT ${limit}`,
    ],
    [
      'rejected_payloads',
      sql`DELETE FROM rejected_payloads WHERE received_at < ${cutoff} ORDER BY id LIMIT ${limit}`,
    ],
  ] as const) {
    const [result] = (await db.execute(statement)) as unknown as [{ affectedRows: number }];
    if (result.affectedRows > 0) counts[table] = { deleted: result.affectedRows, scrubbed: 0 };
    if (result.affectedRows >= limit) more = true;
  }
  return { counts, more };
}

export interface PurgeResult {
  leadIds: number[];
  counts: RemovalCounts;
  /** More expired leads are waiting (the run stopped at its limit). */
  more: boolean;
}

/**
 * The retention purge: anonymises up to `limit` expired leads, each in its own transaction (a lock
 * held briefly; a lead that became anonymised meanwhile, by another instance's purge, is skipped).
 * `dryRun` only lists the leads it would anonymise.
 */
export async function purgeExpiredLeads(
  deps: { db: Db; org: Pick<OrgConfig, 'privacy'>; logger: Logger; now: () => Date },
  options: { limit?: number; dryRun?: boolean } = {},
): Promise<PurgeResult> {
  const limit = options.limit ?? 200;
  const now = deps.now();
  const due = await deps.db
    .select({ id: leads.id })
    .from(leads)
    .where(expired(deps.org, now))
    .orderBy(asc(leads.id))
    .limit(limit + 1);
  const more = due.length > limit;
  const candidates = due.slice(0, limit).map((r) => r.id);
  const result: PurgeResult = { leadIds: [], counts: {}, more };
  if (options.dryRun) return { ...result, leadIds: candidates };
  const cutoff = new Date(now.getTime() - privacyOf(deps.org).retentionDays * DAY_MS);
  const swept = await sweepOldRecords(deps.db, cutoff);
  result.counts = swept.counts;
  result.more ||= swept.more;
  for (const id of candidates) {
    const done = await withTransaction(deps.db, async (tx) => {
      const [lead] = await tx
        .select()
        .from(leads)
        .where(and(eq(leads.id, id), expired(deps.org, now)))
        .for('update');
      if (!lead) return null;
      return removeLeadData(tx, { leads: [lead], needles: needlesOf([lead]), mode: 'anonymise', now });
    });
    if (!done) continue;
    result.leadIds.push(id);
    for (const [table, n] of Object.entries(done)) {
      result.counts[table] ??= { deleted: 0, scrubbed: 0 };
      result.counts[table].deleted += n.deleted;
      result.counts[table].scrubbed += n.scrubbed;
    }
  }
  if (Object.keys(result.counts).length > 0) {
    deps.logger.info(
      { leads: result.leadIds.length, counts: result.counts, more: result.more },
      'privacy: expired personal data removed',
    );
  }
  return result;
}

/** How many leads are past retention, for `leadrelay privacy purge --dry-run`. */
export async function countExpiredLeads(db: Db, org: Pick<OrgConfig, 'privacy'>, now: Date): Promise<number> {
  const [row] = await db.select({ n: sql<number>`COUNT(*)` }).from(leads).where(expired(org, now));
  return Number(row?.n ?? 0);
}
