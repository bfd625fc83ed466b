import {
  AGENT_ID,
  buttonCard,
  cardMessage,
  getToken,
  postRaw,
  type Started,
  startEmulator,
  startReceiver,
} from './helpers';

describe('wecom emulator: update_template_card (path 94888)', () => {
  let env: Started;
  let token: string;
  const send = (body: object) => postRaw(env.http, `/cgi-bin/message/send?access_token=${token}`, body);
  const update = (body: object) =>
    postRaw(env.http, `/cgi-bin/message/update_template_card?access_token=${token}`, {
      agentid: AGENT_ID,
      ...body,
    });
  const cardOf = (userid: string, taskId: string) =>
    env.emulator.control.findLatestCard(userid, taskId)!.card;

  beforeEach(async () => {
    env = await startEmulator();
    token = await getToken(env.http);
  });
  afterEach(() => env.emulator.stop());

  it('greys out the buttons with replace_name for the listed members only', async () => {
    const { response_code } = await send(cardMessage('zhangsan|lisi|wangwu', buttonCard('lead_1')));
    const res = await update({
      userids: ['zhangsan', 'lisi'],
      response_code,
      button: { replace_name: '已被张三抢单' },
    });
    expect(res).toMatchObject({ errcode: 0, invaliduser: [] });
    expect(cardOf('zhangsan', 'lead_1')).toMatchObject({ disabled: true, replaceName: '已被张三抢单' });
    expect(cardOf('lisi', 'lead_1').disabled).toBe(true);
    expect(cardOf('wangwu', 'lead_1').disabled).toBe(false);
    expect(cardOf('lisi', 'lead_1').updatedAt).toBe('2026-11-21T01:00:00.000Z');
  });

  it('accepts a response_code once only', async () => {
    const { response_code } = await send(cardMessage('zhangsan', buttonCard('lead_2')));
    const body = { userids: ['zhangsan'], response_code, button: { replace_name: '已处理' } };
    expect((await update(body)).errcode).toBe(0);
    expect((await update(body)).errcode).toBe(40058);
    expect((await update({ ...body, response_code: 'made-up' })).errcode).toBe(40058);
  });

  it('refuses a response_code older than 72 hours (by the injected clock)', async () => {
    const a = await send(cardMessage('zhangsan', buttonCard('lead_3')));
    const b = await send(cardMessage('zhangsan', buttonCard('lead_4')));
    env.clock.advance(72 * 3600_000);
    token = await getToken(env.http);
    const ok = await update({
      userids: ['zhangsan'],
      response_code: a.response_code,
      button: { replace_name: 'x' },
    });
    expect(ok.errcode).toBe(0);
    env.clock.advance(1_000);
    const late = await update({
      userids: ['zhangsan'],
      response_code: b.response_code,
      button: { replace_name: 'x' },
    });
    expect(late.errcode).toBe(40058);
    expect(cardOf('zhangsan', 'lead_4').disabled).toBe(false);
  });

  it('uses the configured errcode for refused response codes', async () => {
    await env.emulator.stop();
    env = await startEmulator({ errcodes: { responseCodeInvalid: 42099 } });
    token = await getToken(env.http);
    const res = await update({ userids: ['zhangsan'], response_code: 'nope', button: { replace_name: 'x' } });
    expect(res.errcode).toBe(42099);
  });

  it('replaces the whole card and lists non-recipients in invaliduser', async () => {
    const { response_code } = await send(cardMessage('zhangsan|lisi', buttonCard('lead_5')));
    const done = {
      card_type: 'text_notice',
      main_title: { title: '线索已分配给张三' },
      card_action: { type: 1, url: 'https://example.com' },
    };
    const res = await update({ userids: ['lisi', 'wangwu'], response_code, template_card: done });
    expect(res).toMatchObject({ errcode: 0, invaliduser: ['wangwu'] });
    const view = cardOf('lisi', 'lead_5');
    expect(view.cardType).toBe('text_notice');
    expect(view.card).toMatchObject({ main_title: { title: '线索已分配给张三' }, task_id: 'lead_5' });
    expect(cardOf('zhangsan', 'lead_5').cardType).toBe('button_interaction');
  });

  it('updates every recipient with atall and refuses when no listed member got the card', async () => {
    const first = await send(cardMessage('zhangsan|lisi', buttonCard('lead_6')));
    expect(
      (
        await update({
          userids: ['wangwu'],
          response_code: first.response_code,
          button: { replace_name: 'x' },
        })
      ).errcode,
    ).toBe(81013);
    const res = await update({
      atall: 1,
      response_code: first.response_code,
      button: { replace_name: '已结束' },
    });
    expect(res.errcode).toBe(0);
    expect(cardOf('zhangsan', 'lead_6').disabled && cardOf('lisi', 'lead_6').disabled).toBe(true);
  });

  it("updates with a click callback's fresh ResponseCode, for everyone (a grab card)", async () => {
    const receiver = await startReceiver();
    try {
      env.emulator.control.setCallbackUrl(receiver.url);
      const sent = await send(cardMessage('zhangsan|lisi', buttonCard('lead_7')));
      const outcome = await env.emulator.control.clickButton('lisi', {
        taskId: 'lead_7',
        eventKey: 'grab:lead_7',
      });
      expect(outcome.ok).toBe(true);
      expect(outcome.responseCode).not.toBe(sent.response_code);
      expect(receiver.received[0]!.fields!.ResponseCode).toBe(outcome.responseCode);
      const res = await update({
        userids: ['zhangsan', 'lisi'],
        response_code: outcome.responseCode,
        button: { replace_name: '李四已抢单' },
      });
      expect(res.errcode).toBe(0);
      expect(cardOf('zhangsan', 'lead_7').replaceName).toBe('李四已抢单');
      // The send's own code is still unused and usable once.
      const again = await update({
        userids: ['lisi'],
        response_code: sent.response_code,
        button: { replace_name: 'y' },
      });
      expect(again.errcode).toBe(0);
      // A greyed-out card can no longer be clicked.
      await expect(
        env.emulator.control.clickButton('zhangsan', { taskId: 'lead_7', eventKey: 'grab:lead_7' }),
      ).rejects.toThrow(/disabled/);
    } finally {
      await receiver.stop();
    }
  });

  it('refuses a button update of a text_notice card with action_menu', async () => {
    const notice = {
      card_type: 'text_notice',
      task_id: 'digest_1',
      main_title: { title: '日报' },
      card_action: { type: 1, url: 'https://example.com' },
      action_menu: { desc: '更多', action_list: [{ text: '不再推送', key: 'mute' }] },
    };
    const { response_code } = await send(cardMessage('zhangsan', notice));
    expect(typeof response_code).toBe('string');
    const res = await update({ userids: ['zhangsan'], response_code, button: { replace_name: 'x' } });
    expect(res.errcode).toBe(40058);
  });
});
