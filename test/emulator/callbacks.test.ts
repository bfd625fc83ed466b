import {
  AGENT_ID,
  buttonCard,
  CORP_ID,
  cardMessage,
  getToken,
  postRaw,
  type Started,
  startEmulator,
  startReceiver,
} from './helpers';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

describe('wecom emulator: member callbacks (path 90930, 90238, 90240)', () => {
  let env: Started;
  let receiver: Receiver;

  async function setUp(behave?: Parameters<typeof startReceiver>[0], timeoutMs = 2000) {
    receiver = await startReceiver(behave);
    env = await startEmulator({ callbackTimeoutMs: timeoutMs }, { callbackUrl: receiver.url });
  }
  afterEach(async () => {
    await env.emulator.stop();
    await receiver.stop();
  });

  it('sends a member text signed and encrypted for the corp, in the documented XML', async () => {
    await setUp();
    const outcome = await env.emulator.control.sendText('zhangsan', '跟进了 <b>&</b> ]]> 客户');
    expect(outcome).toMatchObject({ ok: true, attempts: [{ attempt: 1, status: 200 }] });
    const [got] = receiver.received;
    expect(got!.method).toBe('POST');
    expect(got!.signatureOk).toBe(true);
    expect(got!.receiveId).toBe(CORP_ID);
    expect(got!.envelope).toMatchObject({ ToUserName: CORP_ID, AgentID: String(AGENT_ID) });
    expect(got!.query.timestamp).toBe(String(Date.parse('2026-11-21T01:00:00.000Z') / 1000));
    expect(got!.fields).toEqual({
      ToUserName: CORP_ID,
      FromUserName: 'zhangsan',
      CreateTime: String(Date.parse('2026-11-21T01:00:00.000Z') / 1000),
      MsgType: 'text',
      Content: '跟进了 <b>&</b> ]]> 客户',
      MsgId: outcome.msgId,
      AgentID: String(AGENT_ID),
    });
    const [logged] = env.emulator.state.chat('zhangsan')!.messages;
    expect(logged).toMatchObject({ direction: 'in', msgid: outcome.msgId, text: '跟进了 <b>&</b> ]]> 客户' });
  });

  it('sends a button click as template_card_event with a fresh, stored ResponseCode', async () => {
    await setUp();
    const token = await getToken(env.http);
    await postRaw(
      env.http,
      `/cgi-bin/message/send?access_token=${token}`,
      cardMessage('lisi', buttonCard('lead_9')),
    );
    const outcome = await env.emulator.control.clickButton('lisi', { taskId: 'lead_9', buttonText: '抢单' });
    expect(outcome.ok).toBe(true);
    const fields = receiver.received[0]!.fields!;
    expect(fields).toMatchObject({
      ToUserName: CORP_ID,
      FromUserName: 'lisi',
      MsgType: 'event',
      Event: 'template_card_event',
      EventKey: 'grab:lead_9',
      TaskId: 'lead_9',
      CardType: 'button_interaction',
      ResponseCode: outcome.responseCode,
      AgentID: String(AGENT_ID),
    });
    expect(receiver.received[0]!.signatureOk).toBe(true);
    await expect(
      env.emulator.control.clickButton('lisi', { taskId: 'lead_9', eventKey: 'forged' }),
    ).rejects.toThrow(/no button/);
    await expect(
      env.emulator.control.clickButton('wangwu', { taskId: 'lead_9', eventKey: 'grab:lead_9' }),
    ).rejects.toThrow(/no card/);
  });

  it('retries a slow receiver with the same MsgId and CreateTime, re-signed each time', async () => {
    await setUp((n) => (n === 1 ? { delayMs: 300 } : {}), 100);
    env.clock.advance(5_000);
    const outcome = await env.emulator.control.sendText('wangwu', '在吗');
    expect(outcome.ok).toBe(true);
    expect(outcome.attempts.map((a) => a.status ?? a.error)).toEqual(['ECONNABORTED', 200]);
    const [first, second] = receiver.received;
    expect(second!.fields!.MsgId).toBe(first!.fields!.MsgId);
    expect(second!.fields!.CreateTime).toBe(first!.fields!.CreateTime);
    expect(second!.envelope!.Encrypt).not.toBe(first!.envelope!.Encrypt);
    expect(second!.signatureOk && first!.signatureOk).toBe(true);
    expect(env.emulator.state.stats()).toMatchObject({
      callbacks_sent: 2,
      callback_failures: 1,
      callbacks_given_up: 0,
    });
  });

  it('gives up after three attempts when the receiver never answers 200', async () => {
    await setUp(() => ({ status: 500 }));
    const outcome = await env.emulator.control.sendText('wangwu', '在吗');
    expect(outcome.ok).toBe(false);
    expect(outcome.attempts.map((a) => a.status)).toEqual([500, 500, 500]);
    expect(receiver.received).toHaveLength(3);
    expect(env.emulator.state.stats()).toMatchObject({
      callbacks_sent: 3,
      callback_failures: 3,
      callbacks_given_up: 1,
    });
  });

  it('verifies the URL with an encrypted echostr and reports what our server answered', async () => {
    await setUp();
    const outcome = await env.emulator.control.verifyUrl();
    expect(outcome.ok).toBe(true);
    expect(outcome.body).toBe(outcome.expected);
    const [got] = receiver.received;
    expect(got!.method).toBe('GET');
    expect(got!.signatureOk).toBe(true);
    expect(got!.echo).toBe(outcome.expected);
  });

  it('reports a wrong echo answer as not ok', async () => {
    await setUp(() => ({ body: '"quoted"' }));
    const outcome = await env.emulator.control.verifyUrl();
    expect(outcome).toMatchObject({ ok: false, status: 200, body: '"quoted"' });
  });
});
