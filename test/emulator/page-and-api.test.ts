import { createEmulator } from '../../src/emulator/create-emulator';
import {
  AES_KEY,
  buttonCard,
  CORP_ID,
  cardMessage,
  getToken,
  postRaw,
  type Started,
  startEmulator,
  startReceiver,
  textMessage,
} from './helpers';

describe('wecom emulator: page and /_emulator/api', () => {
  let env: Started;
  afterEach(() => env.emulator.stop());

  it('serves a page naming every member and group, with a strict CSP', async () => {
    env = await startEmulator();
    const res = await env.http.get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    for (const name of ['张三', '李四', '王五', '销售一组']) expect(res.data).toContain(name);
    expect(res.data).toContain('企业微信模拟器');
  });

  it('escapes member names in the page', async () => {
    env = await startEmulator(
      {},
      { members: [{ userid: 'x"><img src=x>', name: '<script>alert(1)</script>' }] },
    );
    const res = await env.http.get('/');
    expect(res.data).not.toContain('<script>alert(1)</script>');
    expect(res.data).not.toContain('"><img');
    expect(res.data).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('exposes chats, groups and stats as JSON', async () => {
    env = await startEmulator();
    const token = await getToken(env.http);
    await postRaw(env.http, `/cgi-bin/message/send?access_token=${token}`, textMessage('lisi', '早'));
    await postRaw(env.http, '/cgi-bin/webhook/send?key=robot-key-1', {
      msgtype: 'text',
      text: { content: '日报' },
    });
    const chat = await env.http.get('/_emulator/api/chats/lisi');
    expect(chat.data).toMatchObject({
      userid: 'lisi',
      name: '李四',
      messages: [{ direction: 'out', text: '早' }],
    });
    expect((await env.http.get('/_emulator/api/chats/ghost')).status).toBe(404);
    const group = await env.http.get('/_emulator/api/groups/robot-key-1');
    expect(group.data).toMatchObject({
      name: '销售一组',
      messages: [{ msgtype: 'text', body: { content: '日报' } }],
    });
    const stats = await env.http.get('/_emulator/api/stats');
    expect(stats.data).toMatchObject({ sent: 2, delivered: 2, gettoken_calls: 1, dropped_rate_limited: 0 });
    expect(Object.keys(stats.data)).toEqual(
      expect.arrayContaining(['duplicates_suppressed', 'callbacks_sent', 'callback_failures']),
    );
  });

  it('acts as a member through the HTTP API (what the page buttons call)', async () => {
    const receiver = await startReceiver();
    try {
      env = await startEmulator({}, { callbackUrl: receiver.url });
      const token = await getToken(env.http);
      await postRaw(
        env.http,
        `/cgi-bin/message/send?access_token=${token}`,
        cardMessage('wangwu', buttonCard('lead_x')),
      );
      const text = await env.http.post('/_emulator/api/members/wangwu/text', { content: '我来跟进' });
      expect(text.data).toMatchObject({ ok: true });
      const click = await env.http.post('/_emulator/api/members/wangwu/click', {
        taskId: 'lead_x',
        eventKey: 'grab:lead_x',
      });
      expect(click.data).toMatchObject({ ok: true });
      expect(receiver.received.map((r) => r.fields!.MsgType)).toEqual(['text', 'event']);
      const bad = await env.http.post('/_emulator/api/members/wangwu/click', {
        taskId: 'nope',
        eventKey: 'k',
      });
      expect(bad.status).toBe(404);
      expect((await env.http.post('/_emulator/api/members/ghost/text', { content: 'x' })).status).toBe(404);
    } finally {
      await receiver.stop();
    }
  });

  it('keeps emulators independent and refuses a malformed EncodingAESKey', async () => {
    env = await startEmulator();
    const other = await startEmulator();
    try {
      await getToken(other.http);
      expect(env.emulator.state.stats().gettoken_calls).toBe(0);
    } finally {
      await other.emulator.stop();
    }
    const wecom = { corpId: CORP_ID, corpSecret: 's', agentId: 1, token: 't', members: [] };
    expect(() => createEmulator({ wecom: { ...wecom, encodingAesKey: 'short' } })).toThrow(/43/);
    expect(() => createEmulator({ wecom: { ...wecom, encodingAesKey: AES_KEY } })).not.toThrow();
  });
});
