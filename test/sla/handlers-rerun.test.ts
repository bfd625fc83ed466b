import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { leadEvents, leads, outbox } from '../../src/db/schema';
import { slaTimerHandlers } from '../../src/sla/handlers';
import { SLA_TIMER_KINDS } from '../../src/sla/lead-timers';
import type { DueTimer } from '../../src/timers/claim-due-timers';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

/**
 * Timers run at least once: a worker killed after its handler committed, or paused past its lease,
 * runs the handler again. Found by `npm run test:chaos`: the escalation card went out once (its outbox
 * key), but the timeline got `sla.escalated` twice for one lead and level, and the reports counted two
 * breaches. Each rung's event now carries its timer's effect key and is recorded once.
 */
let stack: WecomStack;
beforeAll(async () => {
  stack = await startWecomStack({
    orgFile: path.resolve(__dirname, '../fixtures/org.sla.jsonc'),
    members: ['WangLei', 'LiNa', 'ZhangWei', 'LiuYang', 'WuTing', 'ChenSup', 'ZhouDir'].map((userid) => ({
      userid,
      name: userid,
    })),
  });
});
afterAll(() => stack.close());

const timer = (
  leadId: number,
  effectKey: string,
  kind: string,
  payload: Record<string, unknown>,
): DueTimer => ({
  id: 0,
  effectKey,
  kind,
  leadId,
  payload,
  dueAt: new Date(),
  attempt: 1,
  leaseToken: 'rerun',
});

it('an escalation rung run twice (also at once) records one event and queues one card', async () => {
  const key = await stack.app.createKey('website');
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { name: '重跑', phone: '13600000088', industry: '制造业', title: '总经理' },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  const leadId = res.body.id as number;
  const db = stack.app.database.db;
  await waitFor(async () => {
    const [lead] = await db.select().from(leads).where(eq(leads.id, leadId));
    return lead?.assigneeId;
  }, 'the assignment');
  const handlers = slaTimerHandlers(stack.app.server.deps);
  const rung = timer(leadId, `lead:${leadId}:unclaimed:L1`, SLA_TIMER_KINDS.unclaimed, {
    level: 1,
    notify: 'supervisor',
  });
  await Promise.all([handlers[SLA_TIMER_KINDS.unclaimed]!(rung), handlers[SLA_TIMER_KINDS.unclaimed]!(rung)]);
  await handlers[SLA_TIMER_KINDS.unclaimed]!(rung);
  const events = await db
    .select()
    .from(leadEvents)
    .where(and(eq(leadEvents.leadId, leadId), eq(leadEvents.type, 'sla.escalated')));
  expect(events.map((e) => e.data)).toEqual([
    expect.objectContaining({ ladder: 'unclaimed', level: 1, effectKey: `lead:${leadId}:unclaimed:L1` }),
  ]);
  const cardsQueued = await db
    .select()
    .from(outbox)
    .where(eq(outbox.dedupeKey, `lead:${leadId}:escalation:unclaimed:L1`));
  expect(cardsQueued).toHaveLength(1);

  // The claim window's "missed" mark too (this fixture reroutes once, so hop 2 is past the hops).
  const [lead] = await db.select().from(leads).where(eq(leads.id, leadId));
  const missed = timer(leadId, `lead:${leadId}:claim:2`, SLA_TIMER_KINDS.claimWindow, {
    memberId: lead!.assigneeId,
    hop: 2,
  });
  await Promise.all([
    handlers[SLA_TIMER_KINDS.claimWindow]!(missed),
    handlers[SLA_TIMER_KINDS.claimWindow]!(missed),
  ]);
  const misses = await db
    .select()
    .from(leadEvents)
    .where(and(eq(leadEvents.leadId, leadId), eq(leadEvents.type, 'sla.claim_missed')));
  expect(misses.filter((e) => e.data.effectKey === `lead:${leadId}:claim:2`)).toHaveLength(1);
});
