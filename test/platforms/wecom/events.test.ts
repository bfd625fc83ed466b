import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InboundEvent } from '../../../src/platforms/types';
import { decodeAesKey } from '../../../src/platforms/wecom/crypto';
import { toInboundEvent } from '../../../src/platforms/wecom/events';
import { renderWecomMessage } from '../../../src/platforms/wecom/render';
import { verifyWecomRequest } from '../../../src/platforms/wecom/verify-callback';
import { parseWecomXml } from '../../../src/platforms/wecom/xml';
import { AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, type Env, startEnv } from './helpers';

const CREATE_TIME = '1763686800';
const AT = new Date(1763686800 * 1000);

describe('toInboundEvent', () => {
  it('maps a text message, with MsgId as the event id', () => {
    expect(
      toInboundEvent({
        ToUserName: CORP_ID,
        FromUserName: 'ZhangSan',
        CreateTime: CREATE_TIME,
        MsgType: 'text',
        Content: ' 认领 42 ',
        MsgId: '7300000000000000001',
        AgentID: '1000002',
      }),
    ).toEqual({
      platform: 'wecom',
      kind: 'text',
      eventId: '7300000000000000001',
      userId: 'ZhangSan',
      at: AT,
      text: ' 认领 42 ',
    });
  });

  it('maps a template card click: user + time + task + key, and the fresh response code', () => {
    expect(
      toInboundEvent({
        FromUserName: 'LiSi',
        CreateTime: CREATE_TIME,
        MsgType: 'event',
        Event: 'template_card_event',
        EventKey: 'claim',
        TaskId: 'lead_42',
        CardType: 'button_interaction',
        ResponseCode: 'RC123',
        AgentID: '1000002',
      }),
    ).toEqual({
      platform: 'wecom',
      kind: 'card_action',
      eventId: `LiSi:${CREATE_TIME}:lead_42:claim`,
      userId: 'LiSi',
      at: AT,
      cardId: 'lead_42',
      actionId: 'claim',
      updateToken: 'RC123',
    });
  });

  it('hashes an event id that would not fit the inbox column', () => {
    const event = toInboundEvent({
      FromUserName: 'LiSi',
      CreateTime: CREATE_TIME,
      MsgType: 'event',
      Event: 'template_card_event',
      EventKey: 'k'.repeat(1000),
      TaskId: 'lead_42',
    });
    expect(event.kind).toBe('card_action');
    expect(event.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    // No ResponseCode in the callback: no updateToken key at all.
    expect(event).not.toHaveProperty('updateToken');
  });

  it('maps an added external contact to contact_added, identified by the member (not `sys`)', () => {
    const fields = {
      ToUserName: CORP_ID,
      FromUserName: 'sys',
      CreateTime: CREATE_TIME,
      MsgType: 'event',
      Event: 'change_external_contact',
      ChangeType: 'add_external_contact',
      UserID: 'WangWu',
      ExternalUserID: 'wmEXT001',
      State: 'ad-campaign',
      WelcomeCode: 'WELCOME',
    };
    expect(toInboundEvent(fields)).toEqual({
      platform: 'wecom',
      kind: 'contact_added',
      eventId: `WangWu:${CREATE_TIME}:add_external_contact:wmEXT001`,
      userId: 'WangWu',
      at: AT,
      externalContactId: 'wmEXT001',
    });
    expect(toInboundEvent({ ...fields, ChangeType: 'add_half_external_contact' }).kind).toBe('contact_added');
    expect(toInboundEvent({ ...fields, ChangeType: 'del_external_contact' })).toMatchObject({
      kind: 'ignored',
      userId: 'WangWu',
    });
  });

  it('ignores everything else with a reason and a stable id', () => {
    const image = toInboundEvent({
      FromUserName: 'ZhangSan',
      CreateTime: CREATE_TIME,
      MsgType: 'image',
      MsgId: '99',
    });
    expect(image).toMatchObject({ kind: 'ignored', eventId: '99', userId: 'ZhangSan', at: AT });
    const enter = {
      FromUserName: 'ZhangSan',
      CreateTime: CREATE_TIME,
      MsgType: 'event',
      Event: 'enter_agent',
    };
    expect(toInboundEvent(enter)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('enter_agent'),
    });
    expect(toInboundEvent(enter).eventId).toBe(toInboundEvent({ ...enter }).eventId);
    expect(toInboundEvent({ FromUserName: 'x', MsgType: 'text', MsgId: '1' })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('CreateTime'),
    });
    expect(toInboundEvent({ FromUserName: 'x', CreateTime: CREATE_TIME, MsgType: 'text' }).kind).toBe(
      'ignored',
    );
    const incomplete = {
      FromUserName: 'x',
      CreateTime: CREATE_TIME,
      MsgType: 'event',
      Event: 'template_card_event',
    };
    expect(toInboundEvent(incomplete).kind).toBe('ignored');
  });

  it('does not read fields from Object.prototype', () => {
    const fields = Object.create({ MsgType: 'text', MsgId: '1' }) as Record<string, string>;
    fields.FromUserName = 'x';
    fields.CreateTime = CREATE_TIME;
    expect(toInboundEvent(fields).kind).toBe('ignored');
  });
});

