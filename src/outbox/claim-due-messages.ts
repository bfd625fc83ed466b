import { randomBytes } from 'node:crypto';
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client';
import { parseDbTime } from '../db/columns';
import { outbox, outboxAttempts, pacingTargets } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { ChatPlatform, OutboundMessage, PacingRule, RenderedRequest } from '../platforms/types';

export type OutboxRow = typeof outbox.$inferSelect;

export interface ClaimedMessage {
  id: number;
  dedupeKey: string;
  platform: string;
  message: OutboundMessage;
  request: RenderedRequest;
  leaseToken: string;
  attempts: number;
  cardId: string | null;
}

export interface ClaimOptions {
  limit: number;
  leaseMs: number;
  platforms: ReadonlyMap<string, ChatPlatform>;
}

/** Rows the claim could not take now, and why (returned for logs and tests). */
export interface ClaimReport {
  claimed: ClaimedMessage[];
  deferred: number;
  /** Rows whose platform is not configured in this instance; left for an instance that has it. */
  skipped: number;
  /** Expired leases past their safe-retry window, marked maybe_sent. */
  maybeSent: number;
  /** Rows that could not be rendered, dead-lettered. */
  dead: number;
}

const SELECT_NOW = sql`SELECT NOW(3) AS now`;

async function databaseNow(tx: Tx): Promise<Date> {
  const [rows] = (await tx.execute(SELECT_NOW)) as unknown as [{ now: string }[]];
  return parseDbTime(rows[0]!.now);
}

/**
 * Claims due outbox rows for sending, in one transaction (graphile-worker's getJobs, adapted):
 *
 * 1. `pending` rows whose `next_attempt_at` has come, and `sending` rows whose lease expired (their
 *    worker died or stalled), both with `FOR UPDATE SKIP LOCKED`, so concurrent workers on any
 *    instance never take the same row.
 * 2. A row is rendered on its first claim and the request is frozen in the row: every retry sends
 *    the same bytes.
 * 3. Pacing: per target (a member, a robot), the target's row in `pacing_targets` is locked, recent
 *    attempts are counted from `outbox_attempts`, and only what fits the platform's limits is taken;
 *    the rest is pushed to when a slot frees. The lock serialises instances on the same target.
 * 4. Each taken row gets a fresh random lease token (the fencing token) and a lease end.
 *
 * Every time comparison uses the database clock.
 */
export { databaseNow };

export async function claimDueMessages(db: Db, options: ClaimOptions): Promise<ClaimReport> {
  return withTransaction(db, async (tx) => {
    const report: ClaimReport = { claimed: [], deferred: 0, skipped: 0, maybeSent: 0, dead: 0 };
    const now = await databaseNow(tx);
    const due = await tx
      .select()
      .from(outbox)
      .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql`NOW(3)`)))
      .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
      .limit(options.limit)
      .for('update', { skipLocked: true });
    const expired = await tx
      .select()
      .from(outbox)
      .where(and(eq(outbox.status, 'sending'), lte(outbox.leaseUntil, sql`NOW(3)`)))
      .orderBy(asc(outbox.leaseUntil))
      .limit(options.limit)
      .for('update', { skipLocked: true });

    const candidates: {
      row: OutboxRow;
      platform: ChatPlatform;
      request: RenderedRequest;
      pacing: PacingRule;
    }[] = [];
    for (const row of [...expired, ...due]) {
      const platform = options.platforms.get(row.platform);
      if (!platform) {
        report.skipped++;
        continue;
      }
      const message = row.message as unknown as OutboundMessage;
      let request: RenderedRequest;
      try {
        const fresh = platform.render(message, { dedupeKey: row.dedupeKey });
        request =
          row.renderedApi && row.renderedBody !== null
            ? {
                api: row.renderedApi,
                body: row.renderedBody,
                ...(row.renderedTarget ? { target: row.renderedTarget } : {}),
                ...windowOf(fresh),
              }
            : fresh;
      } catch (error) {
        // A message the platform cannot carry will never send: dead-letter it, do not block the batch.
        await tx
          .update(outbox)
          .set({
            status: 'dead',
            leaseToken: null,
            leaseUntil: null,
            lastError: `render: ${(error as Error).message}`.slice(0, 512),
          })
          .where(eq(outbox.id, row.id));
        report.dead++;
        continue;
      }
      if (row.status === 'sending' && !mayRetryAmbiguous(row, request, now)) {
        // The stalled attempt may have been delivered and a retry could duplicate it.
        await tx
          .update(outbox)
          .set({
            status: 'maybe_sent',
            leaseToken: null,
            leaseUntil: null,
            lastError: '租约过期且已超出安全重试窗口',
          })
          .where(eq(outbox.id, row.id));
        report.maybeSent++;
        continue;
      }
      candidates.push({ row, platform, request, pacing: platform.pacing(message) });
    }

    // Lock pacing targets in one global order so two claims cannot deadlock on them.
    candidates.sort((a, b) =>
      a.pacing.target < b.pacing.target ? -1 : a.pacing.target > b.pacing.target ? 1 : a.row.id - b.row.id,
    );
    let index = 0;
    while (index < candidates.length) {
      const target = candidates[index]!.pacing.target;
      const group: typeof candidates = [];
      while (index < candidates.length && candidates[index]!.pacing.target === target)
        group.push(candidates[index++]!);
      await lockPacingTarget(tx, target);
      const counts = await countRecentAttempts(tx, target, group[0]!.pacing.limits);
      for (const candidate of group) {
        const blocked = candidate.pacing.limits.findIndex((limit, i) => counts[i]! >= limit.max);
        if (blocked >= 0) {
          const limit = candidate.pacing.limits[blocked]!;
          const freeAt = await slotFreesAt(tx, target, limit, counts[blocked]!);
          await tx
            .update(outbox)
            .set({
              status: 'pending',
              nextAttemptAt: freeAt,
              leaseToken: null,
              leaseUntil: null,
              ...frozen(candidate.request),
            })
            .where(eq(outbox.id, candidate.row.id));
          report.deferred++;
          continue;
        }
        counts.forEach((_, i) => {
          counts[i]! += 1;
        });
        const leaseToken = randomBytes(12).toString('hex');
        await tx
          .insert(outboxAttempts)
          .values({ pacingTarget: target, outboxId: candidate.row.id, attemptedAt: now });
        await tx
          .update(outbox)
          .set({
            status: 'sending',
            leaseToken,
            leaseUntil: sql`NOW(3) + INTERVAL ${options.leaseMs * 1000} MICROSECOND`,
            attempts: sql`${outbox.attempts} + 1`,
            firstAttemptAt: sql`COALESCE(${outbox.firstAttemptAt}, NOW(3))`,
            pacingTarget: target,
            ...frozen(candidate.request),
          })
          .where(eq(outbox.id, candidate.row.id));
        report.claimed.push({
          id: candidate.row.id,
          dedupeKey: candidate.row.dedupeKey,
          platform: candidate.row.platform,
          message: candidate.row.message as unknown as OutboundMessage,
          request: candidate.request,
          leaseToken,
          attempts: candidate.row.attempts + 1,
          cardId: candidate.row.cardId,
        });
      }
    }
    return report;
  });
}

