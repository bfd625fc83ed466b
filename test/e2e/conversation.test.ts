import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { handleText } from '../../src/conversation/handle-text';
import { leadEvents, leadNotes, leads } from '../../src/db/schema';
import { type ChatDriver, PLATFORMS, startChatStack, waitFor } from '../helpers/chat-driver';
import { request } from '../helpers/http';

/**
 * The conversation, end to end (issue 5): members type to the bot in the emulator, the real server
 * records notes, stage changes, reminders and reassignments in MariaDB, and answers in chat — once
 * with the teams on WeCom, once on DingTalk (test/helpers/chat-driver.ts).
 */
const REPS = ['rep_a', 'rep_b', 'rep_c', 'rep_d'];
const MEMBERS = [...REPS, 'sup', 'dir', 'west_sup', 'west_rep', 'gone'];
const NAME: Record<string, string> = { rep_a: '王磊', rep_b: '李娜', rep_c: '张伟', rep_d: '刘洋' };
let seq = 0;

describe.each(PLATFORMS)('with the teams on %s', (platform) => {
  let chat: ChatDriver;
  let key: string;

  beforeAll(async () => {
    chat = await startChatStack(platform, {
      orgFile: path.resolve(__dirname, '../fixtures/org.conversation.jsonc'),
    });
    key = await chat.app.createKey('website');
  });
  afterAll(async () => {
    await chat.close();
  });

  async function postLead(extra: Record<string, unknown> = {}): Promise<number> {
    seq++;
    const res = await request(`${chat.app.url}/api/v1/leads`, {
      body: {
        name: `客户${seq}`,
        phone: `1370000${String(1000 + seq).padStart(4, '0')}`,
        company: `测试机械${seq}有限公司`,
        industry: '制造业',
        ...extra,
      },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  /** The member whose new-lead card carries this lead. */
  async function offeredTo(leadId: number): Promise<string> {
    return (await waitFor(
      () => MEMBERS.find((m) => chat.card(m, leadId, 'new-lead')),
      `the card of #${leadId}`,
    )) as string;
  }

  async function leadRow(id: number) {
    const [row] = await chat.db.select().from(leads).where(eq(leads.id, id));
    return row!;
  }

  /** The member types; resolves with the bot's reply (the first new text message to them). */
  async function say(member: string, text: string): Promise<string> {
    const before = chat.textsTo(member).length;
    const sent = await chat.send(member, text);
    expect(sent.ok).toBe(true);
    return waitFor(() => chat.textsTo(member)[before], `the reply to "${text}"`);
  }

  /**
   * The rep the bot has written to least so far, other than `but`: the typing is spread because each
   * member's messages are paced (WeCom 30 a minute, DingTalk 20), and this file types fast.
   */
  const quietRep = (but: string) =>
    REPS.filter((r) => r !== but).sort((a, b) => chat.messagesTo(a).length - chat.messagesTo(b).length)[0]!;

  /** A new lead, claimed by typing 认领: returns its id and its owner. */
  async function claimedLead(extra: Record<string, unknown> = {}): Promise<{ id: number; rep: string }> {
    const id = await postLead(extra);
    const rep = await offeredTo(id);
    const answer = await say(rep, `认领 ${id}`);
    expect(answer).toContain(`已认领 #${id}`);
    expect((await leadRow(id)).ownerId).toBe(rep);
    return { id, rep };
  }

  describe('notes', () => {
    it('records free text as a note on the lead of the last card, fills BANT lines, and says what it recorded', async () => {
      const { id, rep } = await claimedLead();
      const answer = await say(rep, '客户说下周来厂参观\n预算：50万');
      expect(answer).toContain(`已记录到 #${id}`);
      expect(answer).toContain('预算 50万');
      expect(answer).toContain('新线索 → 已联系');
      expect(answer).toContain('推进到「已确认需求」还缺：决策人、需求、时间');
      const row = await leadRow(id);
      expect(row).toMatchObject({ stage: 'contacted', budget: 500000, budgetText: '50万' });
      const notes = await chat.db.select().from(leadNotes).where(eq(leadNotes.leadId, id));
      expect(notes.map((n) => [n.memberId, n.text])).toEqual([[rep, '客户说下周来厂参观\n预算：50万']]);
      // contacted → a call-back reminder two days later (PRODUCT.md default).
      const [timers] = (await chat.db.execute(
        sql`SELECT TIMESTAMPDIFF(HOUR, NOW(3), due_at) AS hours FROM timers WHERE lead_id = ${id} AND kind = 'lead.reminder' AND status = 'pending'`,
      )) as unknown as [{ hours: number }[]];
      expect(timers.map((t) => Number(t.hours))).toEqual([47]);
    }, 20_000);

    it('asks for an id, and records nothing, when the member has no current lead', async () => {
      const answer = await say('dir', '客户很满意');
      expect(answer).toContain('没有找到你当前的线索');
      expect(answer).toContain('#123 客户很满意');
    });

    it('records a note once when the platform delivers the same message twice', async () => {
      const { id, rep } = await claimedLead();
      const first = await chat.send(rep, `#${id} 电话沟通了报价`);
      expect(first.ok).toBe(true);
      await waitFor(async () => {
        const rows = await chat.db.select().from(leadNotes).where(eq(leadNotes.leadId, id));
        return rows.length === 1;
      }, 'the note');
      const again = await first.redeliver();
      expect(again.ok).toBe(true);
      // A later message answered (详情: a card of its own, so no answer can be mistaken for it): anything
      // the duplicate could have caused has happened by now.
      expect((await chat.send(rep, `详情 ${id}`)).ok).toBe(true);
      await waitFor(() => chat.card(rep, id, 'detail'), 'the answer to a later message');
      const rows = await chat.db.select().from(leadNotes).where(eq(leadNotes.leadId, id));
      expect(rows).toHaveLength(1);
      expect(chat.textsTo(rep).filter((t) => t.includes(`已记录到 #${id}`))).toHaveLength(1);
    }, 20_000);

    it('records a note once even if the inbox let a message through twice (unique source message id)', async () => {
      const { id, rep } = await claimedLead();
      const deps = chat.app.server.deps;
      const event = {
        kind: 'text' as const,
        platform: chat.platform,
        eventId: `dup-${id}`,
        userId: chat.userId(rep),
        at: chat.clock.now(),
        text: `#${id} 寄了样品`,
      };
      const outcomes = [await handleText(deps, event), await handleText(deps, event)];
      expect(outcomes).toEqual(['note:recorded', 'note:duplicate']);
      const rows = await chat.db.select().from(leadNotes).where(eq(leadNotes.leadId, id));
      expect(rows.map((r) => r.text)).toEqual(['寄了样品']);
    }, 20_000);
  });

  describe('stages and gates', () => {
    it('refuses qualified without BANT and says what is missing, then accepts it after a note fills it', async () => {
      const { id, rep } = await claimedLead();
      const refused = await say(rep, `阶段 ${id} 已确认`);
      expect(refused).toContain('还不能改为「已确认需求」');
      expect(refused).toContain('缺少 预算、决策人、需求、时间');
      expect(refused).toContain('预算：50万');
      expect((await leadRow(id)).stage).toBe('new');

      const noted = await say(
        rep,
        `#${id} 和王总通了电话\n预算：80万；决策人：王总\n需求：20台数控机床\n时间：Q3`,
      );
      expect(noted).toContain('可以推进到「已确认需求」');
      const accepted = await say(rep, `stage ${id} qualified`);
      expect(accepted).toContain('改为「已确认需求」');
      const row = await leadRow(id);
      expect(row).toMatchObject({
        stage: 'qualified',
        budget: 800000,
        authority: '王总',
        need: '20台数控机床',
        purchaseTimeline: 'Q3',
      });
      // The stagnation clock restarted for the new stage.
      const [timers] = (await chat.db.execute(
        sql`SELECT effect_key AS k FROM timers WHERE lead_id = ${id} AND kind = 'sla.stagnation' AND status = 'pending'`,
      )) as unknown as [{ k: string }[]];
      expect(timers.length).toBeGreaterThan(0);
      expect(timers.every((t) => t.k.includes(':stagnation:qualified:'))).toBe(true);

      // Won: asked for the amount, then recorded with it; every SLA timer stops.
      expect(await say(rep, `赢单 ${id}`)).toContain(`赢单需要成交金额，例如：赢单 ${id} 8万`);
      const won = await say(rep, `赢单 ${id} 8万`);
      expect(won).toContain('恭喜赢单');
      expect(won).toContain('8万元（80,000 元）');
      expect(await leadRow(id)).toMatchObject({ stage: 'won', wonAmount: 80000 });
      const [pending] = (await chat.db.execute(
        sql`SELECT COUNT(*) AS n FROM timers WHERE lead_id = ${id} AND kind LIKE 'sla.%' AND status = 'pending'`,
      )) as unknown as [{ n: number }[]];
      expect(Number(pending[0]!.n)).toBe(0);
    }, 30_000);

    it('refuses lost without a configured reason, listing the reasons, then records one', async () => {
      const { id, rep } = await claimedLead();
      const refused = await say(rep, `输单 ${id} 不想说`);
      expect(refused).toContain('可选：预算不符、需求不匹配');
      expect((await leadRow(id)).stage).toBe('new');
      const lost = await say(rep, `lost ${id} 预算不符，客户只有5万`);
      expect(lost).toContain('原因：预算不符');
      expect(await leadRow(id)).toMatchObject({
        stage: 'lost',
        lostReason: '预算不符',
        lostDetail: '客户只有5万',
      });
    }, 20_000);
  });

  describe('reminders', () => {
    it('sets a reminder at the right local time and sends a reminder card when it is due', async () => {
      const { id, rep } = await claimedLead();
      const answer = await say(rep, `提醒 ${id} 明天下午3点 回访报价`);
      expect(answer).toContain('15:00');
      expect(answer).toContain(`#${id}`);
      // 明天下午3点 in Asia/Shanghai, from the server's clock.
      const now = chat.clock.now();
      const local = new Date(now.getTime() + 8 * 3600_000);
      const expected = Date.UTC(
        local.getUTCFullYear(),
        local.getUTCMonth(),
        local.getUTCDate() + 1,
        15 - 8,
        0,
        0,
      );
      const [rows] = (await chat.db.execute(
        sql`SELECT effect_key AS k, due_at AS due FROM timers WHERE lead_id = ${id} AND kind = 'lead.reminder' AND effect_key LIKE '%:remind:%'`,
      )) as unknown as [{ k: string; due: string | Date }[]];
      expect(rows).toHaveLength(1);
      const due =
        rows[0]!.due instanceof Date ? rows[0]!.due : new Date(`${String(rows[0]!.due).replace(' ', 'T')}Z`);
      expect(due.getTime()).toBe(expected);

      // Time passes (the database clock decides due timers): the reminder card reaches the rep.
      await chat.db.execute(sql`UPDATE timers SET due_at = NOW(3) WHERE effect_key = ${rows[0]!.k}`);
      const card = await waitFor(() => chat.card(rep, id, 'reminder'), 'the reminder card');
      expect(card.text).toContain('回访报价');
    }, 20_000);
  });

  describe('listing', () => {
    it('我的 lists my open leads, most urgent first', async () => {
      const a = await claimedLead();
      // Give that rep a second lead with a reminder an hour from now: it comes first.
      let b = await claimedLead();
      while (b.rep !== a.rep) b = await claimedLead();
      await say(b.rep, `提醒 ${b.id} 1小时后 回电`);
      const list = await say(a.rep, '我的');
      expect(list).toMatch(/你的未结线索 \d+ 条/);
      const lines = list.split('\n').filter((l) => /^\d+\. #/.test(l));
      expect(lines[0]).toContain(`#${b.id}`);
      expect(lines.some((l) => l.includes(`#${a.id}`))).toBe(true);
    }, 30_000);
  });

  describe('authorization', () => {
    it("refuses another rep's note and says who may write; the supervisor may", async () => {
      const { id, rep } = await claimedLead();
      const other = quietRep(rep);
      const refused = await say(other, `#${id} 我也联系了客户`);
      expect(refused).toContain('不是你的线索');
      expect(refused).toContain('主管陈主管');
      const westSup = await say('west_sup', `#${id} 看看`);
      expect(westSup).toContain('不是你的线索');
      expect(await say('sup', `#${id} 主管补充：客户是老客户介绍`)).toContain(`已记录到 #${id}`);
      const notes = await chat.db.select().from(leadNotes).where(eq(leadNotes.leadId, id));
      expect(notes.map((n) => n.memberId)).toEqual(['sup']);
    }, 20_000);

    it('a departed member is told they are not a member and nothing is written', async () => {
      const answer = await say('gone', '认领 1');
      expect(answer).toContain('不在 LeadRelay 的成员名单中');
    });

    it('answers an English member in English', async () => {
      const id = await postLead({ province: '四川' });
      expect(await offeredTo(id)).toBe('west_rep');
      expect(await say('west_rep', `claim ${id}`)).toContain(`Claimed #${id}`);
      expect(await say('west_rep', `stage ${id} qualified`)).toContain(
        'missing budget, authority, need, timeline',
      );
    }, 20_000);
  });

  describe('reassignment', () => {
    it('a supervisor reassigns a lead to a named member, who gets it with a detail card; the old owner is told', async () => {
      const { id, rep } = await claimedLead();
      const target = quietRep(rep);
      const targetName = NAME[target]!;
      // A rep may not reassign.
      expect(await say(rep, `转派 ${id} ${targetName}`)).toContain('只有线索所在团队的主管或总监可以转派');
      expect(await say('sup', `转派 ${id} 不存在的人`)).toContain('团队里没有「不存在的人」');
      const done = await say('sup', `转派 ${id} ${targetName}`);
      expect(done).toContain(`转派给${targetName}`);
      expect((await leadRow(id)).ownerId).toBe(target);
      const detail = await waitFor(() => chat.card(target, id, 'detail'), 'the detail card');
      expect(detail.text).toContain('陈主管把这条线索转派给你');
      await waitFor(
        () => chat.textsTo(rep).find((t) => t.includes(`线索 #${id} 已由陈主管转派给${targetName}`)),
        'the old owner told',
      );
      // The new owner may write; the old one no longer.
      expect(await say(target, `#${id} 已接手`)).toContain(`已记录到 #${id}`);
      expect(await say(rep, `#${id} 再补充一点`)).toContain('不是你的线索');
      const types = (await chat.db.select().from(leadEvents).where(eq(leadEvents.leadId, id))).map(
        (e) => e.type,
      );
      expect(types).toContain('lead.reassigned');
    }, 30_000);
  });

  describe('commands', () => {
    it('详情 sends a detail card with the recent timeline; 帮助 lists the commands; unreadable commands say what to type', async () => {
      const { id, rep } = await claimedLead();
      await say(rep, `#${id} 第一次电话，客户在比价`);
      expect((await chat.send(rep, `详情 ${id}`)).ok).toBe(true);
      const detail = await waitFor(() => chat.card(rep, id, 'detail'), 'the detail card');
      const json = detail.text;
      expect(json).toContain('已联系');
      expect(json).toContain('第一次电话');
      expect(await say(rep, '帮助')).toContain('赢单 123 8万');
      expect(await say(rep, `阶段 ${id} 火星`)).toContain('没有「火星」这个阶段');
      expect(await say(rep, '提醒 明天 回访')).toContain('好的');
    }, 20_000);

    it('请假 and 回来了 change availability', async () => {
      const rep = quietRep('');
      expect(await say(rep, '请假 3天')).toContain('已设置离开');
      expect(await say(rep, '回来了')).toContain('欢迎回来');
    });
  });
});
