import type { Context } from 'koa';
import type { SourceConfig } from '../config/org-types';
import { AppError } from '../lib/errors';
import { signingKey, verifySignature } from './webhook-signature';

export interface SigningPolicy {
  /** Throws 401 with the specific reason, or returns the verified webhook-id. */
  verify(ctx: Pick<Context, 'get'>, body: Buffer, now: Date): { webhookId: string };
}

/** The sources that require Standard Webhooks signatures (`sources[].signing`), keyed by source id. */
export function signingPolicies(sources: readonly SourceConfig[]): ReadonlyMap<string, SigningPolicy> {
  const policies = new Map<string, SigningPolicy>();
  for (const source of sources) {
    if (!source.signing) continue;
    const keys = source.signing.secrets.map(signingKey);
    const toleranceSeconds = source.signing.toleranceSeconds;
    policies.set(source.id, {
      verify(ctx, body, now) {
        const check = verifySignature({
          keys,
          headers: {
            id: ctx.get('webhook-id') || undefined,
            timestamp: ctx.get('webhook-timestamp') || undefined,
            signature: ctx.get('webhook-signature') || undefined,
          },
          body,
          now,
          toleranceSeconds,
        });
        if (!check.ok) throw new AppError(401, check.reason, check.message);
        return { webhookId: check.webhookId };
      },
    });
  }
  return policies;
}
