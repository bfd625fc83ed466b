import path from 'node:path';
import { eq } from 'drizzle-orm';
import { leadEvents } from '../../src/db/schema';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

/**
 * The counters the timer worker and the WeCom callback route feed, end to end: an A lead nobody
 * claims (test/fixtures/org.sla.jsonc: 2 s claim window, one reroute, then supervisor and director)
 * breaches its SLA three times, and the metrics say so exactly as the timeline does; a member's
 * message is timed under the callback route.
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
afterAll(async () => {
  await stack.close();
});

const scrape = async () => (await request(`${stack.app.url}/metrics`)).body as string;
const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));

it('counts sla.claim_missed and sla.escalated once each, after they commit, as the timeline records them', async () => {
  const key = await stack.app.createKey('website');
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { name: '王总', phone: '13600009001', industry: '制造业', title: '总经理' },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  const id = res.body.id as number;
  const escalations = async () =>
    (await stack.app.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, id))).filter(
      (e) => e.type === 'sla.escalated',
    );
  await waitFor(async () => (await escalations()).length === 2, 'two escalations', 15_000);
  // The counter moves after the commit: give the handler its turn.
  const text = await waitFor(async () => {
    const t = await scrape();
    return line(t, 'leadrelay_sla_breaches_total{type="sla.escalated",ladder="unclaimed"} 2') ? t : null;
  }, 'the escalation counter');
  expect(line(text, 'leadrelay_sla_breaches_total{type="sla.claim_missed",ladder="claim_window"}')).toMatch(
    / 1$/,
  );
});

it('times WeCom callbacks under their route template', async () => {
  await stack.emulator.control.sendText('WangLei', '帮助');
  const text = await scrape();
  const count = line(
    text,
    'leadrelay_http_request_duration_seconds_count{method="POST",route="/callbacks/wecom',
  );
  expect(count).toMatch(/status="200"\} [1-9]\d*$/);
  // The 200 is sent before the work is done, well inside WeCom's 5 s.
  expect(
    line(text, 'leadrelay_http_request_duration_seconds_bucket{le="1",method="POST",route="/callbacks/wecom'),
  ).toBe(count!.replace('_count{', '_bucket{le="1",'));
});
