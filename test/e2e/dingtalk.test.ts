import { and, eq } from 'drizzle-orm';
import { inboxEvents, leadEvents, leadNotes, leads } from '../../src/db/schema';
import { sendDigest } from '../../src/reports/digest';
import { DINGTALK, type DingtalkStack, STAFF, startDingtalkStack } from '../helpers/dingtalk-stack';
import { request } from '../helpers/http';
import { waitFor } from '../helpers/wecom-stack';

/**
 * A team on DingTalk end to end (issue 7), HTTP mode: the server registers its card callback URL at
 * start, sends the new-lead card to the rep's robot chat (createAndDeliver, IM_ROBOT), the rep's 认领
 * comes back through the registered URL and the card changes in place (PUT by outTrackId); a typed
 * message is a note; a released lead's 抢单 card goes once to the team group (IM_GROUP) and another
 * rep grabs it there; the digest goes through the custom robot, signed.
 */
let stack: DingtalkStack;
let key: string;
let seq = 0;
const phone = () => `1350000${String(4000 + ++seq).padStart(4, '0')}`;

const postLead = async (body: Record<string, unknown>) => {
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { industry: '制造业', name: `客户${seq}`, phone: phone(), ...body },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  return res.body.id as number;
};

const cardOf = (space: { userId: string } | { group: string }, leadId: number, template: string) =>
  stack.dingtalk.state.cards(space).find((c) => c.outTrackId.startsWith(`L${leadId}-${template}-`));

async function leadRow(id: number) {
  const [row] = await stack.app.database.db
    .select({ ownerId: leads.ownerId })
    .from(leads)
    .where(eq(leads.id, id));
  return row!;
}

beforeAll(async () => {
  // The scheduler's catch-up would post a digest at start; the digest test sends one itself.
  stack = await startDingtalkStack({ server: { digests: false } });
  key = await stack.app.createKey('website');
});
afterAll(async () => {
  await stack.close();
});

