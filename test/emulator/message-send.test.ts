import {
  AGENT_ID,
  buttonCard,
  cardMessage,
  getToken,
  postRaw,
  type Started,
  startEmulator,
  textMessage,
} from './helpers';

describe('wecom emulator: message/send (path 90236)', () => {
  let env: Started;
  let token: string;
  const send = (body: string | object) =>
    postRaw(env.http, `/cgi-bin/message/send?access_token=${token}`, body);
  const chat = (userid: string) => env.emulator.state.chat(userid)!.messages;

  beforeEach(async () => {
    env = await startEmulator();
    token = await getToken(env.http);
  });
  afterEach(() => env.emulator.stop());

  describe('recipients and content', () => {
    it('delivers text to each listed member and lists unknown users in invaliduser', async () => {
      const res = await send(textMessage('zhangsan|ghost|lisi', '你好'));
      expect(res).toMatchObject({ errcode: 0, invaliduser: 'ghost', invalidparty: '', invalidtag: '' });
      expect(typeof res.msgid).toBe('string');
      expect(res.response_code).toBeUndefined();
      expect(chat('zhangsan')).toEqual([
        expect.objectContaining({ direction: 'out', text: '你好', msgid: res.msgid }),
      ]);
      expect(chat('lisi')).toHaveLength(1);
      expect(chat('wangwu')).toHaveLength(0);
      expect(env.emulator.state.stats()).toMatchObject({ sent: 1, delivered: 2 });
    });

    it('answers 81013 when every recipient is invalid, and 40035 when none is given', async () => {
      expect(await send(textMessage('ghost|nobody', 'x'))).toMatchObject({
        errcode: 81013,
        invaliduser: 'ghost|nobody',
      });
      expect((await send({ msgtype: 'text', agentid: AGENT_ID, text: { content: 'x' } })).errcode).toBe(
        40035,
      );
      expect(env.emulator.state.stats().delivered).toBe(0);
    });

    it('sends @all to every member', async () => {
      expect((await send(textMessage('@all', 'x'))).errcode).toBe(0);
      expect(env.emulator.state.stats().delivered).toBe(3);
    });

    it('refuses an unknown msgtype (40008), empty content (44004) and bad JSON', async () => {
      expect((await send({ ...textMessage('zhangsan', 'x'), msgtype: 'voice' })).errcode).toBe(40008);
      expect((await send(textMessage('zhangsan', ''))).errcode).toBe(44004);
      expect((await send('{"touser":')).errcode).toBe(40058);
      expect((await send({ touser: 'zhangsan', msgtype: 'text', text: { content: 'x' } })).errcode).toBe(
        41011,
      );
    });

    it('truncates text over 2048 bytes (as documented) and refuses markdown over 2048 bytes', async () => {
      const long = '线'.repeat(700); // 2100 bytes
      expect((await send(textMessage('zhangsan', long))).errcode).toBe(0);
      const [msg] = chat('zhangsan');
      expect(msg!.truncated).toBe(true);
      expect(Buffer.byteLength(msg!.text!)).toBeLessThanOrEqual(2048);
      const md = { touser: 'zhangsan', msgtype: 'markdown', agentid: AGENT_ID, markdown: { content: long } };
      expect((await send(md)).errcode).toBe(45002);
    });
  });

  describe('duplicate check', () => {
    const body = JSON.stringify(
      textMessage('zhangsan', '新线索', { enable_duplicate_check: 1, duplicate_check_interval: 600 }),
    );

    it('answers ok but does not deliver an identical request within the interval', async () => {
      const first = await send(body);
      env.clock.advance(599_000);
      const second = await send(body);
      expect(second.errcode).toBe(0);
      expect(second.msgid).toBe(first.msgid);
      expect(chat('zhangsan')).toHaveLength(1);
      expect(env.emulator.state.stats()).toMatchObject({ sent: 1, duplicates_suppressed: 1 });
    });

    it('delivers it again once the interval has passed', async () => {
      await send(body);
      env.clock.advance(600_000);
      const again = await send(body);
      expect(again.errcode).toBe(0);
      expect(chat('zhangsan')).toHaveLength(2);
    });

    it('compares raw bytes: the same JSON with other key order is delivered', async () => {
      await send(body);
      const reordered = {
        agentid: AGENT_ID,
        msgtype: 'text',
        touser: 'zhangsan',
        text: { content: '新线索' },
        enable_duplicate_check: 1,
        duplicate_check_interval: 600,
      };
      await send(JSON.stringify(reordered));
      expect(chat('zhangsan')).toHaveLength(2);
    });

    it('uses 1800 s when no interval is given and refuses one over 4 hours', async () => {
      const noInterval = JSON.stringify(textMessage('zhangsan', 'x', { enable_duplicate_check: 1 }));
      await send(noInterval);
      env.clock.advance(1799_000);
      await send(noInterval);
      expect(chat('zhangsan')).toHaveLength(1);
      env.clock.advance(1_000);
      await send(noInterval);
      expect(chat('zhangsan')).toHaveLength(2);
      const tooLong = textMessage('zhangsan', 'x', {
        enable_duplicate_check: 1,
        duplicate_check_interval: 14401,
      });
      expect((await send(tooLong)).errcode).toBe(40058);
    });

    it('does not suppress identical requests without enable_duplicate_check', async () => {
      const plain = JSON.stringify(textMessage('zhangsan', 'x'));
      await send(plain);
      await send(plain);
      expect(chat('zhangsan')).toHaveLength(2);
    });
  });

  describe('per-member rate limits (path 90454)', () => {
    it('accepts the 31st message of a minute but drops it, and delivers again the next minute', async () => {
      for (let i = 1; i <= 30; i += 1) {
        expect((await send(textMessage('zhangsan', `m${i}`))).errcode).toBe(0);
        env.clock.advance(1_000);
      }
      const res = await send(textMessage('zhangsan|lisi', 'm31'));
      expect(res.errcode).toBe(0);
      expect(chat('zhangsan')).toHaveLength(30);
      expect(chat('lisi').map((m) => m.text)).toEqual(['m31']);
      expect(env.emulator.state.stats().dropped_rate_limited).toBe(1);
      expect(env.emulator.state.chat('zhangsan')!.dropped).toBe(1);
      // 30 s later the first message has left the 60 s window.
      env.clock.advance(30_000);
      expect((await send(textMessage('zhangsan', 'm32'))).errcode).toBe(0);
      expect(chat('zhangsan').at(-1)!.text).toBe('m32');
    });

    it('drops beyond the hourly limit', async () => {
      await env.emulator.stop();
      env = await startEmulator({ rateLimits: { perMemberPerHour: 35 } });
      token = await getToken(env.http);
      for (let i = 0; i < 30; i += 1) await send(textMessage('zhangsan', `a${i}`));
      env.clock.advance(61_000);
      for (let i = 0; i < 10; i += 1) await send(textMessage('zhangsan', `b${i}`));
      expect(chat('zhangsan')).toHaveLength(35);
      env.clock.advance(3600_000);
      await send(textMessage('zhangsan', 'c'));
      expect(chat('zhangsan')).toHaveLength(36);
    });
  });

  describe('template cards', () => {
    it('delivers a button card and answers a response_code', async () => {
      const res = await send(cardMessage('zhangsan|lisi', buttonCard('lead_1001')));
      expect(res).toMatchObject({ errcode: 0 });
      expect(typeof res.response_code).toBe('string');
      const [msg] = chat('lisi');
      expect(msg!.card).toMatchObject({
        cardType: 'button_interaction',
        taskId: 'lead_1001',
        disabled: false,
      });
    });

    it('answers 42014 for a reused, missing, too long or badly formed task_id', async () => {
      expect((await send(cardMessage('zhangsan', buttonCard('lead_1')))).errcode).toBe(0);
      expect((await send(cardMessage('zhangsan', buttonCard('lead_1')))).errcode).toBe(42014);
      expect((await send(cardMessage('zhangsan', buttonCard('lead 2')))).errcode).toBe(42014);
      expect((await send(cardMessage('zhangsan', buttonCard('x'.repeat(129))))).errcode).toBe(42014);
      expect((await send(cardMessage('zhangsan', buttonCard('a'.repeat(128))))).errcode).toBe(0);
      const { task_id: _omit, ...noTask } = buttonCard('t');
      expect((await send(cardMessage('zhangsan', noTask))).errcode).toBe(42014);
      expect(chat('zhangsan')).toHaveLength(2);
    });

    it('validates card_type, button_list and horizontal_content_list', async () => {
      const seven = Array.from({ length: 7 }, (_, i) => ({ text: `b${i}`, key: `k${i}` }));
      expect((await send(cardMessage('zhangsan', buttonCard('t1', { card_type: 'fancy' })))).errcode).toBe(
        42031,
      );
      expect((await send(cardMessage('zhangsan', buttonCard('t2', { button_list: seven })))).errcode).toBe(
        40058,
      );
      const dupKeys = [
        { text: 'a', key: 'same' },
        { text: 'b', key: 'same' },
      ];
      expect((await send(cardMessage('zhangsan', buttonCard('t3', { button_list: dupKeys })))).errcode).toBe(
        42039,
      );
      const rows = Array.from({ length: 7 }, () => ({ keyname: 'k', value: 'v' }));
      const res = await send(cardMessage('zhangsan', buttonCard('t4', { horizontal_content_list: rows })));
      expect(res.errcode).toBe(42035);
      expect((await send(cardMessage('zhangsan', buttonCard('t5', { main_title: {} })))).errcode).toBe(40058);
    });

    it('warns (does not refuse) about button text over the recommended 10 characters', async () => {
      const card = buttonCard('t6', { button_list: [{ text: '这是一个超过十个字的按钮文案', key: 'k' }] });
      expect((await send(cardMessage('zhangsan', card))).errcode).toBe(0);
      expect(chat('zhangsan')[0]!.warnings).toHaveLength(1);
    });

    it('sends a text_notice card without response_code and requires its card_action', async () => {
      const notice = {
        card_type: 'text_notice',
        main_title: { title: '日报' },
        card_action: { type: 1, url: 'https://x' },
      };
      const res = await send(cardMessage('zhangsan', notice));
      expect(res.errcode).toBe(0);
      expect(res.response_code).toBeUndefined();
      const { card_action: _drop, ...noAction } = notice;
      expect((await send(cardMessage('zhangsan', noAction))).errcode).toBe(42045);
    });

    it('refuses interactive cards with 43012 while the app has no callback URL', async () => {
      env.emulator.control.setCallbackUrl(undefined);
      expect((await send(cardMessage('zhangsan', buttonCard('t7')))).errcode).toBe(43012);
    });

    it('checks the duplicate store before task_id, so a byte-identical retry is accepted', async () => {
      const body = JSON.stringify(cardMessage('zhangsan', buttonCard('t8'), { enable_duplicate_check: 1 }));
      const first = await send(body);
      const retry = await send(body);
      expect(retry).toEqual(first);
      expect(chat('zhangsan')).toHaveLength(1);
      env.clock.advance(1800_000);
      expect((await send(body)).errcode).toBe(42014);
    });
  });
});
