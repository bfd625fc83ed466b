import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from '../../src/emulator/wecom/page-script';
import { PAGE_STYLE } from '../../src/emulator/wecom/page-style';
import {
  buttonCard,
  cardMessage,
  getToken,
  postRaw,
  type Started,
  startEmulator,
  startReceiver,
  textMessage,
} from './helpers';

/** Reads a Server-Sent Events stream over real HTTP, one parsed event at a time. */
async function openEvents(url: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}/_emulator/api/events`, { signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<{ event: string; data: Record<string, unknown> }> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) return { event, data: JSON.parse(data) };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return { res, next, close: () => controller.abort() };
}

describe('wecom emulator: live events for the page', () => {
  let env: Started;
  afterEach(() => env.emulator.stop());

  it('streams a snapshot, then every new message, card update and reset', async () => {
    const receiver = await startReceiver();
    try {
      env = await startEmulator({}, { callbackUrl: receiver.url });
      const events = await openEvents(env.url);
      expect(events.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const snapshot = await events.next();
      expect(snapshot.event).toBe('snapshot');
      expect((snapshot.data.members as unknown[]).length).toBe(3);

      const token = await getToken(env.http);
      await postRaw(env.http, `/cgi-bin/message/send?access_token=${token}`, textMessage('lisi', '早'));
      expect(await events.next()).toMatchObject({
        event: 'member',
        data: { id: 'lisi', message: { direction: 'out', text: '早' } },
      });

      const sent = await postRaw(
        env.http,
        `/cgi-bin/message/send?access_token=${token}`,
        cardMessage('wangwu', buttonCard('lead_7')),
      );
      const card = await events.next();
      expect(card).toMatchObject({
        event: 'member',
        data: { id: 'wangwu', message: { card: { taskId: 'lead_7' } } },
      });
      await postRaw(env.http, `/cgi-bin/message/update_template_card?access_token=${token}`, {
        userids: ['wangwu'],
        agentid: 1000002,
        response_code: sent.response_code,
        button: { replace_name: '已认领' },
      });
      let updated = await events.next();
      while (updated.event === 'stats') updated = await events.next();
      // The same message (same seq), now greyed out.
      expect(updated).toMatchObject({
        event: 'member',
        data: {
          id: 'wangwu',
          message: {
            seq: (card.data.message as { seq: number }).seq,
            card: { disabled: true, replaceName: '已认领' },
          },
        },
      });

      await env.http.post('/_emulator/api/members/zhangsan/text', { content: '认领 7' });
      let typed = await events.next();
      while (typed.event === 'stats') typed = await events.next();
      expect(typed).toMatchObject({
        event: 'member',
        data: { id: 'zhangsan', message: { direction: 'in', text: '认领 7' } },
      });

      await postRaw(env.http, '/cgi-bin/webhook/send?key=robot-key-1', {
        msgtype: 'text',
        text: { content: '日报' },
      });
      let group = await events.next();
      while (group.event === 'stats') group = await events.next();
      expect(group).toMatchObject({
        event: 'group',
        data: { id: 'robot-key-1', message: { body: { content: '日报' } } },
      });

      let stats = await events.next();
      while (stats.event !== 'stats') stats = await events.next();
      expect(stats.data).toMatchObject({ sent: expect.any(Number), cards_updated: 1 });

      await env.http.post('/_emulator/api/reset', {});
      let reset = await events.next();
      while (reset.event === 'stats') reset = await events.next();
      expect(reset.event).toBe('reset');
      events.close();
    } finally {
      await receiver.stop();
    }
  });

  it('a closed tab breaks nothing, and stopping the emulator ends open streams', async () => {
    env = await startEmulator();
    const events = await openEvents(env.url);
    await events.next();
    events.close();
    await new Promise((r) => setTimeout(r, 50));
    // No listener left behind: a message after the tab closed goes nowhere and throws nothing.
    const token = await getToken(env.http);
    expect(
      (await postRaw(env.http, `/cgi-bin/message/send?access_token=${token}`, textMessage('lisi', 'x')))
        .errcode,
    ).toBe(0);
    const open = await openEvents(env.url);
    await open.next();
    await env.emulator.stop();
    await expect(open.next()).rejects.toThrow();
  });

  it('allows only its own inline script and style, by hash', async () => {
    env = await startEmulator();
    const res = await env.http.get('/');
    const csp = res.headers['content-security-policy'] as string;
    const hash = (s: string) => createHash('sha256').update(s).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash(PAGE_SCRIPT)}'`);
    expect(csp).toContain(`style-src 'sha256-${hash(PAGE_STYLE)}'`);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.data).toContain(`<script>${PAGE_SCRIPT}</script>`);
    // The script never builds HTML from strings.
    expect(PAGE_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