describe('DingTalk, HTTP mode', () => {
  it('registers the card callback URL at start under the route key', async () => {
    const registered = await waitFor(
      () => stack.dingtalk.state.callbacks.get('leadrelay'),
      'the registration',
    );
    expect(registered.url).toMatch(new RegExp(`^${stack.app.url}/callbacks/dingtalk/card/[0-9a-f]{64}$`));
    expect(registered.apiSecret).not.toContain(DINGTALK.appSecret);
  });

  it('answers check_url of the event subscription with the encrypted success within 1500 ms', async () => {
    const outcome = await stack.dingtalk.control.sendEvent();
    expect(outcome).toMatchObject({ ok: true, success: true, inTime: true });
  });

  let claimedLead = 0;
  it('sends the new-lead card to the rep; 认领 claims the lead and the card changes in place', async () => {
    const leadId = await postLead({ company: '苏州精工机械有限公司', title: '总经理' });
    claimedLead = leadId;
    const card = await waitFor(() => cardOf({ userId: STAFF.rep_a }, leadId, 'new-lead'), 'the card');
    expect(card).toMatchObject({
      cardTemplateId: DINGTALK.cardTemplateId,
      callbackType: 'HTTP',
      callbackRouteKey: 'leadrelay',
    });
    expect(card.params).toMatchObject({
      title: '新线索 · A 级',
      button1Text: '认领',
      button1Action: 'claim',
      button1Visible: 'true',
      button2Text: '退回公海',
      button2Action: 'release',
      settledVisible: 'false',
    });
    expect(Object.values(card.params).every((v) => typeof v === 'string')).toBe(true);

    const click = await stack.dingtalk.control.clickButton(STAFF.rep_a, {
      outTrackId: card.outTrackId,
      action: 'claim',
    });
    expect(click).toMatchObject({ ok: true, via: 'http' });
    expect(click.attempts).toHaveLength(1);

    const lead = await waitFor(async () => {
      const row = await leadRow(leadId);
      return row.ownerId ? row : undefined;
    }, 'the claim');
    expect(lead.ownerId).toBe('rep_a');
    const claimed = await waitFor(
      () => (card.params.status === 'settled' ? card : undefined),
      'the card update',
    );
    expect(claimed.updates).toBe(1);
    expect(claimed.params.settled).toContain('已被王磊认领');
    expect(claimed.params.button1Visible).toBe('false');
    // In place: still the one card in the rep's chat.
    expect(
      stack.dingtalk.state.cards({ userId: STAFF.rep_a }).filter((c) => c.outTrackId === card.outTrackId),
    ).toHaveLength(1);
  });

  it('records a typed message as a note on the lead the rep just claimed, and answers one-to-one', async () => {
    await stack.dingtalk.control.sendText(STAFF.rep_a, '已电话联系，客户下周要报价');
    const notes = await waitFor(async () => {
      const rows = await stack.app.database.db
        .select({ memberId: leadNotes.memberId, text: leadNotes.text })
        .from(leadNotes)
        .where(eq(leadNotes.leadId, claimedLead));
      return rows.length > 0 ? rows : undefined;
    }, 'the note');
    expect(notes.map((n) => [n.memberId, n.text])).toEqual([['rep_a', '已电话联系，客户下周要报价']]);
    const reply = await waitFor(
      () =>
        stack.dingtalk.state
          .chat(STAFF.rep_a)!
          .messages.find((m) => m.direction === 'out' && m.kind !== 'card'),
      'the reply',
    );
    expect(reply.kind).toMatch(/^sample(Text|Markdown)$/);
  });

  it('a duplicated robot message (same msgId) is stored once', async () => {
    const first = await stack.dingtalk.control.sendText(STAFF.rep_a, '帮助');
    await stack.dingtalk.control.redeliver(first);
    const rows = await stack.app.database.db
      .select({ event: inboxEvents.event, eventId: inboxEvents.eventId })
      .from(inboxEvents)
      .where(and(eq(inboxEvents.platform, 'dingtalk'), eq(inboxEvents.eventId, String(first.payload.msgId))));
    expect(rows).toHaveLength(1);
  });

  it('posts the pool offer once in the team group; another rep grabs it there and the group card shows who', async () => {
    const leadId = await postLead({ company: '无锡电机厂' });
    const holder = await waitFor(
      () => ([STAFF.rep_a, STAFF.rep_b] as string[]).find((u) => cardOf({ userId: u }, leadId, 'new-lead')),
      'the new-lead card',
    );
    const card = cardOf({ userId: holder }, leadId, 'new-lead')!;
    await stack.dingtalk.control.clickButton(holder, { outTrackId: card.outTrackId, action: 'release' });
    const offer = await waitFor(
      () => cardOf({ group: DINGTALK.group }, leadId, 'pool-offer'),
      'the group offer',
    );
    // Once in the group, never one-to-one.
    for (const u of Object.values(STAFF)) expect(cardOf({ userId: u }, leadId, 'pool-offer')).toBeUndefined();
    expect(offer.params).toMatchObject({ button1Text: '抢单', button1Action: 'grab' });
    expect(offer.params.fields).not.toMatch(/1350000\d{4}/);

    const other = holder === STAFF.rep_a ? STAFF.rep_b : STAFF.rep_a;
    const otherId = other === STAFF.rep_a ? 'rep_a' : 'rep_b';
    const otherName = other === STAFF.rep_a ? '王磊' : '李娜';
    const grab = await stack.dingtalk.control.clickButton(other, {
      group: DINGTALK.group,
      outTrackId: offer.outTrackId,
      action: 'grab',
    });
    expect(grab.ok).toBe(true);
    await waitFor(async () => (await leadRow(leadId)).ownerId === otherId, 'the grab');
    await waitFor(() => offer.params.status === 'settled', 'the group card update');
    expect(offer.params.settled).toContain(otherName);
    const claims = (
      await stack.app.database.db
        .select({ type: leadEvents.type })
        .from(leadEvents)
        .where(eq(leadEvents.leadId, leadId))
    ).filter((e) => e.type === 'lead.claimed');
    expect(claims).toHaveLength(1);
  });

  it('posts the digest through the team custom robot, signed, as markdown without the chart', async () => {
    const deps = stack.app.server.deps;
    const team = deps.org.teams.find((t) => t.id === 'east')!;
    expect(await sendDigest(deps, { team, kind: 'daily', at: stack.clock.now() })).toBe('sent');
    stack.app.server.outbox.notify();
    const post = await waitFor(() => stack.dingtalk.state.robotPosts('华东战报机器人')[0], 'the digest post');
    expect(post.kind).toBe('markdown');
    expect(post.title).toContain('华东');
    expect(post.markdown).not.toContain('<font');
    expect(stack.dingtalk.state.robotPosts('华东战报机器人')).toHaveLength(1);
  });

  it('survives the access token expiring: one refresh, the card still arrives', async () => {
    const before = stack.dingtalk.state.stats().token_calls;
    stack.dingtalk.control.expireTokens();
    const leadId = await postLead({});
    await waitFor(
      () => ([STAFF.rep_a, STAFF.rep_b] as string[]).find((u) => cardOf({ userId: u }, leadId, 'new-lead')),
      'the card',
    );
    expect(stack.dingtalk.state.stats().token_calls).toBe(before + 1);
  });
});
