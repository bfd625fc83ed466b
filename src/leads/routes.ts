import Router from '@koa/router';
import type { AppDeps } from '../app';
import { assertAdmin, authenticateCaller } from '../http/auth';
import { assertSingleHeaders } from '../http/raw-headers';
import { assertJsonContentType, parseJsonBody, readRawBody } from '../http/read-body';
import { AppError, badRequest, notFound } from '../lib/errors';
import { signingPolicies } from '../sources/signing-policies';
import { recordActivity } from './activities';
import { getLeadWithTimeline } from './get-lead';
import { submitLead } from './intake';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,191}$/;

function leadIdParam(raw: string | undefined): number {
  if (!raw || !/^\d{1,15}$/.test(raw)) throw notFound('线索不存在');
  return Number(raw);
}

/** Lead intake and lead reads. Rejection order: 404/405, 415, 401, 400 headers, 413, 400 body, 422. */
export function leadRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api/v1/leads' });
  const auth = { keys: deps.sourceKeys, adminKey: deps.env.ADMIN_API_KEY };
  const signing = signingPolicies(deps.org.sources);

  router.post('/', async (ctx) => {
    assertJsonContentType(ctx);
    const caller = await authenticateCaller(ctx, auth, { allowAdmin: false });
    if (caller.kind !== 'source') throw notFound();
    let idempotencyKey = ctx.get('idempotency-key') || null;
    if (idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw badRequest('invalid_idempotency_key', 'Idempotency-Key 必须是 1–191 个可见 ASCII 字符');
    }
    const policy = signing.get(caller.sourceId);
    if (policy) assertSingleHeaders(ctx.req, ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    const raw = await readRawBody(ctx, deps.env.INTAKE_MAX_BYTES);
    if (policy) {
      // A retry of a signed message repeats its webhook-id: that is its idempotency key unless one was sent.
      const { webhookId } = policy.verify(ctx, raw, deps.clock.now());
      idempotencyKey ??= webhookId;
    }
    const outcome = await submitLead(deps, {
      sourceId: caller.sourceId,
      raw,
      contentType: ctx.get('content-type') || null,
      idempotencyKey,
      requestId: ctx.state.requestId ?? null,
    }).catch((error: unknown) => {
      // A refused payload is kept for replay (it carries its rejectedId): that is a rejected lead.
      if (error instanceof AppError && error.details.rejectedId !== undefined) {
        deps.metrics.countIntake(caller.sourceId, 'rejected');
      }
      throw error;
    });
    deps.metrics.countIntake(caller.sourceId, outcome.replayed ? 'replayed' : outcome.body.status);
    if (!outcome.replayed) deps.notifyTimers();
    if (outcome.replayed) ctx.set('Idempotency-Replayed', 'true');
    ctx.status = outcome.status;
    ctx.body = outcome.body;
  });

  router.post('/:id/activities', async (ctx) => {
    const leadId = leadIdParam(ctx.params.id);
    assertJsonContentType(ctx);
    const caller = await authenticateCaller(ctx, auth, { allowAdmin: true });
    const body = parseJsonBody(await readRawBody(ctx, deps.env.INTAKE_MAX_BYTES));
    ctx.status = 201;
    ctx.body = await recordActivity(deps, {
      leadId,
      body,
      actor: caller.kind === 'admin' ? { type: 'admin', id: null } : { type: 'source', id: caller.sourceId },
      sourceId: caller.kind === 'source' ? caller.sourceId : null,
    });
  });

  router.get('/:id', async (ctx) => {
    assertAdmin(ctx, deps.env.ADMIN_API_KEY);
    const found = await getLeadWithTimeline(deps.db, leadIdParam(ctx.params.id));
    if (!found) throw notFound(`线索 ${ctx.params.id} 不存在`);
    ctx.body = found;
  });

  return router;
}
