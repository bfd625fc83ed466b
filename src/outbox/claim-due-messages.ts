import { randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
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

/** What a claim did with the rows it looked at (for logs, counters and tests). */
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

interface Candidate {
  row: OutboxRow;
  request: RenderedRequest;
  /** Rendered in this claim: the request must be frozen into the row. */
  fresh: boolean;
  pacing: PacingRule;
}

async function databaseNow(tx: Tx): Promise<Date> {
  const [rows] = (await tx.execute(sql`SELECT NOW(3) AS now`)) as unknown as [{ now: string }[]];
  return parseDbTime(rows[0]!.now);
}

/**
 * Claims due outbox rows for sending, in one transaction whose statement count does not grow with
 * the batch (graphile-worker's getJobs, adapted):
 *
 * 1. `pending` rows whose `next_attempt_at` has come, and `sending` rows whose lease expired (their
 *    worker died or stalled), both `FOR UPDATE SKIP LOCKED`: concurrent workers on any instance
 *    never take the same row.
 * 2. A row is rendered on its first claim and the request is frozen in the row: every retry sends
 *    the same bytes.
 * 3. Pacing: the rows of `pacing_targets` for every target in the batch are locked in one sorted
 *    upsert (serialising instances per target, in one lock order), recent attempts are counted in
 *    one grouped query, and only what fits the platform's limits is taken; the rest waits until a
 *    slot frees.
 * 4. The taken rows share one fresh random lease token (the fencing token) and a lease end.
 *
 * Every time comparison uses the database clock.
 */
export async function claimDueMessages(db: Db, options: ClaimOptions): Promise<ClaimReport> {
  return withTransaction(db, async (tx) => {
    const report: ClaimReport = { claimed: [], deferred: 0, skipped: 0, maybeSent: 0, dead: 0 };
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
    if (due.length === 0 && expired.length === 0) return report;
    const now = expired.length > 0 ? await databaseNow(tx) : undefined;

    const candidates: Candidate[] = [];
    for (const row of [...expired, ...due]) {
      const platform = options.platforms.get(row.platform);
      if (!platform) {
        report.skipped++;
        continue;
      }
      const message = row.message as unknown as OutboundMessage;
      let request: RenderedRequest;
      let fresh: boolean;
      try {
        const rendered = platform.render(message, { dedupeKey: row.dedupeKey });
        fresh = !(row.renderedApi && row.renderedBody !== null);
        request = fresh
          ? rendered
          : {
              api: row.renderedApi!,
              body: row.renderedBody!,
              ...(row.renderedTarget ? { target: row.renderedTarget } : {}),
              // The retry window is a property of the API, not of the frozen bytes.
              ...(rendered.ambiguousRetryWindowMs === undefined
                ? {}
                : { ambiguousRetryWindowMs: rendered.ambiguousRetryWindowMs }),
            };
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
      if (row.status === 'sending' && !mayRetryAmbiguous(row, request, now!)) {
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
      candidates.push({ row, request, fresh, pacing: platform.pacing(message) });
    }
    if (candidates.length === 0) return report;

    const { granted, deferred } = await applyPacing(tx, candidates);
    for (const { candidate, freeAt } of deferred) {
      await tx
        .update(outbox)
        .set({
          status: 'pending',
          nextAttemptAt: freeAt,
          leaseToken: null,
          leaseUntil: null,
          ...frozen(candidate),
        })
        .where(eq(outbox.id, candidate.row.id));
    }
    report.deferred = deferred.length;
    if (granted.length === 0) return report;

    const leaseToken = randomBytes(12).toString('hex');
    await tx.insert(outboxAttempts).values(
      granted.map((c) => ({
        pacingTarget: c.pacing.target,
        outboxId: c.row.id,
        attemptedAt: sql`NOW(3)` as never,
      })),
    );
    await tx.execute(leaseUpdate(granted, leaseToken, options.leaseMs));
    report.claimed = granted.map((c) => ({
      id: c.row.id,
      dedupeKey: c.row.dedupeKey,
      platform: c.row.platform,
      message: c.row.message as unknown as OutboundMessage,
      request: c.request,
      leaseToken,
      attempts: c.row.attempts + 1,
      cardId: c.row.cardId,
    }));
    return report;
  });
}

function frozen(candidate: Candidate) {
  const { request } = candidate;
  return candidate.fresh
    ? { renderedApi: request.api, renderedBody: request.body, renderedTarget: request.target ?? null }
    : {};
}

/**
 * One UPDATE for every taken row: status, lease, attempt count, and (CASE per row) the pacing target
 * and the request frozen on this first claim.
 */
function leaseUpdate(granted: Candidate[], leaseToken: string, leaseMs: number) {
  const ids = granted.map((c) => c.row.id);
  const caseOf = (pick: (c: Candidate) => string | null, column: string, only: (c: Candidate) => boolean) => {
    const rows = granted.filter(only);
    if (rows.length === 0) return sql``;
    return sql`, ${sql.raw(column)} = CASE ${outbox.id} ${sql.join(
      rows.map((c) => sql`WHEN ${c.row.id} THEN ${pick(c)}`),
      sql` `,
    )} ELSE ${sql.raw(column)} END`;
  };
  const fresh = (c: Candidate) => c.fresh;
  return sql`UPDATE ${outbox} SET
      ${outbox.status} = 'sending',
      ${outbox.leaseToken} = ${leaseToken},
      ${outbox.leaseUntil} = NOW(3) + INTERVAL ${leaseMs * 1000} MICROSECOND,
      ${outbox.attempts} = ${outbox.attempts} + 1,
      ${outbox.firstAttemptAt} = COALESCE(${outbox.firstAttemptAt}, NOW(3))
      ${caseOf(
        (c) => c.pacing.target,
        'pacing_target',
        () => true,
      )}
      ${caseOf((c) => c.request.api, 'rendered_api', fresh)}
      ${caseOf((c) => c.request.body, 'rendered_body', fresh)}
      ${caseOf((c) => c.request.target ?? null, 'rendered_target', fresh)}
    WHERE ${inArray(outbox.id, ids)}`;
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

/**
 * Splits candidates into those that fit their target's limits now and those that must wait, with
 * the moment a slot frees. Three statements for the whole batch (lock, count) plus one per deferral.
 */
async function applyPacing(
  tx: Tx,
  candidates: Candidate[],
): Promise<{ granted: Candidate[]; deferred: { candidate: Candidate; freeAt: Date }[] }> {
  const targets = [...new Set(candidates.map((c) => c.pacing.target))].sort();
  // An upsert takes each row's exclusive lock (creating rows the first time); sorted, so two claims
  // lock in the same order and cannot deadlock on them.
  await tx
    .insert(pacingTargets)
    .values(targets.map((target) => ({ target })))
    .onDuplicateKeyUpdate({ set: { target: sql`${pacingTargets.target}` } });

  const windows = [...new Set(candidates.flatMap((c) => c.pacing.limits.map((l) => l.perSeconds)))].sort(
    (a, b) => a - b,
  );
  const longest = windows.at(-1) ?? 0;
  const counts = new Map<string, Map<number, number>>();
  if (longest > 0) {
    const [rows] = (await tx.execute(
      sql`SELECT ${outboxAttempts.pacingTarget} AS target,
            ${sql.join(
              windows.map(
                (w) =>
                  sql`SUM(${outboxAttempts.attemptedAt} > NOW(3) - INTERVAL ${w} SECOND) AS ${sql.raw(`w${w}`)}`,
              ),
              sql`, `,
            )}
          FROM ${outboxAttempts}
          WHERE ${inArray(outboxAttempts.pacingTarget, targets)}
            AND ${outboxAttempts.attemptedAt} > NOW(3) - INTERVAL ${longest} SECOND
          GROUP BY ${outboxAttempts.pacingTarget}`,
    )) as unknown as [Record<string, string | number | null>[]];
    for (const row of rows) {
      counts.set(String(row.target), new Map(windows.map((w) => [w, Number(row[`w${w}`] ?? 0)])));
    }
  }

  const granted: Candidate[] = [];
  const deferred: { candidate: Candidate; freeAt: Date }[] = [];
  // Oldest first within a target, so the wait is fair.
  const ordered = [...candidates].sort((a, b) => a.row.id - b.row.id);
  for (const candidate of ordered) {
    const target = candidate.pacing.target;
    let byWindow = counts.get(target);
    if (!byWindow) {
      byWindow = new Map();
      counts.set(target, byWindow);
    }
    const blocked = candidate.pacing.limits.find((l) => (byWindow.get(l.perSeconds) ?? 0) >= l.max);
    if (blocked) {
      deferred.push({
        candidate,
        freeAt: await slotFreesAt(tx, target, blocked, byWindow.get(blocked.perSeconds)!),
      });
      continue;
    }
    for (const limit of candidate.pacing.limits) {
      byWindow.set(limit.perSeconds, (byWindow.get(limit.perSeconds) ?? 0) + 1);
    }
    granted.push(candidate);
  }
  return { granted, deferred };
}

/**
 * When the window will hold one attempt fewer than its limit: the moment the attempt that is
 * `count - max + 1`-th oldest inside the window leaves it. Attempts granted earlier in this claim are
 * not in the table yet; they are newer than every stored one, so the answer stays right or early
 * (an early retry is deferred again, never sent over the limit).
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