describe('toInboundEvent on real emulator callbacks (verify → decrypt → parse → normalise)', () => {
  let env: Env;
  let server: Server;
  const events: InboundEvent[] = [];

  beforeEach(async () => {
    events.length = 0;
    env = await startEnv();
    const aesKey = decodeAesKey(AES_KEY);
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
        const envelope = parseWecomXml(Buffer.concat(chunks).toString('utf8'));
        const verified = verifyWecomRequest({
          query,
          encrypt: envelope.Encrypt ?? '',
          tokens: [CALLBACK_TOKEN],
          aesKey,
          corpId: CORP_ID,
          now: env.clock.now(),
        });
        if (!verified.ok) {
          res.statusCode = verified.status;
          res.end();
          return;
        }
        events.push(toInboundEvent(parseWecomXml(verified.plaintext)));
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    env.emulator.control.setCallbackUrl(`http://127.0.0.1:${port}/wecom/callback`);
  });

  afterEach(async () => {
    await env.emulator.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a member writing text arrives as a text event with the MsgId', async () => {
    const outcome = await env.emulator.control.sendText('zhangsan', '认领 42');
    expect(outcome.ok).toBe(true);
    expect(events).toEqual([
      {
        platform: 'wecom',
        kind: 'text',
        eventId: outcome.msgId,
        userId: 'zhangsan',
        at: new Date(outcome.createTime * 1000),
        text: '认领 42',
      },
    ]);
  });

  it('a click on a card we rendered arrives as card_action with a usable response code', async () => {
    const body = renderWecomMessage(
      {
        kind: 'card',
        to: { kind: 'user', userId: 'lisi' },
        cardId: 'lead_42',
        card: {
          template: 'new-lead',
          title: '新线索',
          fields: [],
          buttons: [{ actionId: 'claim', text: '认领', style: 'primary' }],
        },
      },
      { agentId: AGENT_ID },
    ).body;
    expect((await env.client.sendMessage(body)).ok).toBe(true);
    const outcome = await env.emulator.control.clickButton('lisi', { taskId: 'lead_42', eventKey: 'claim' });
    expect(outcome.ok).toBe(true);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      kind: 'card_action',
      userId: 'lisi',
      cardId: 'lead_42',
      actionId: 'claim',
      updateToken: outcome.responseCode,
      eventId: `lisi:${outcome.createTime}:lead_42:claim`,
    });

    // The click's response code updates the card (94888).
    const update = renderWecomMessage(
      {
        kind: 'card_update',
        userIds: ['lisi'],
        cardId: 'lead_42',
        card: { template: 'new-lead', title: '新线索', fields: [], buttons: [], settled: '已认领' },
        updateToken: event.kind === 'card_action' ? event.updateToken : undefined,
      },
      { agentId: AGENT_ID },
    ).body;
    expect(await env.client.updateTemplateCard(update)).toEqual({ ok: true });
    expect(env.emulator.control.findLatestCard('lisi', 'lead_42')!.card.disabled).toBe(true);
  });
});
