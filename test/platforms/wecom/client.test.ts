import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CardModel } from '../../../src/cards/types';
import { createWecomClient } from '../../../src/platforms/wecom/client';
import { renderWecomMessage } from '../../../src/platforms/wecom/render';
import { AGENT_ID, CORP_ID, captureLogs, type Env, ROBOT_KEY, SECRET, startEnv, textBody } from './helpers';

const card: CardModel = {
  template: 'new-lead',
  title: '新线索：张*',
  description: '来自官网表单',
  emphasis: { value: '15 分钟', label: '剩余认领时间' },
  fields: [
    { label: '电话', value: '138****1234' },
    { label: '意向', value: '企业版' },
  ],
  quote: '想了解价格和部署方式',
  buttons: [
    { actionId: 'claim', text: '认领', style: 'primary' },
    { actionId: 'release', text: '放回公海', style: 'default' },
  ],
};

const render = (message: Parameters<typeof renderWecomMessage>[0]) =>
  renderWecomMessage(message, { agentId: AGENT_ID }).body;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('WeCom client against the emulator', () => {
  let env: Env;
  afterEach(async () => {
    await env.emulator.stop();
  });

  const chat = (userid: string) => env.emulator.state.chat(userid)!.messages;
  const stats = () => env.emulator.state.stats();

  describe('access token', () => {
    it('fetches the token once for many concurrent sends', async () => {
      env = await startEnv();
      const users = ['zhangsan', 'lisi', 'wangwu'];
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => env.client.sendMessage(textBody(users[i % 3]!, `消息 ${i}`))),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(stats().gettoken_calls).toBe(1);
      expect(chat('zhangsan')).toHaveLength(8);
      expect(results[0]).toMatchObject({ ok: true, platformMessageId: expect.any(String) });
    });

    it('refreshes once when the clock passes expires_in mid-run, and the message still arrives', async () => {
      env = await startEnv({ tokenTtlSeconds: 7200 });
      expect((await env.client.sendMessage(textBody('zhangsan', '第一条'))).ok).toBe(true);
      env.clock.advance(7201_000);
      const results = await Promise.all([
        env.client.sendMessage(textBody('zhangsan', '第二条')),
        env.client.sendMessage(textBody('lisi', '第三条')),
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      expect(stats().gettoken_calls).toBe(2);
      expect(chat('zhangsan').map((m) => m.text)).toEqual(['第一条', '第二条']);
    });

    it('on 42001 (control.expireTokens) refreshes once and resends once, for all concurrent callers', async () => {
      env = await startEnv();
      expect((await env.client.sendMessage(textBody('zhangsan', '之前'))).ok).toBe(true);
      env.emulator.control.expireTokens();
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((t) => env.client.sendMessage(textBody('lisi', `过期后 ${t}`))),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(stats().gettoken_calls).toBe(2);
      expect(chat('lisi')).toHaveLength(4);
      expect(env.logs.text()).toContain('refreshing once');
    });

    it('a wrong secret is permanent; a busy gettoken is retried on the next call', async () => {
      env = await startEnv();
      const wrong = createWecomClient({
        settings: { corpId: CORP_ID, secret: 'wrong', apiBase: env.url },
        clock: env.clock,
        logger: captureLogs().logger,
      });
      expect(await wrong.sendMessage(textBody('zhangsan', 'x'))).toMatchObject({
        ok: false,
        outcome: 'permanent',
        code: 'gettoken_wecom_40001',
      });

      env.emulator.control.failNext(1, { kind: 'errcode', errcode: -1 }, { path: '/cgi-bin/gettoken' });
      expect(await env.client.sendMessage(textBody('zhangsan', 'y'))).toMatchObject({
        ok: false,
        outcome: 'retry',
        code: 'gettoken_wecom_-1',
      });
      expect((await env.client.sendMessage(textBody('zhangsan', 'y'))).ok).toBe(true);
      expect(chat('zhangsan')).toHaveLength(1);
    });
  });

  describe('classification of emulator faults', () => {
    const SEND = { path: '/cgi-bin/message/send' };

    it('errcode -1 → retry, and the same bytes go through afterwards', async () => {
      env = await startEnv();
      const body = textBody('zhangsan', '忙时');
      env.emulator.control.failNext(1, { kind: 'errcode', errcode: -1 }, SEND);
      expect(await env.client.sendMessage(body)).toMatchObject({
        ok: false,
        outcome: 'retry',
        code: 'wecom_-1',
      });
      expect(chat('zhangsan')).toHaveLength(0);
      expect((await env.client.sendMessage(body)).ok).toBe(true);
      expect(chat('zhangsan')).toHaveLength(1);
    });

    it('45009 → retry after a minute', async () => {
      env = await startEnv();
      env.emulator.control.failNext(1, { kind: 'errcode', errcode: 45009 }, SEND);
      expect(await env.client.sendMessage(textBody('zhangsan', 'x'))).toMatchObject({
        ok: false,
        outcome: 'retry',
        code: 'wecom_45009',
        retryAfterMs: 60_000,
      });
    });

    it('HTTP 503 → retry; HTTP 504 → ambiguous; a redirect → permanent', async () => {
      env = await startEnv();
      env.emulator.control.failNext(1, { kind: 'http', status: 503 }, SEND);
      expect(await env.client.sendMessage(textBody('zhangsan', 'a'))).toMatchObject({
        ok: false,
        outcome: 'retry',
        code: 'http_503',
      });
      env.emulator.control.failNext(1, { kind: 'http', status: 504 }, SEND);
      expect(await env.client.sendMessage(textBody('zhangsan', 'b'))).toMatchObject({
        outcome: 'ambiguous',
        code: 'http_504',
      });
      env.emulator.control.failNext(1, { kind: 'http', status: 302 }, SEND);
      expect(await env.client.sendMessage(textBody('zhangsan', 'c'))).toMatchObject({
        outcome: 'permanent',
        code: 'http_302',
      });
    });

    it('a client timeout → ambiguous', async () => {
      env = await startEnv({}, { timeoutMs: 200 });
      env.emulator.control.failNext(1, { kind: 'timeout', ms: 5000 }, SEND);
      const result = await env.client.sendMessage(textBody('zhangsan', '超时'));
      expect(result).toMatchObject({ ok: false, outcome: 'ambiguous' });
      expect(['net_ECONNABORTED', 'net_ETIMEDOUT']).toContain(result.ok ? 'ok' : result.code);
    });

    it('the server dropping the connection (timeout fault shorter than ours) → ambiguous', async () => {
      env = await startEnv();
      env.emulator.control.failNext(1, { kind: 'timeout', ms: 20 }, SEND);
      expect(await env.client.sendMessage(textBody('zhangsan', '断开'))).toMatchObject({
        ok: false,
        outcome: 'ambiguous',
        code: 'net_ECONNRESET',
      });
      expect(chat('zhangsan')).toHaveLength(0);
    });

    it('accept_then_drop → ambiguous; resending the same bytes is absorbed by the duplicate check', async () => {
      env = await startEnv();
      const body = textBody('zhangsan', '结果不明');
      env.emulator.control.failNext(1, { kind: 'accept_then_drop' }, SEND);
      expect(await env.client.sendMessage(body)).toMatchObject({ ok: false, outcome: 'ambiguous' });
      expect(chat('zhangsan')).toHaveLength(1);
      expect((await env.client.sendMessage(body)).ok).toBe(true);
      expect(chat('zhangsan')).toHaveLength(1);
      expect(stats().duplicates_suppressed).toBe(1);
    });

    it('an unknown user → permanent (81013)', async () => {
      env = await startEnv();
      expect(await env.client.sendMessage(textBody('nobody', 'x'))).toMatchObject({
        ok: false,
        outcome: 'permanent',
        code: 'wecom_81013',
      });
    });

    it('connection refused → retry (nothing was sent)', async () => {
      env = await startEnv();
      const port = await closedPort();
      const down = createWecomClient({
        settings: { corpId: CORP_ID, secret: SECRET, apiBase: `http://127.0.0.1:${port}` },
        clock: env.clock,
        logger: captureLogs().logger,
      });
      expect(await down.sendMessage(textBody('zhangsan', 'x'))).toMatchObject({
        ok: false,
        outcome: 'retry',
        code: 'gettoken_net_ECONNREFUSED',
      });
      expect(await down.sendGroupRobot(ROBOT_KEY, '{}')).toMatchObject({
        outcome: 'retry',
        code: 'net_ECONNREFUSED',
      });
    });
  });

  describe('cards', () => {
    it('sends a card, returns its response_code, and greys it out with update_template_card once', async () => {
      env = await startEnv();
      const sent = await env.client.sendMessage(
        render({ kind: 'card', to: { kind: 'user', userId: 'zhangsan' }, cardId: 'lead_42-new', card }),
      );
      expect(sent).toMatchObject({
        ok: true,
        platformMessageId: expect.any(String),
        updateToken: expect.any(String),
      });
      const updateToken = sent.ok ? sent.updateToken : undefined;
      const update = render({
        kind: 'card_update',
        userIds: ['zhangsan'],
        cardId: 'lead_42-new',
        card: { ...card, settled: '已被张三认领' },
        updateToken,
      });
      expect(await env.client.updateTemplateCard(update)).toEqual({ ok: true });
      const view = env.emulator.control.findLatestCard('zhangsan', 'lead_42-new')!.card;
      expect(view).toMatchObject({ disabled: true, replaceName: '已被张三认领' });
      // response_code is single use (94888): the emulator's unconfirmed default is 40058.
      expect(await env.client.updateTemplateCard(update)).toMatchObject({ ok: false, outcome: 'permanent' });
    });

    it('a reused card id is permanent (42014) once the duplicate window has passed', async () => {
      env = await startEnv();
      const body = render({ kind: 'card', to: { kind: 'user', userId: 'lisi' }, cardId: 'lead_7', card });
      expect((await env.client.sendMessage(body)).ok).toBe(true);
      env.clock.advance(4 * 3600_000 + 1000);
      expect(await env.client.sendMessage(body)).toMatchObject({
        ok: false,
        outcome: 'permanent',
        code: 'wecom_42014',
      });
    });

    it('replaces a whole card', async () => {
      env = await startEnv();
      const first = await env.client.sendMessage(
        render({ kind: 'card', to: { kind: 'user', userId: 'wangwu' }, cardId: 'grab_1', card }),
      );
      expect(first.ok).toBe(true);
      const result = await env.client.updateTemplateCard(
        render({
          kind: 'card_update',
          userIds: ['wangwu'],
          cardId: 'grab_1',
          card: { ...card, title: '已被李四抢到' },
          updateToken: first.ok ? first.updateToken : undefined,
        }),
      );
      expect(result.ok).toBe(true);
      const view = env.emulator.control.findLatestCard('wangwu', 'grab_1')!.card;
      expect((view.card.main_title as { title: string }).title).toBe('已被李四抢到');
      expect(view.disabled).toBe(false);
    });
  });

  describe('group robot', () => {
    it('posts to the robot without a token and paces nothing itself: the 21st in a minute is 45009 → retry', async () => {
      env = await startEnv();
      const body = (i: number) =>
        render({ kind: 'markdown', to: { kind: 'group', groupKey: 'team-east' }, markdown: `**日报** ${i}` });
      for (let i = 0; i < 20; i++)
        expect((await env.client.sendGroupRobot(ROBOT_KEY, body(i))).ok).toBe(true);
      expect(await env.client.sendGroupRobot(ROBOT_KEY, body(20))).toMatchObject({
        ok: false,
        outcome: 'retry',
        code: 'wecom_45009',
        retryAfterMs: 60_000,
      });
      expect(env.emulator.state.group(ROBOT_KEY)!.messages).toHaveLength(20);
      expect(stats().gettoken_calls).toBe(0);
    });

    it('an unknown robot key → permanent (93000)', async () => {
      env = await startEnv();
      expect(
        await env.client.sendGroupRobot('no-such-key', '{"msgtype":"text","text":{"content":"x"}}'),
      ).toMatchObject({
        outcome: 'permanent',
        code: 'wecom_93000',
      });
    });

    it('accepts a markdown cut to 4096 bytes', async () => {
      env = await startEnv();
      const long = '线索'.repeat(1000) + '🙂'.repeat(300);
      const body = render({ kind: 'markdown', to: { kind: 'group', groupKey: 'g' }, markdown: long });
      expect((await env.client.sendGroupRobot(ROBOT_KEY, body)).ok).toBe(true);
      const posted = env.emulator.state.group(ROBOT_KEY)!.messages[0]!.body as { content: string };
      expect(Buffer.byteLength(posted.content)).toBeLessThanOrEqual(4096);
      expect(posted.content.endsWith('…（已截断）')).toBe(true);
    });
  });

  it('posts the exact bytes as JSON with the token in the query, and never follows a redirect', async () => {
    env = await startEnv();
    const seen: { method: string; url: string; type: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          type: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.setHeader('Content-Type', 'application/json');
        if (req.url?.startsWith('/cgi-bin/gettoken')) {
          res.end('{"errcode":0,"errmsg":"ok","access_token":"tok+/=","expires_in":7200}');
        } else {
          // A redirect to the emulator: following it would deliver the message there.
          res.statusCode = 302;
          res.setHeader('Location', `${env.url}/cgi-bin/message/send?access_token=x`);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createWecomClient({
        settings: { corpId: CORP_ID, secret: SECRET, apiBase: `http://127.0.0.1:${port}/` },
        clock: env.clock,
        logger: captureLogs().logger,
      });
      const body = ` ${textBody('zhangsan', '原样 "bytes"')}\n`;
      expect(await client.sendMessage(body)).toMatchObject({ outcome: 'permanent', code: 'http_302' });
      expect(seen).toHaveLength(2);
      expect(seen[0]!.url).toBe(
        `/cgi-bin/gettoken?corpid=${CORP_ID}&corpsecret=${encodeURIComponent(SECRET)}`,
      );
      expect(seen[1]).toMatchObject({
        method: 'POST',
        url: `/cgi-bin/message/send?access_token=${encodeURIComponent('tok+/=')}`,
        body,
      });
      expect(seen[1]!.type).toMatch(/^application\/json/);
      expect(stats().sent).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('never logs the secret, the access token, the robot key or message content', async () => {
    env = await startEnv();
    await env.client.sendMessage(textBody('zhangsan', '私密内容 13812341234'));
    env.emulator.control.expireTokens();
    await env.client.sendMessage(textBody('nobody', '私密内容 2'));
    await env.client.sendGroupRobot(ROBOT_KEY, '{"msgtype":"text","text":{"content":"私密内容 3"}}');
    await env.client.sendGroupRobot('another-secret-key', '{}');
    const logs = env.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [SECRET, ROBOT_KEY, 'another-secret-key', '私密内容', '13812341234']) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toMatch(/access_token=/);
  });
});
