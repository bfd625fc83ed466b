import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { cards, leadEvents, leads } from '../../src/db/schema';
import { type ChatDriver, PLATFORMS, startChatStack, waitFor } from '../helpers/chat-driver';
import { request } from '../helpers/http';

/**
 * Assignment, claim window, escalation ladder, recycling and the pool, end to end: the real server
 * with its timer and outbox workers, MariaDB, and the emulator as every member's chat — once with the
 * team on WeCom, once with it on DingTalk (test/helpers/chat-driver.ts). The fixture's SLA durations
 * are seconds (test/fixtures/org.sla.jsonc).
 */
const REPS = ['rep_a', 'rep_b', 'rep_c', 'rep_d', 'rep_e'];
const MEMBERS = [...REPS, 'sup', 'dir'];
const NAME: Record<string, string> = {
  rep_a: '王磊',
  rep_b: '李娜',
  rep_c: '张伟',
  rep_d: '刘洋',
  rep_e: '吴婷',
};
let seq = 0;
const phone = () => `1360000${String(3000 + ++seq).padStart(4, '0')}`;

const GRADE_BODY = {
  A: { industry: '制造业', title: '总经理' },
  B: { industry: '制造业' },
  C: {},
} as const;

describe.each(PLATFORMS)('with the team on %s', (platform) => {
  let chat: ChatDriver;
  let key: string;

  beforeAll(async () => {
    chat = await startChatStack(platform, { orgFile: path.resolve(__dirname, '../fixtures/org.sla.jsonc') });
    key = await chat.app.createKey('website');
  });
  afterAll(async () => {
    await chat.close();
  });

  async function postLead(
    grade: keyof typeof GRADE_BODY,
    extra: Record<string, unknown> = {},
  ): Promise<number> {
    const res = await request(`${chat.app.url}/api/v1/leads`, {
      body: { name: `客户${seq}`, phone: phone(), ...GRADE_BODY[grade], ...extra },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  /** The members who can see a card of this lead and template (in their chat or their team group). */
  const whoHas = (leadId: number, template: string) => MEMBERS.filter((m) => chat.card(m, leadId, template));

  async function leadRow(id: number) {
    const [row] = await chat.db.select().from(leads).where(eq(leads.id, id));
    return row!;
  }
  async function eventTypes(id: number) {
    return (await chat.db.select().from(leadEvents).where(eq(leadEvents.leadId, id))).map((e) => e.type);
  }
  /** Everyone a pool-offer card of this lead is addressed to, sorted (one card each, or one for all). */
  async function offerRecipients(id: number) {
    const rows = await chat.db
      .select({ recipients: cards.recipients })
      .from(cards)
      .where(and(eq(cards.leadId, id), eq(cards.template, 'pool-offer')));
    return rows.flatMap((r) => r.recipients).sort();
  }
  /**
   * Waits for the 抢单 offer of a pooled lead and checks where it went: each offered rep's own chat
   * (WeCom), or once in the team group and in nobody's one-to-one chat (DingTalk). Resolves to the
   * offered members.
   */
  async function poolOffered(id: number, offered: string[]): Promise<string[]> {
    if (chat.traits.poolOffers === 'each-member') {
      await waitFor(() => whoHas(id, 'pool-offer').length === offered.length, 'the pool offers');
      expect(whoHas(id, 'pool-offer').sort()).toEqual([...offered].sort());
    } else {
      await waitFor(() => chat.groupCard('east', id, 'pool-offer'), 'the pool offer in the team group');
      for (const m of MEMBERS) expect(chat.directCard(m, id, 'pool-offer')).toBeUndefined();
    }
    expect(await offerRecipients(id)).toEqual([...offered].sort());
    return offered;
  }

  describe('assignment', () => {
    it('deals grade B leads round robin across the team, one card each, and sends grade C to the pool without a card', async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await postLead('B'));
      const owners = [];
      for (const id of ids)
        owners.push((await waitFor(() => whoHas(id, 'new-lead')[0], `card of ${id}`)) as string);
      expect(new Set(owners).size).toBe(5);
      for (const id of ids) expect(whoHas(id, 'new-lead')).toHaveLength(1);

      const nurture = await postLead('C');
      await waitFor(async () => (await eventTypes(nurture)).includes('lead.pooled'), 'the nurture decision');
      const row = await leadRow(nurture);
      expect([row.teamId, row.assigneeId, row.ownerId]).toEqual(['east', null, null]);
      expect(whoHas(nurture, 'new-lead')).toEqual([]);
      expect(whoHas(nurture, 'pool-offer')).toEqual([]);
      expect(chat.groupCard('east', nurture, 'pool-offer')).toBeUndefined();
    });
  });

  describe('a burst', () => {
    it('deals twenty simultaneous leads exactly evenly, each with one card (batched routing)', async () => {
      const ids = await Promise.all(Array.from({ length: 20 }, () => postLead('B')));
      const holders = await Promise.all(
        ids.map((id) => waitFor(() => whoHas(id, 'new-lead')[0], `card of ${id}`)),
      );
      const perRep = new Map<string, number>();
      for (const holder of holders) perRep.set(holder as string, (perRep.get(holder as string) ?? 0) + 1);
      expect([...perRep.values()]).toEqual([4, 4, 4, 4, 4]);
      for (const id of ids) expect(whoHas(id, 'new-lead')).toHaveLength(1);
      const [rows] = (await chat.db.execute(
        sql`SELECT COUNT(*) AS n FROM lead_events WHERE type = 'lead.assigned' AND lead_id IN (${sql.join(ids, sql`, `)})`,
      )) as unknown as [{ n: number }[]];
      expect(Number(rows[0]!.n)).toBe(20);
    });
  });

  describe('claim window and the unclaimed ladder', () => {
    it('reroutes an unclaimed A lead to the next rep, then escalates to the supervisor and the director', async () => {
      const id = await postLead('A');
      const first = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the first offer')) as string;
      // 2 s later nobody has claimed: the next rep gets the card, the first rep's card is voided.
      const second = (await waitFor(
        () => whoHas(id, 'new-lead').find((u) => u !== first),
        'the reroute',
        8000,
      )) as string;
      expect((await leadRow(id)).assigneeId).toBe(second);
      await waitFor(() => chat.card(first, id, 'new-lead')?.settled, 'the first card voided');
      expect(chat.card(first, id, 'new-lead')!.settledText).toBe('超时未认领，已转他人');

      // One hop only (rerouteHops 1): then the ladder, supervisor at 5 s and director at 7 s.
      const toSupervisor = await waitFor(
        () => chat.card('sup', id, 'escalation'),
        'the supervisor escalation',
        10_000,
      );
      expect(toSupervisor.text).toContain('未按时认领');
      await waitFor(() => chat.card('dir', id, 'escalation'), 'the director escalation', 10_000);
      const types = await eventTypes(id);
      expect(types.filter((t) => t === 'lead.rerouted')).toHaveLength(1);
      expect(types.filter((t) => t === 'sla.escalated')).toHaveLength(2);
      expect(types).toContain('sla.claim_missed');

      // 我来跟进 on the director's card: the director owns the lead.
      await chat.click('dir', id, 'escalation', 'take_over');
      await waitFor(async () => (await leadRow(id)).ownerId === 'dir', 'the take-over');
    }, 30_000);

    it('改派给下一位 from the supervisor offers the lead to another rep', async () => {
      const id = await postLead('A');
      const first = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
      await chat.db.execute(
        sql`UPDATE timers SET due_at = NOW(3) WHERE lead_id = ${id} AND effect_key = ${`lead:${id}:unclaimed:L1`}`,
      );
      await waitFor(() => chat.card('sup', id, 'escalation'), 'the escalation', 10_000);
      const assigneeBefore = (await leadRow(id)).assigneeId;
      await chat.click('sup', id, 'escalation', 'reassign_next');
      await waitFor(async () => {
        const row = await leadRow(id);
        return row.assigneeId !== assigneeBefore && row.assigneeId !== null;
      }, 'the reassignment');
      expect(first).toBeDefined();
    }, 20_000);
  });

  describe('stagnation', () => {
    it('reminds the owner of a lead stuck in its stage, then tells the supervisor', async () => {
      const id = await postLead('B');
      const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
      await chat.click(rep, id, 'new-lead', 'claim');
      const reminder = await waitFor(() => chat.card(rep, id, 'reminder'), 'the stagnation reminder', 8000);
      expect(reminder.text).toContain('新线索');
      const escalation = await waitFor(() => chat.card('sup', id, 'escalation'), 'the supervisor', 8000);
      expect(escalation.text).toContain('推进「新线索」阶段');
      const ladder = (await chat.db.select().from(leadEvents).where(eq(leadEvents.leadId, id)))
        .filter((e) => (e.data as { ladder?: string }).ladder === 'stagnation')
        .map((e) => e.type);
      expect(ladder).toEqual(['sla.reminded', 'sla.escalated']);
    }, 20_000);
  });

  describe('follow-up', () => {
    it('已跟进 on a reminder records the follow-up, stops the recycle clock and starts the cadence', async () => {
      const id = await postLead('B');
      const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
      await chat.click(rep, id, 'new-lead', 'claim');
      await waitFor(() => chat.card(rep, id, 'reminder'), 'a reminder', 8000);
      await chat.click(rep, id, 'reminder', 'followed_up');
      await waitFor(async () => (await eventTypes(id)).includes('lead.followed_up'), 'the follow-up');
      const [timers] = (await chat.db.execute(
        sql`SELECT kind, status, TIMESTAMPDIFF(DAY, NOW(3), due_at) AS days FROM timers WHERE lead_id = ${id} ORDER BY id`,
      )) as unknown as [{ kind: string; status: string; days: number }[]];
      expect(timers.filter((t) => t.kind === 'sla.recycle').map((t) => t.status)).toEqual(['cancelled']);
      // Grade B's cadence defaults to every two weeks.
      expect(timers.filter((t) => t.kind === 'sla.cadence')).toEqual([
        { kind: 'sla.cadence', status: 'pending', days: 13 },
      ]);
      await waitFor(
        () => chat.messagesTo(rep).find((m) => m.text.includes(`已记录线索 #${id} 的跟进`)),
        'the request for the note',
      );
    }, 20_000);
  });

  describe('recycling and the pool', () => {
    it('warns the owner, then recycles an A lead without follow-up into the pool and offers it to the team', async () => {
      const id = await postLead('A');
      const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
      await chat.click(rep, id, 'new-lead', 'claim');
      await waitFor(async () => (await leadRow(id)).ownerId === rep, 'the claim');
      // follow-up due at 2 s: a reminder card; warning at 3 s (5 s − 2 s); recycle at 5 s.
      await waitFor(() => chat.card(rep, id, 'reminder'), 'the reminder card', 8000);
      const warning = await waitFor(
        () => chat.messagesTo(rep).find((m) => m.text.includes(`线索 #${id}`) && m.text.includes('收回公海')),
        'the recycle warning',
        8000,
      );
      expect(warning).toBeDefined();
      await waitFor(async () => (await eventTypes(id)).includes('lead.recycled'), 'the recycle', 10_000);
      const row = await leadRow(id);
      expect([row.ownerId, row.assigneeId]).toEqual([null, null]);
      // Offered to the other four reps, not to the one who let it lapse.
      const offered = await poolOffered(
        id,
        REPS.filter((r) => r !== rep),
      );
      // The pool card masks the phone number.
      expect(chat.card(offered[0]!, id, 'pool-offer')!.text).toMatch(/1\d{2}\*{4}\d{4}/);
    }, 30_000);

    it('twenty simultaneous grabs give exactly one owner, and every other card shows who won', async () => {
      const id = await postLead('B');
      const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
      await chat.click(rep, id, 'new-lead', 'release');
      const offered = await poolOffered(
        id,
        REPS.filter((r) => r !== rep),
      );
      const clicks = Array.from({ length: 20 }, (_, i) => offered[i % offered.length]!).map((member) =>
        chat.click(member, id, 'pool-offer', 'grab').catch(() => undefined),
      );
      await Promise.all(clicks);
      const owner = await waitFor(async () => (await leadRow(id)).ownerId, 'an owner');
      const claims = (
        await chat.db
          .select()
          .from(leadEvents)
          .where(and(eq(leadEvents.leadId, id), eq(leadEvents.type, 'lead.claimed')))
      ).length;
      expect(claims).toBe(1);
      expect(offered).toContain(owner);
      for (const member of offered) {
        const card = await waitFor(
          () =>
            chat.card(member, id, 'pool-offer')?.settled ? chat.card(member, id, 'pool-offer') : undefined,
          `${member}'s card update`,
        );
        // Each member's own card says whether they won; the one card in a DingTalk group, who did.
        if (chat.traits.poolOffers === 'each-member')
          expect(card.text).toContain(member === owner ? '认领' : '抢单');
        else expect(card.settledText).toContain(`已被${NAME[owner]}认领`);
      }
    }, 30_000);

    it('认领 typed in chat grabs a pooled lead, and the offer cards show who won as after a click', async () => {
      const id = await postLead('B');
      const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
      await chat.click(rep, id, 'new-lead', 'release');
      const offered = await poolOffered(
        id,
        REPS.filter((r) => r !== rep),
      );
      const grabber = offered[0]!;
      const before = chat.textsTo(grabber).length;
      expect((await chat.send(grabber, `认领 ${id}`)).ok).toBe(true);
      const answer = await waitFor(() => chat.textsTo(grabber)[before], 'the answer');
      expect(answer).toContain('抢单成功');
      expect((await leadRow(id)).ownerId).toBe(grabber);
      for (const member of offered) {
        const card = await waitFor(
          () =>
            chat.card(member, id, 'pool-offer')?.settled ? chat.card(member, id, 'pool-offer') : undefined,
          `${member}'s card update`,
        );
        if (chat.traits.poolOffers === 'each-member')
          expect(card.text).toContain(member === grabber ? '认领' : '抢单');
        else expect(card.settledText).toContain(`已被${NAME[grabber]}认领`);
      }
    }, 30_000);
  });
});
