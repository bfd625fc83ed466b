import { eq } from 'drizzle-orm';
import { inboxEvents, leadEvents, leads, outbox } from '../../src/db/schema';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

let stack: WecomStack;
let key: string;
let seq = 0;
const phone = () => `1370000${String(2000 + ++seq).padStart(4, '0')}`;

/** Grade B (制造业 = 40 points): routed to a rep with a card; grade C would go to the pool without one. */
const postLead = (body: Record<string, unknown>) =>
  request(`${stack.app.url}/api/v1/leads`, {
    body: { industry: '制造业', ...body },
    headers: { authorization: `Bearer ${key}` },
  });

const cardsOf = (userid: string) => stack.emulator.state.cards(userid);
const REPS = ['WangLei', 'LiNa'];

/** The new-lead card of a lead, in whichever rep's chat round robin put it. */
function findCard(leadId: number) {
  for (const userid of REPS) {
    const card = cardsOf(userid).find((c) => c.card.taskId?.startsWith(`L${leadId}-new-lead`));
    if (card) return { userid, card };
  }
  return undefined;
}

beforeAll(async () => {
  stack = await startWecomStack();
  key = await stack.app.createKey('website');
});
afterAll(async () => {
  await stack.close();
});

describe('WeCom: from intake to a claimed card', () => {
  it('passes WeCom URL verification with the plain echostr', async () => {
    const outcome = await stack.emulator.control.verifyUrl();
    expect(outcome).toMatchObject({ status: 200, ok: true });
  });

  it('sends the new-lead card to the assigned rep; 认领 claims the lead and updates the card', async () => {
    const res = await postLead({
      name: '张伟',
      phone: phone(),
      company: '苏州精工机械有限公司',
      title: '总经理',
      industry: '制造业',
    });
    expect(res.status).toBe(201);
    const leadId = res.body.id as number;

    const found = await waitFor(() => findCard(leadId), 'the card');
    // The first lead of the run: round robin starts with the first rep of the team.
    expect(found.userid).toBe('WangLei');
    const card = found.card;
    expect(card!.card.card.main_title).toMatchObject({ title: '新线索 · A 级' });
    const buttons = (card!.card.card.button_list as { text: string; key: string }[]).map((b) => [
      b.text,
      b.key,
    ]);
    expect(buttons).toEqual([
      ['认领', 'claim'],
      ['退回公海', 'release'],
    ]);

    const click = await stack.emulator.control.clickButton('WangLei', {
      taskId: card!.card.taskId!,
      eventKey: 'claim',
    });
    expect(click.ok).toBe(true);
    expect(click.attempts).toHaveLength(1);

    const lead = await waitFor(async () => {
      const [row] = await stack.app.database.db.select().from(leads).where(eq(leads.id, leadId));
      return row?.ownerId ? row : undefined;
    }, 'the claim');
    expect(lead).toMatchObject({ ownerId: 'rep_a' });
    expect(lead.claimedAt).toBeInstanceOf(Date);
    const events = await stack.app.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId));
    expect(events.map((e) => e.type)).toContain('lead.claimed');
    expect(events.find((e) => e.type === 'lead.claimed')).toMatchObject({
      actorType: 'member',
      actorId: 'rep_a',
    });

    // The card now says who claimed it and when, and its buttons are greyed out.
    const updated = await waitFor(
      () => cardsOf('WangLei').find((c) => c.card.taskId === card!.card.taskId && c.card.disabled),
      'the card update',
    );
    expect(JSON.stringify(updated.card)).toContain('已被王磊认领');
  });

  it('退回公海 releases the lead and voids the card', async () => {
    const res = await postLead({ name: '李雷', phone: phone() });
    const leadId = res.body.id as number;
    const { userid, card } = await waitFor(() => findCard(leadId), 'the card');
    await stack.emulator.control.clickButton(userid, { taskId: card!.card.taskId!, eventKey: 'release' });
    const lead = await waitFor(async () => {
      const [row] = await stack.app.database.db.select().from(leads).where(eq(leads.id, leadId));
      return row && row.assigneeId === null ? row : undefined;
    }, 'the release');
    expect(lead.ownerId).toBeNull();
    const updated = await waitFor(
      () => cardsOf(userid).find((c) => c.card.taskId === card!.card.taskId && c.card.disabled),
      'the card update',
    );
    expect(JSON.stringify(updated.card)).toContain('退回公海');
  });

  it('ignores a click from someone the lead is not offered to, and a repeated click changes nothing', async () => {
    const res = await postLead({ name: '韩梅梅', phone: phone() });
    const leadId = res.body.id as number;
    const { userid, card } = await waitFor(() => findCard(leadId), 'the card');
    // The other rep clicks a copy they were never sent: nothing happens (the emulator refuses to
    // click a card a member does not have, so forge it through the card id as a click on their own).
    const other = REPS.find((r) => r !== userid)!;
    expect(cardsOf(other).some((c) => c.card.taskId === card.card.taskId)).toBe(false);
    await stack.emulator.control.clickButton(userid, { taskId: card!.card.taskId!, eventKey: 'claim' });
    await waitFor(async () => {
      const [row] = await stack.app.database.db.select().from(leads).where(eq(leads.id, leadId));
      return row?.ownerId;
    }, 'the claim');
    const claims = (
      await stack.app.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId))
    ).filter((e) => e.type === 'lead.claimed');
    expect(claims).toHaveLength(1);
  });

  it('survives the access token expiring mid-run: one refresh, the card still arrives', async () => {
    const before = stack.emulator.state.stats().gettoken_calls;
    stack.emulator.control.expireTokens();
    const res = await postLead({ name: 'token', phone: phone() });
    await waitFor(() => findCard(res.body.id), 'the card');
    expect(stack.emulator.state.stats().gettoken_calls).toBe(before + 1);
  });

  it('delivers every card exactly once through errors, timeouts, ambiguous sends and rate limiting', async () => {
    const control = stack.emulator.control;
    control.failNext(3, { kind: 'errcode', errcode: -1 }, { path: '/cgi-bin/message/send' });
    control.failNext(2, { kind: 'http', status: 503 }, { path: '/cgi-bin/message/send' });
    control.failNext(2, { kind: 'timeout', ms: 1500 }, { path: '/cgi-bin/message/send' });
    control.failNext(2, { kind: 'accept_then_drop' }, { path: '/cgi-bin/message/send' });
    control.failNext(3, { kind: 'errcode', errcode: 45009 }, { path: '/cgi-bin/message/send' });
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await postLead({ name: `批量${i}`, phone: phone() })).body.id);
    for (const id of ids) {
      await waitFor(
        async () => {
          const rows = await stack.app.database.db.select().from(outbox).where(eq(outbox.leadId, id));
          return rows.length > 0 && rows.every((r) => r.status === 'sent');
        },
        `lead ${id} card sent`,
        30_000,
      ).catch(async (e) => {
        const rows = await stack.app.database.db.select().from(outbox).where(eq(outbox.leadId, id));
        throw new Error(
          `${e.message}: ${JSON.stringify(rows.map((r) => [r.status, r.attempts, r.lastError]))}`,
        );
      });
    }
    for (const id of ids) {
      const copies = REPS.flatMap((r) => cardsOf(r)).filter((c) =>
        c.card.taskId?.startsWith(`L${id}-new-lead`),
      );
      expect(copies).toHaveLength(1);
    }
    expect(stack.emulator.state.stats().duplicates_suppressed).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('stores each callback once in the inbox, never its raw body', async () => {
    const rows = await stack.app.database.db.select().from(inboxEvents);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.eventId)).size).toBe(rows.length);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('<xml>');
  });
});
