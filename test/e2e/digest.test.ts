import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { digestRuns } from '../../src/db/schema';
import { digestPeriod, sendDigest, startDigestScheduler } from '../../src/reports/digest';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

/**
 * Digests end to end (issue 6): posted through the team's group robot in the WeCom emulator once per
 * team and period however many instances try, late after downtime, masked, and on demand in chat.
 */
let stack: WecomStack;
let key: string;

beforeAll(async () => {
  stack = await startWecomStack({
    orgFile: path.resolve(__dirname, '../fixtures/org.digest.jsonc'),
    members: ['ChenSup', 'ZhouDir', 'WangLei', 'LiNa', 'ZhangWei', 'LiuYang', 'XuSup', 'TomLee'].map((u) => ({
      userid: u,
      name: u,
    })),
    // The scheduler's own catch-up is tested below with a clock of our choosing.
    server: { digests: false },
    groupRobots: [
      { key: 'robot-east-key', name: '华东销售群' },
      { key: 'robot-west-key', name: '华西销售群' },
    ],
  });
  key = await stack.app.createKey('website');
});
afterAll(async () => {
  await stack.close();
});

const deps = () => stack.app.server.deps;
const team = (id: string) => deps().org.teams.find((t) => t.id === id)!;
const groupMessages = (robot: string) => stack.emulator.state.group(robot)?.messages ?? [];

async function postLead(n: number): Promise<number> {
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { name: `张${n}`, phone: `1390000${String(1000 + n)}`, company: `测试${n}厂`, industry: '制造业' },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

describe('the daily digest', () => {
  it('three instances at once post one digest: the text, then the funnel chart, with no unmasked phone', async () => {
    const ids = [await postLead(1), await postLead(2)];
    // Routing runs right after intake; the digest counts the team's leads, so wait for both.
    await waitFor(async () => {
      const [rows] = (await stack.app.database.db.execute(
        sql`SELECT COUNT(*) AS n FROM leads WHERE team_id = 'east' AND id IN (${ids[0]}, ${ids[1]})`,
      )) as unknown as [{ n: number }[]];
      return Number(rows[0]!.n) === 2;
    }, 'both leads routed');
    // A rep typed a phone number into a lost reason: it must not reach the group unmasked.
    await stack.app.database.db.execute(
      sql`UPDATE leads SET stage = 'lost', lost_reason = '预算不符 13900001001' WHERE id = ${ids[0]}`,
    );
    const dayAfter = new Date(stack.clock.now().getTime() + 24 * 3600_000);
    const outcomes = await Promise.all(
      ['a', 'b', 'c'].map((instance) =>
        sendDigest(deps(), { team: team('east'), kind: 'daily', at: dayAfter, instance }),
      ),
    );
    expect(outcomes.sort()).toEqual(['already_sent', 'already_sent', 'sent']);
    const posted = await waitFor(
      () => (groupMessages('robot-east-key').length >= 2 ? groupMessages('robot-east-key') : null),
      'the digest',
    );
    expect(posted.map((m) => m.msgtype)).toEqual(['markdown', 'image']);
    const text = JSON.stringify(posted[0]!.body);
    expect(text).toContain('华东');
    const body = posted[0]!.body as { content?: string; markdown?: { content: string } };
    const content = body.content ?? body.markdown?.content ?? '';
    expect(content).toContain('华东日报');
    expect(content).toContain('**新线索** 2 条');
    expect(content).toContain('官网表单');
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    for (const message of posted) {
      expect(JSON.stringify(message.body)).not.toMatch(/1390000100[12]/);
      expect(JSON.stringify(message.body)).not.toContain('张1');
    }
    const runs = await stack.app.database.db.select().from(digestRuns).where(eq(digestRuns.teamId, 'east'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      kind: 'daily',
      late: 0,
      periodKey: digestPeriod('daily', 'Asia/Shanghai', dayAfter).periodKey,
    });
  }, 20_000);

  it('an empty team still gets a digest that reads naturally', async () => {
    const at = new Date(stack.clock.now().getTime() + 24 * 3600_000);
    expect(await sendDigest(deps(), { team: team('west'), kind: 'daily', at })).toBe('sent');
    const posted = await waitFor(() => groupMessages('robot-west-key')[0], 'the west digest');
    expect(JSON.stringify(posted.body)).toContain('华西');
  }, 20_000);

  it('after downtime, the missed digest is sent once on start, marked late', async () => {
    // The scheduler of a server that starts two hours after east's 09:05 (Asia/Shanghai).
    const now = stack.clock.now();
    const local = new Date(now.getTime() + 8 * 3600_000);
    const eleven = new Date(
      Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 2, 11 - 8, 5),
    );
    stack.clock.set(eleven);
    try {
      const scheduler = startDigestScheduler(deps(), { instance: 'late-test' });
      await scheduler.catchUp();
      await scheduler.catchUp();
      scheduler.stop();
      const { periodKey } = digestPeriod('daily', 'Asia/Shanghai', eleven);
      const [run] = await stack.app.database.db
        .select()
        .from(digestRuns)
        .where(
          sql`${digestRuns.teamId} = 'east' AND ${digestRuns.periodKey} = ${periodKey} AND ${digestRuns.kind} = 'daily'`,
        );
      expect(run).toMatchObject({ late: 1, instance: 'late-test' });
      const late = await waitFor(
        () => groupMessages('robot-east-key').find((m) => JSON.stringify(m.body).includes('补发')),
        'the late digest',
      );
      expect(late.msgtype).toBe('markdown');
    } finally {
      stack.clock.set(now);
    }
  }, 20_000);
});

describe('a fresh install', () => {
  it('does not open with a late digest of a day before it had any lead', async () => {
    const now = stack.clock.now();
    const [first] = (await stack.app.database.db.execute(
      sql`SELECT MIN(created_at) AS at FROM leads`,
    )) as unknown as [{ at: string | Date }[]];
    const at = first[0]!.at;
    const earliest = at instanceof Date ? at : new Date(`${String(at).replace(' ', 'T')}Z`);
    // An instance starting just before the first lead arrived: the last 09:05 was before any lead.
    const before = new Date(earliest.getTime() - 1000);
    stack.clock.set(before);
    try {
      const runs = async () => (await stack.app.database.db.select().from(digestRuns)).length;
      const count = await runs();
      const scheduler = startDigestScheduler(deps(), { instance: 'fresh' });
      await scheduler.catchUp();
      scheduler.stop();
      expect(await runs()).toBe(count);
    } finally {
      stack.clock.set(now);
    }
  });
});

describe('战报 in chat', () => {
  it("sends the member their team's digest privately", async () => {
    await stack.emulator.control.sendText('WangLei', '战报');
    const message = await waitFor(
      () =>
        stack.emulator.state
          .chat('WangLei')
          ?.messages.find((m) => m.direction === 'out' && m.msgtype === 'markdown'),
      'the digest in chat',
    );
    expect(message.markdown).toContain('华东');
  }, 20_000);
});
