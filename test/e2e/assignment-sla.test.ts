import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { leadEvents, leads } from '../../src/db/schema';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

/**
 * Assignment, claim window, escalation ladder, recycling and the pool, end to end: the real server
 * with its timer and outbox workers, MariaDB, and the WeCom emulator as every member's chat. The
 * fixture's SLA durations are seconds (test/fixtures/org.sla.jsonc).
 */
const MEMBER_OF: Record<string, string> = {
  WangLei: 'rep_a',
  LiNa: 'rep_b',
  ZhangWei: 'rep_c',
  LiuYang: 'rep_d',
  WuTing: 'rep_e',
  ChenSup: 'sup',
  ZhouDir: 'dir',
};
let stack: WecomStack;
let key: string;
let seq = 0;
const phone = () => `1360000${String(3000 + ++seq).padStart(4, '0')}`;

const GRADE_BODY = {
  A: { industry: '制造业', title: '总经理' },
  B: { industry: '制造业' },
  C: {},
} as const;

async function postLead(
  grade: keyof typeof GRADE_BODY,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { name: `客户${seq}`, phone: phone(), ...GRADE_BODY[grade], ...extra },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

const cardsOf = (userid: string) => stack.emulator.state.cards(userid);
const cardFor = (userid: string, leadId: number, template: string) =>
  cardsOf(userid).find((c) => c.card.taskId?.startsWith(`L${leadId}-${template}-`));
const whoHas = (leadId: number, template: string) =>
  Object.keys(MEMBER_OF).filter((u) => cardFor(u, leadId, template));

async function leadRow(id: number) {
  const [row] = await stack.app.database.db.select().from(leads).where(eq(leads.id, id));
  return row!;
}
async function eventTypes(id: number) {
  return (await stack.app.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, id))).map(
    (e) => e.type,
  );
}

beforeAll(async () => {
  stack = await startWecomStack({
    orgFile: path.resolve(__dirname, '../fixtures/org.sla.jsonc'),
    members: Object.entries(MEMBER_OF).map(([userid, id]) => ({ userid, name: id })),
  });
  key = await stack.app.createKey('website');
});
afterAll(async () => {
  await stack.close();
});

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
    const [rows] = (await stack.app.database.db.execute(
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
    expect((await leadRow(id)).assigneeId).toBe(MEMBER_OF[second]);
    await waitFor(() => cardFor(first, id, 'new-lead')?.card.disabled, 'the first card voided');
    expect(cardFor(first, id, 'new-lead')!.card.replaceName).toBe('超时未认领，已转他人');

    // One hop only (rerouteHops 1): then the ladder, supervisor at 5 s and director at 7 s.
    const toSupervisor = await waitFor(
      () => cardFor('ChenSup', id, 'escalation'),
      'the supervisor escalation',
      10_000,
    );
    expect(JSON.stringify(toSupervisor.card.card)).toContain('未按时认领');
    await waitFor(() => cardFor('ZhouDir', id, 'escalation'), 'the director escalation', 10_000);
    const types = await eventTypes(id);
    expect(types.filter((t) => t === 'lead.rerouted')).toHaveLength(1);
    expect(types.filter((t) => t === 'sla.escalated')).toHaveLength(2);
    expect(types).toContain('sla.claim_missed');

    // 我来跟进 on the director's card: the director owns the lead.
    await stack.emulator.control.clickButton('ZhouDir', {
      taskId: cardFor('ZhouDir', id, 'escalation')!.card.taskId!,
      eventKey: 'take_over',
    });
    await waitFor(async () => (await leadRow(id)).ownerId === 'dir', 'the take-over');
  }, 30_000);

  it('改派给下一位 from the supervisor offers the lead to another rep', async () => {
    const id = await postLead('A');
    const first = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
    await stack.app.database.db.execute(
      sql`UPDATE timers SET due_at = NOW(3) WHERE lead_id = ${id} AND effect_key = ${`lead:${id}:unclaimed:L1`}`,
    );
    const escalation = await waitFor(() => cardFor('ChenSup', id, 'escalation'), 'the escalation', 10_000);
    const assigneeBefore = (await leadRow(id)).assigneeId;
    await stack.emulator.control.clickButton('ChenSup', {
      taskId: escalation.card.taskId!,
      eventKey: 'reassign_next',
    });
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
    await stack.emulator.control.clickButton(rep, {
      taskId: cardFor(rep, id, 'new-lead')!.card.taskId!,
      eventKey: 'claim',
    });
    const reminder = await waitFor(() => cardFor(rep, id, 'reminder'), 'the stagnation reminder', 8000);
    expect(JSON.stringify(reminder.card.card)).toContain('新线索');
    const escalation = await waitFor(() => cardFor('ChenSup', id, 'escalation'), 'the supervisor', 8000);
    expect(JSON.stringify(escalation.card.card)).toContain('推进「新线索」阶段');
    const ladder = (await stack.app.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, id)))
      .filter((e) => (e.data as { ladder?: string }).ladder === 'stagnation')
      .map((e) => e.type);
    expect(ladder).toEqual(['sla.reminded', 'sla.escalated']);
  }, 20_000);
});

