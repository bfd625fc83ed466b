import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { digestRuns } from '../../src/db/schema';
import { digestPeriod, sendDigest, startDigestScheduler } from '../../src/reports/digest';
import { type ChatDriver, PLATFORMS, startChatStack, waitFor } from '../helpers/chat-driver';
import { request } from '../helpers/http';

/**
 * Digests end to end (issue 6): posted through the team's group robot once per team and period
 * however many instances try, late after downtime, masked, and on demand in chat — once with the
 * teams on WeCom (group robot: the text, then the funnel chart), once on DingTalk (custom robot:
 * the text only; DingTalk robots post no images) (test/helpers/chat-driver.ts).
 */
describe.each(PLATFORMS)('with the teams on %s', (platform) => {
  let chat: ChatDriver;
  let key: string;

  beforeAll(async () => {
    chat = await startChatStack(platform, {
      orgFile: path.resolve(__dirname, '../fixtures/org.digest.jsonc'),
      // The scheduler's own catch-up is tested below with a clock of our choosing.
      server: { digests: false },
    });
    key = await chat.app.createKey('website');
  });
  afterAll(async () => {
    await chat.close();
  });

  const deps = () => chat.app.server.deps;
  const team = (id: string) => deps().org.teams.find((t) => t.id === id)!;

  async function postLead(n: number): Promise<number> {
    const res = await request(`${chat.app.url}/api/v1/leads`, {
      body: {
        name: `张${n}`,
        phone: `1390000${String(1000 + n)}`,
        company: `测试${n}厂`,
        industry: '制造业',
      },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  describe('the daily digest', () => {
    it('three instances at once post one digest: the text (then the funnel chart where the robot posts images), with no unmasked phone', async () => {
      const ids = [await postLead(1), await postLead(2)];
      // Routing runs right after intake; the digest counts the team's leads, so wait for both.
      await waitFor(async () => {
        const [rows] = (await chat.db.execute(
          sql`SELECT COUNT(*) AS n FROM leads WHERE team_id = 'east' AND id IN (${ids[0]}, ${ids[1]})`,
        )) as unknown as [{ n: number }[]];
        return Number(rows[0]!.n) === 2;
      }, 'both leads routed');
      // A rep typed a phone number into a lost reason: it must not reach the group unmasked.
      await chat.db.execute(
        sql`UPDATE leads SET stage = 'lost', lost_reason = '预算不符 13900001001' WHERE id = ${ids[0]}`,
      );
      const dayAfter = new Date(chat.clock.now().getTime() + 24 * 3600_000);
      const outcomes = await Promise.all(
        ['a', 'b', 'c'].map((instance) =>
          sendDigest(deps(), { team: team('east'), kind: 'daily', at: dayAfter, instance }),
        ),
      );
      expect(outcomes.sort()).toEqual(['already_sent', 'already_sent', 'sent']);
      const kinds = chat.traits.digestChart ? ['markdown', 'image'] : ['markdown'];
      const posted = await waitFor(
        () => (chat.groupPosts('east').length >= kinds.length ? chat.groupPosts('east') : null),
        'the digest',
      );
      expect(posted.map((m) => m.kind)).toEqual(kinds);
      expect(posted[0]!.raw).toContain('华东');
      const content = posted[0]!.content;
      expect(content).toContain('华东日报');
      expect(content).toContain('**新线索** 2 条');
      expect(content).toContain('官网表单');
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
      for (const message of posted) {
        expect(message.raw).not.toMatch(/1390000100[12]/);
        expect(message.raw).not.toContain('张1');
      }
      const runs = await chat.db.select().from(digestRuns).where(eq(digestRuns.teamId, 'east'));
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        kind: 'daily',
        late: 0,
        periodKey: digestPeriod('daily', 'Asia/Shanghai', dayAfter).periodKey,
      });
    }, 20_000);

    it('an empty team still gets a digest that reads naturally', async () => {
      const at = new Date(chat.clock.now().getTime() + 24 * 3600_000);
      expect(await sendDigest(deps(), { team: team('west'), kind: 'daily', at })).toBe('sent');
      const posted = await waitFor(() => chat.groupPosts('west')[0], 'the west digest');
      expect(posted.raw).toContain('华西');
    }, 20_000);

    it('after downtime, the missed digest is sent once on start, marked late', async () => {
      // The scheduler of a server that starts two hours after east's 09:05 (Asia/Shanghai).
      const now = chat.clock.now();
      const local = new Date(now.getTime() + 8 * 3600_000);
      const eleven = new Date(
        Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 2, 11 - 8, 5),
      );
      chat.clock.set(eleven);
      try {
        const scheduler = startDigestScheduler(deps(), { instance: 'late-test' });
        await scheduler.catchUp();
        await scheduler.catchUp();
        scheduler.stop();
        const { periodKey } = digestPeriod('daily', 'Asia/Shanghai', eleven);
        const [run] = await chat.db
          .select()
          .from(digestRuns)
          .where(
            sql`${digestRuns.teamId} = 'east' AND ${digestRuns.periodKey} = ${periodKey} AND ${digestRuns.kind} = 'daily'`,
          );
        expect(run).toMatchObject({ late: 1, instance: 'late-test' });
        const late = await waitFor(
          () => chat.groupPosts('east').find((m) => m.raw.includes('补发')),
          'the late digest',
        );
        expect(late.kind).toBe('markdown');
      } finally {
        chat.clock.set(now);
      }
    }, 20_000);
  });

  describe('a fresh install', () => {
    it('does not open with a late digest of a day before it had any lead', async () => {
      const now = chat.clock.now();
      const [first] = (await chat.db.execute(sql`SELECT MIN(created_at) AS at FROM leads`)) as unknown as [
        { at: string | Date }[],
      ];
      const at = first[0]!.at;
      const earliest = at instanceof Date ? at : new Date(`${String(at).replace(' ', 'T')}Z`);
      // An instance starting just before the first lead arrived: the last 09:05 was before any lead.
      const before = new Date(earliest.getTime() - 1000);
      chat.clock.set(before);
      try {
        const runs = async () => (await chat.db.select().from(digestRuns)).length;
        const count = await runs();
        const scheduler = startDigestScheduler(deps(), { instance: 'fresh' });
        await scheduler.catchUp();
        scheduler.stop();
        expect(await runs()).toBe(count);
      } finally {
        chat.clock.set(now);
      }
    });
  });

  describe('战报 in chat', () => {
    it("sends the member their team's digest privately", async () => {
      expect((await chat.send('rep_a', '战报')).ok).toBe(true);
      const message = await waitFor(
        () => chat.messagesTo('rep_a').find((m) => m.kind === 'markdown'),
        'the digest in chat',
      );
      expect(message.text).toContain('华东');
    }, 20_000);
  });
});
