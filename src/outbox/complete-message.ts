import { and, eq, sql } from 'drizzle-orm';
import mysql, { type Pool } from 'mysql2/promise';
import type { Db } from '../db/client';
import { parseDbTime } from '../db/columns';
import { cardUpdateTokens, GROUP_CARD_TOKEN_HOLDER, outbox } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { SendResult } from '../platforms/types';
import { backoffDelayMs } from './backoff';
import { type ClaimedMessage, mayRetryAmbiguous } from './claim-due-messages';

export interface CompletionPolicy {
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  random?: () => number;
}

export type Completion = 'sent' | 'retry' | 'dead' | 'maybe_sent' | 'lease_lost';

/**
 * Records how a send ended. Every UPDATE is fenced by the lease token: a worker that stalled past its
 * lease (another worker has re-claimed the row since) changes nothing and learns `lease_lost`.
 */
export async function completeMessage(
  db: Db,
  claimed: ClaimedMessage,
  result: SendResult,
  policy: CompletionPolicy,
  /** The multi-statement pool: a success is then recorded in one round trip. */
  batchPool?: Pool,
): Promise<Completion> {
  const fence = and(
    eq(outbox.id, claimed.id),
    eq(outbox.leaseToken, claimed.leaseToken),
    eq(outbox.status, 'sending'),
  );
  const cleared = { leaseToken: null, leaseUntil: null };

  if (result.ok) return completeSent(db, claimed, result, batchPool);

  const error = `${result.code}: ${result.message}`.slice(0, 512);
  let next: 'pending' | 'dead' | 'maybe_sent';
  if ((result.alreadyAccepted || refusedResend(claimed, result)) && claimed.attempts > 1) next = 'maybe_sent';
  else if (result.outcome === 'permanent' || claimed.attempts >= policy.maxAttempts) next = 'dead';
  else if (result.outcome === 'ambiguous') {
    const [row] = await db
      .select({ firstAttemptAt: outbox.firstAttemptAt })
      .from(outbox)
      .where(eq(outbox.id, claimed.id));
    const [nowRows] = (await db.execute(sql`SELECT NOW(3) AS now`)) as unknown as [{ now: string }[]];
    next =
      row && mayRetryAmbiguous(row, claimed.request, parseDbTime(nowRows[0]!.now)) ? 'pending' : 'maybe_sent';
  } else next = 'pending';

  // The platform's own "come back in N ms" wins over our backoff, within the same ceiling.
  const delay = Math.min(
    policy.backoff.maxMs,
    Math.max(backoffDelayMs(claimed.attempts, policy.backoff, policy.random), result.retryAfterMs ?? 0),
  );
  const [updated] = await db
    .update(outbox)
    .set({
      status: next,
      lastError: error,
      ...(next === 'pending' ? { nextAttemptAt: sql`NOW(3) + INTERVAL ${delay * 1000} MICROSECOND` } : {}),
      ...cleared,
    })
    .where(fence);
  if (updated.affectedRows !== 1) return 'lease_lost';
  return next === 'pending' ? 'retry' : next;
}

/**
 * A permanent refusal of a request that can never apply twice (a single-use update token, a card id
 * the platform keeps unique: `ambiguousRetryWindowMs` Infinity), on a later attempt: the earlier
 * attempt, whose outcome we did not learn (an answer cut off, a worker killed or paused past its
 * lease), most probably went through and used the token up. That is maybe_sent, not dead (found by
 * `npm run test:chaos`: card updates applied by WeCom were dead-lettered after a cut-off answer).
 */
function refusedResend(claimed: ClaimedMessage, result: Extract<SendResult, { ok: false }>): boolean {
  return (
    result.outcome === 'permanent' && claimed.request.ambiguousRetryWindowMs === Number.POSITIVE_INFINITY
  );
}

/**
 * A successful send: the row becomes `sent` (fenced by the lease token) and, when the answer carries
 * a card-update token, the token is stored: per member for a one-to-one card, for the group for a card
 * posted in a group chat. With the batch pool both travel in one round trip: the token insert runs
 * only if the fenced UPDATE matched (`ROW_COUNT()`).
 */
async function completeSent(
  db: Db,
  claimed: ClaimedMessage,
  result: Extract<SendResult, { ok: true }>,
  batchPool: Pool | undefined,
): Promise<Completion> {
  const stored = {
    ...(result.platformMessageId ? { platformMessageId: result.platformMessageId } : {}),
    ...(result.updateToken ? { hasUpdateToken: true } : {}),
  };
  const to = (claimed.message as { to?: { kind: string; userId?: string } }).to;
  const holder = to?.kind === 'group' ? GROUP_CARD_TOKEN_HOLDER : to?.kind === 'user' ? to.userId : undefined;
  const token =
    result.updateToken && claimed.cardId && holder
      ? { cardId: claimed.cardId, userId: holder, token: result.updateToken }
      : null;
  const markSent =
    "UPDATE outbox SET status = 'sent', sent_at = NOW(3), last_error = NULL, result = ?, lease_token = NULL, lease_until = NULL " +
    "WHERE id = ? AND lease_token = ? AND status = 'sending'";
  const markParams = [JSON.stringify(stored), claimed.id, claimed.leaseToken];

  if (batchPool) {
    const statements = [mysql.format(markSent, markParams), 'SET @lr_sent = ROW_COUNT()'];
    if (token) {
      statements.push(
        mysql.format(
          'INSERT INTO card_update_tokens (card_id, user_id, token, issued_at) SELECT ?, ?, ?, NOW(3) FROM DUAL WHERE @lr_sent = 1 ' +
            'ON DUPLICATE KEY UPDATE token = ?, issued_at = NOW(3)',
          [token.cardId, token.userId, token.token, token.token],
        ),
      );
    }
    statements.push('SELECT @lr_sent AS sent');
    const [results] = (await batchPool.query(statements.join(';\n'))) as unknown as [unknown[]];
    const last = results.at(-1) as { sent: number | string }[];
    return Number(last[0]?.sent) === 1 ? 'sent' : 'lease_lost';
  }

  return withTransaction(db, async (tx) => {
    const [updated] = (await tx.execute(sql.raw(mysql.format(markSent, markParams)))) as unknown as [
      { affectedRows: number },
    ];
    if (updated.affectedRows !== 1) return 'lease_lost';
    if (token) {
      await tx
        .insert(cardUpdateTokens)
        .values({ ...token, issuedAt: sql`NOW(3)` as never })
        .onDuplicateKeyUpdate({ set: { token: token.token, issuedAt: sql`NOW(3)` } });
    }
    return 'sent';
  });
}
