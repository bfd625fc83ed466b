import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { parseDbTime } from '../db/columns';
import { cardUpdateTokens, outbox } from '../db/schema';
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
): Promise<Completion> {
  const fence = and(
    eq(outbox.id, claimed.id),
    eq(outbox.leaseToken, claimed.leaseToken),
    eq(outbox.status, 'sending'),
  );
  const cleared = { leaseToken: null, leaseUntil: null };

  if (result.ok) {
    return withTransaction(db, async (tx) => {
      const [updated] = await tx
        .update(outbox)
        .set({
          status: 'sent',
          sentAt: sql`NOW(3)`,
          lastError: null,
          result: {
            ...(result.platformMessageId ? { platformMessageId: result.platformMessageId } : {}),
            ...(result.updateToken ? { hasUpdateToken: true } : {}),
          },
          ...cleared,
        })
        .where(fence);
      if (updated.affectedRows !== 1) return 'lease_lost';
      // The send answer carries a fresh card-update token for each recipient (WeCom response_code).
      const to = (claimed.message as { to?: { kind: string; userId?: string } }).to;
      if (result.updateToken && claimed.cardId && to?.kind === 'user' && to.userId) {
        await tx
          .insert(cardUpdateTokens)
          .values({
            cardId: claimed.cardId,
            userId: to.userId,
            token: result.updateToken,
            issuedAt: sql`NOW(3)` as never,
          })
          .onDuplicateKeyUpdate({ set: { token: result.updateToken, issuedAt: sql`NOW(3)` } });
      }
      return 'sent';
    });
  }

  const error = `${result.code}: ${result.message}`.slice(0, 512);
  let next: 'pending' | 'dead' | 'maybe_sent';
  if (result.alreadyAccepted && claimed.attempts > 1) next = 'maybe_sent';
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