describe('follow-up', () => {
  it('已跟进 on a reminder records the follow-up, stops the recycle clock and starts the cadence', async () => {
    const id = await postLead('B');
    const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
    await stack.emulator.control.clickButton(rep, {
      taskId: cardFor(rep, id, 'new-lead')!.card.taskId!,
      eventKey: 'claim',
    });
    const reminder = await waitFor(() => cardFor(rep, id, 'reminder'), 'a reminder', 8000);
    await stack.emulator.control.clickButton(rep, { taskId: reminder.card.taskId!, eventKey: 'followed_up' });
    await waitFor(async () => (await eventTypes(id)).includes('lead.followed_up'), 'the follow-up');
    const [timers] = (await stack.app.database.db.execute(
      sql`SELECT kind, status, TIMESTAMPDIFF(DAY, NOW(3), due_at) AS days FROM timers WHERE lead_id = ${id} ORDER BY id`,
    )) as unknown as [{ kind: string; status: string; days: number }[]];
    expect(timers.filter((t) => t.kind === 'sla.recycle').map((t) => t.status)).toEqual(['cancelled']);
    // Grade B's cadence defaults to every two weeks.
    expect(timers.filter((t) => t.kind === 'sla.cadence')).toEqual([
      { kind: 'sla.cadence', status: 'pending', days: 13 },
    ]);
    await waitFor(
      () =>
        stack.emulator.state
          .chat(rep)!
          .messages.find((m) => JSON.stringify(m).includes(`已记录线索 #${id} 的跟进`)),
      'the request for the note',
    );
  }, 20_000);
});

describe('recycling and the pool', () => {
  it('warns the owner, then recycles an A lead without follow-up into the pool and offers it to the team', async () => {
    const id = await postLead('A');
    const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
    await stack.emulator.control.clickButton(rep, {
      taskId: cardFor(rep, id, 'new-lead')!.card.taskId!,
      eventKey: 'claim',
    });
    await waitFor(async () => (await leadRow(id)).ownerId === MEMBER_OF[rep], 'the claim');
    // follow-up due at 2 s: a reminder card; warning at 3 s (5 s − 2 s); recycle at 5 s.
    await waitFor(() => cardFor(rep, id, 'reminder'), 'the reminder card', 8000);
    const warning = await waitFor(
      () =>
        stack.emulator.state
          .chat(rep)!
          .messages.find(
            (m) => JSON.stringify(m).includes(`线索 #${id}`) && JSON.stringify(m).includes('收回公海'),
          ),
      'the recycle warning',
      8000,
    );
    expect(warning).toBeDefined();
    await waitFor(async () => (await eventTypes(id)).includes('lead.recycled'), 'the recycle', 10_000);
    const row = await leadRow(id);
    expect([row.ownerId, row.assigneeId]).toEqual([null, null]);
    // Offered to the other four reps, not to the one who let it lapse.
    const offered = await waitFor(
      () => (whoHas(id, 'pool-offer').length === 4 ? whoHas(id, 'pool-offer') : undefined),
      'the pool offers',
    );
    expect(offered).not.toContain(rep);
    // The pool card masks the phone number.
    expect(JSON.stringify(cardFor(offered[0]!, id, 'pool-offer')!.card)).toMatch(/1\d{2}\*{4}\d{4}/);
  }, 30_000);

  it('twenty simultaneous grabs give exactly one owner, and every other card shows who won', async () => {
    const id = await postLead('B');
    const rep = (await waitFor(() => whoHas(id, 'new-lead')[0], 'the offer')) as string;
    await stack.emulator.control.clickButton(rep, {
      taskId: cardFor(rep, id, 'new-lead')!.card.taskId!,
      eventKey: 'release',
    });
    const offered = await waitFor(
      () => (whoHas(id, 'pool-offer').length === 4 ? whoHas(id, 'pool-offer') : undefined),
      'the pool offers',
    );
    const clicks = Array.from({ length: 20 }, (_, i) => offered[i % offered.length]!).map((userid) =>
      stack.emulator.control
        .clickButton(userid, { taskId: cardFor(userid, id, 'pool-offer')!.card.taskId!, eventKey: 'grab' })
        .catch(() => undefined),
    );
    await Promise.all(clicks);
    const owner = await waitFor(async () => (await leadRow(id)).ownerId, 'an owner');
    const claims = (
      await stack.app.database.db
        .select()
        .from(leadEvents)
        .where(and(eq(leadEvents.leadId, id), eq(leadEvents.type, 'lead.claimed')))
    ).length;
    expect(claims).toBe(1);
    const winner = offered.find((u) => MEMBER_OF[u] === owner)!;
    for (const userid of offered) {
      const card = await waitFor(
        () =>
          cardFor(userid, id, 'pool-offer')?.card.disabled ? cardFor(userid, id, 'pool-offer') : undefined,
        `${userid}'s card update`,
      );
      expect(JSON.stringify(card.card)).toContain(userid === winner ? '认领' : '抢单');
    }
  }, 30_000);
});