function frozen(request: RenderedRequest) {
  return { renderedApi: request.api, renderedBody: request.body, renderedTarget: request.target ?? null };
}

/** The retry window is a property of the API, not of the frozen bytes: take it from a fresh render. */
function windowOf(request: RenderedRequest): { ambiguousRetryWindowMs?: number } {
  return request.ambiguousRetryWindowMs === undefined
    ? {}
    : { ambiguousRetryWindowMs: request.ambiguousRetryWindowMs };
}

export function mayRetryAmbiguous(
  row: Pick<OutboxRow, 'firstAttemptAt'>,
  request: RenderedRequest,
  now: Date,
): boolean {
  const window = request.ambiguousRetryWindowMs ?? 0;
  if (window === Number.POSITIVE_INFINITY) return true;
  const first = row.firstAttemptAt?.getTime() ?? now.getTime();
  return now.getTime() - first < window;
}

async function lockPacingTarget(tx: Tx, target: string): Promise<void> {
  // An upsert takes the row's exclusive lock, creating the row the first time.
  await tx
    .insert(pacingTargets)
    .values({ target })
    .onDuplicateKeyUpdate({ set: { target: sql`${pacingTargets.target}` } });
}

async function countRecentAttempts(tx: Tx, target: string, limits: PacingRule['limits']): Promise<number[]> {
  if (limits.length === 0) return [];
  const longest = Math.max(...limits.map((l) => l.perSeconds));
  const columns = limits.map(
    (l, i) =>
      sql`SUM(${outboxAttempts.attemptedAt} > NOW(3) - INTERVAL ${l.perSeconds} SECOND) AS ${sql.raw(`c${i}`)}`,
  );
  const [rows] = (await tx.execute(
    sql`SELECT ${sql.join(columns, sql`, `)} FROM ${outboxAttempts}
        WHERE ${outboxAttempts.pacingTarget} = ${target}
          AND ${outboxAttempts.attemptedAt} > NOW(3) - INTERVAL ${longest} SECOND`,
  )) as unknown as [Record<string, string | number | null>[]];
  return limits.map((_, i) => Number(rows[0]?.[`c${i}`] ?? 0));
}

/**
 * When the window will hold one attempt fewer than its limit: the moment the attempt that is
 * `count - max + 1`-th oldest inside the window leaves it.
 */
async function slotFreesAt(
  tx: Tx,
  target: string,
  limit: PacingRule['limits'][number],
  count: number,
): Promise<Date> {
  const offset = Math.max(0, count - limit.max);
  const [rows] = (await tx.execute(
    sql`SELECT ${outboxAttempts.attemptedAt} + INTERVAL ${limit.perSeconds} SECOND AS free_at FROM ${outboxAttempts}
        WHERE ${outboxAttempts.pacingTarget} = ${target}
          AND ${outboxAttempts.attemptedAt} > NOW(3) - INTERVAL ${limit.perSeconds} SECOND
        ORDER BY ${outboxAttempts.attemptedAt} ASC LIMIT 1 OFFSET ${offset}`,
  )) as unknown as [{ free_at: string }[]];
  return rows[0] ? parseDbTime(rows[0].free_at) : new Date(Date.now() + limit.perSeconds * 1000);
}

/** Pacing history older than the longest window is no longer needed. */
export async function pruneOutboxAttempts(db: Db, olderThanSeconds = 7200): Promise<number> {
  const [result] = await db.execute(
    sql`DELETE FROM ${outboxAttempts} WHERE ${outboxAttempts.attemptedAt} < NOW(3) - INTERVAL ${olderThanSeconds} SECOND LIMIT 5000`,
  );
  return (result as unknown as { affectedRows: number }).affectedRows;
}
