import Router from '@koa/router';
import { z } from 'zod';
import type { Env } from '../config/env';
import type { Directory } from '../config/members';
import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import { assertAdmin } from '../http/auth';
import { assertJsonContentType, parseJsonBody, readRawBody } from '../http/read-body';
import { toFieldIssues, zhErrorMap } from '../http/zod-issues';
import type { Clock } from '../lib/clock';
import { validationFailed } from '../lib/errors';
import type { AvailabilityActor } from './authorize';
import { listAvailability, type MemberAvailability, setAway, setBack } from './availability';
import { parseUntil, UNTIL_HINT } from './parse-until';

export interface AvailabilityRouteDeps {
  db: Db;
  org: OrgConfig;
  directory: Directory;
  clock: Clock;
  env: Pick<Env, 'ADMIN_API_KEY'>;
}

/** `{until, reason}` is tiny; anything bigger is not a well-meant request. */
const BODY_LIMIT = 4096;

export const awayBodySchema = z.strictObject({
  until: z.string().min(1).max(64),
  reason: z.string().max(255).optional(),
});
const AWAY_LABELS = { until: '离开截止时间', reason: '原因' };

const ADMIN: AvailabilityActor = { kind: 'admin', via: 'api' };

/**
 * Admin routes for availability (issue 4 item 6); members use the chat commands of the conversation
 * issue. Rejection order as elsewhere: 404/405, 415, 401, 413, 400 body, 422; then 404 unknown member.
 *
 *   GET    /api/v1/members            every member: status, away until, open leads
 *   PUT    /api/v1/members/:id/away   {until: "3d" | ISO time | local date, reason?}
 *   DELETE /api/v1/members/:id/away   back now
 */
export function availabilityRoutes(deps: AvailabilityRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/members' });

  router.get('/', async (ctx) => {
    assertAdmin(ctx, deps.env.ADMIN_API_KEY);
    const members = await listAvailability(deps, deps.clock.now());
    ctx.body = { members: members.map(present) };
  });

  router.put('/:id/away', async (ctx) => {
    assertJsonContentType(ctx);
    assertAdmin(ctx, deps.env.ADMIN_API_KEY);
    const body = parseJsonBody(await readRawBody(ctx, BODY_LIMIT));
    const parsed = awayBodySchema.safeParse(body, { error: zhErrorMap });
    if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error.issues, AWAY_LABELS));
    const now = deps.clock.now();
    const until = parseUntil(parsed.data.until, now, deps.org.timezone);
    if (!until) throw validationFailed([{ path: 'until', message: `${AWAY_LABELS.until}：${UNTIL_HINT}` }]);
    const memberId = ctx.params.id!;
    await setAway(deps, { memberId, until, reason: parsed.data.reason ?? null, setBy: ADMIN, now });
    ctx.body = present(await statusOf(deps, memberId));
  });

  router.delete('/:id/away', async (ctx) => {
    assertAdmin(ctx, deps.env.ADMIN_API_KEY);
    const memberId = ctx.params.id!;
    const wasAway = await setBack(deps, { memberId, setBy: ADMIN, now: deps.clock.now() });
    ctx.body = { ...present(await statusOf(deps, memberId)), wasAway };
  });

  return router;
}

async function statusOf(deps: AvailabilityRouteDeps, memberId: string): Promise<MemberAvailability> {
  const [status] = await listAvailability(deps, deps.clock.now(), { memberIds: [memberId] });
  return status!;
}

function present(m: MemberAvailability) {
  return { ...m, awayUntil: m.awayUntil?.toISOString() ?? null };
}
