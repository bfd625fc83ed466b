import { and, eq } from 'drizzle-orm';
import { inboxEvents, leadEvents, leadNotes, leads } from '../../src/db/schema';
import { type DingtalkStack, STAFF, startDingtalkStack } from '../helpers/dingtalk-stack';
import { request } from '../helpers/http';
import { waitFor } from '../helpers/wecom-stack';

/**
 * Stream mode (DINGTALK_MODE=stream) with the `dingtalk-stream` package against the emulator's
 * gateway: cards are created with callbackType STREAM, clicks and robot messages arrive as frames, and
 * a frame is acknowledged only once stored. Killing the socket server-side mid-run, with a frame lost
 * in flight or its acknowledgement lost, neither loses nor duplicates a click: the gateway pushes the
 * unacknowledged frame again (every 400 ms here, 60 s at DingTalk) once the client has reconnected,
 * and the inbox drops the second copy.
 */
let stack: DingtalkStack;
let key: string;
let seq = 0;

async function newCard(): Promise<{ leadId: number; outTrackId: string; holder: string }> {
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { industry: '制造业', name: `流${++seq}`, phone: `1340000${String(5000 + seq)}` },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  const leadId = res.body.id as number;
  const found = await waitFor(() => {
    for (const holder of [STAFF.rep_a, STAFF.rep_b]) {
      const card = stack.dingtalk.state
        .cards({ userId: holder })
        .find((c) => c.outTrackId.startsWith(`L${leadId}-new-lead-`));
      if (card) return { holder, outTrackId: card.outTrackId };
    }
    return undefined;
  }, 'the card');
  return { leadId, ...found };
}

async function claimsOf(leadId: number) {
  return (
    await stack.app.database.db
      .select({ type: leadEvents.type })
      .from(leadEvents)
      .where(eq(leadEvents.leadId, leadId))
  ).filter((e) => e.type === 'lead.claimed');
}

async function clickRows(outTrackId: string) {
  return (
    await stack.app.database.db
      .select({ event: inboxEvents.event, eventId: inboxEvents.eventId })
      .from(inboxEvents)
      .where(and(eq(inboxEvents.platform, 'dingtalk'), eq(inboxEvents.kind, 'card_action')))
  ).filter((r) => (r.event as { cardId?: string }).cardId === outTrackId);
}

beforeAll(async () => {
  stack = await startDingtalkStack({ mode: 'stream', repushMs: 400, server: { digests: false } });
  key = await stack.app.createKey('website');
  await waitFor(() => stack.dingtalk.control.streamConnections === 1, 'the stream connection', 15_000);
});
afterAll(async () => {
  await stack.close();
});

describe('DingTalk, Stream mode', () => {
  it('creates cards with callbackType STREAM and takes a click as a frame, acknowledged once stored', async () => {
    const { leadId, outTrackId, holder } = await newCard();
    expect(stack.dingtalk.state.cardsById.get(outTrackId)).toMatchObject({ callbackType: 'STREAM' });
    const click = await stack.dingtalk.control.clickButton(holder, { outTrackId, action: 'claim' });
    expect(click).toMatchObject({ ok: true, via: 'stream' });
    await waitFor(async () => (await claimsOf(leadId)).length === 1, 'the claim');
    await waitFor(
      () => stack.dingtalk.state.cardsById.get(outTrackId)!.params.status === 'settled',
      'the update',
    );
  });

  it('takes a robot message as a frame: a note on the lead', async () => {
    const { leadId, outTrackId, holder } = await newCard();
    await stack.dingtalk.control.clickButton(holder, { outTrackId, action: 'claim' });
    await waitFor(async () => (await claimsOf(leadId)).length === 1, 'the claim');
    await stack.dingtalk.control.sendText(holder, '客户要样品，明天寄');
    const notes = await waitFor(async () => {
      const rows = await stack.app.database.db
        .select({ memberId: leadNotes.memberId, text: leadNotes.text })
        .from(leadNotes)
        .where(eq(leadNotes.leadId, leadId));
      return rows.length > 0 ? rows : undefined;
    }, 'the note');
    expect(notes.map((n) => n.text)).toEqual(['客户要样品，明天寄']);
  });

  it('a socket killed right after a click was pushed: the frame comes again after the reconnect, one claim', async () => {
    const { leadId, outTrackId, holder } = await newCard();
    const before = stack.dingtalk.state.stats();
    const click = stack.dingtalk.control.clickButton(holder, { outTrackId, action: 'claim' });
    // The frame was written to the socket synchronously; cut it before it can be read or acknowledged.
    stack.dingtalk.control.dropStreamConnections();
    await click;
    await waitFor(async () => (await claimsOf(leadId)).length === 1, 'the claim after the reconnect', 15_000);
    await waitFor(
      () => stack.dingtalk.control.unacknowledgedFrames === 0,
      'every frame acknowledged',
      15_000,
    );
    const after = stack.dingtalk.state.stats();
    expect(after.stream_connections).toBeGreaterThan(before.stream_connections);
    expect(after.stream_frames_repushed).toBeGreaterThan(before.stream_frames_repushed);
    expect(await claimsOf(leadId)).toHaveLength(1);
    expect(await clickRows(outTrackId)).toHaveLength(1);
    const [lead] = await stack.app.database.db
      .select({ ownerId: leads.ownerId })
      .from(leads)
      .where(eq(leads.id, leadId));
    expect(lead!.ownerId).toBeTruthy();
  });

  it('a click stored but its acknowledgement lost, then the socket killed: re-pushed, deduped, one claim, one update', async () => {
    const { leadId, outTrackId, holder } = await newCard();
    await waitFor(() => stack.dingtalk.control.streamConnections === 1, 'the stream connection', 15_000);
    const before = stack.dingtalk.state.stats();
    stack.dingtalk.control.loseNextStreamAcks(1);
    const click = stack.dingtalk.control.clickButton(holder, { outTrackId, action: 'claim' });
    await waitFor(async () => (await clickRows(outTrackId)).length === 1, 'the click stored');
    stack.dingtalk.control.dropStreamConnections();
    await click;
    await waitFor(() => stack.dingtalk.control.unacknowledgedFrames === 0, 'the frame acknowledged', 15_000);
    const after = stack.dingtalk.state.stats();
    // The same click reached the app twice (pushed again after the reconnect) …
    expect(after.stream_frames_repushed).toBeGreaterThan(before.stream_frames_repushed);
    // … and counted once.
    await waitFor(async () => (await claimsOf(leadId)).length === 1, 'the claim');
    expect(await clickRows(outTrackId)).toHaveLength(1);
    await waitFor(
      () => stack.dingtalk.state.cardsById.get(outTrackId)!.params.status === 'settled',
      'the update',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await claimsOf(leadId)).toHaveLength(1);
    expect(stack.dingtalk.state.cardsById.get(outTrackId)!.updates).toBe(1);
  });
});
