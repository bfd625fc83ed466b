import axios from 'axios';
import { getToken, postRaw, type Started, startEmulator, textMessage } from './helpers';

describe('wecom emulator: fault injection', () => {
  let env: Started;
  let token: string;
  const sendPath = () => `/cgi-bin/message/send?access_token=${token}`;
  const delivered = () => env.emulator.state.chat('zhangsan')!.messages.length;

  beforeEach(async () => {
    env = await startEmulator();
    token = await getToken(env.http);
  });
  afterEach(() => env.emulator.stop());

  it('answers errcode -1 for the next n calls, then behaves again', async () => {
    env.emulator.control.failNext(2, { kind: 'errcode', errcode: -1 });
    expect((await postRaw(env.http, sendPath(), textMessage('zhangsan', 'a'))).errcode).toBe(-1);
    expect((await postRaw(env.http, sendPath(), textMessage('zhangsan', 'b'))).errcode).toBe(-1);
    expect((await postRaw(env.http, sendPath(), textMessage('zhangsan', 'c'))).errcode).toBe(0);
    expect(delivered()).toBe(1);
  });

  it('answers an HTTP error, only on the given path', async () => {
    env.emulator.control.failNext(1, { kind: 'http', status: 503 }, { path: '/cgi-bin/message/send' });
    const tokenRes = await env.http.get('/cgi-bin/gettoken', { params: { corpid: 'x', corpsecret: 'y' } });
    expect(tokenRes.status).toBe(200);
    const res = await env.http.post(sendPath(), textMessage('zhangsan', 'a'));
    expect(res.status).toBe(503);
    expect(delivered()).toBe(0);
  });

  it('timeout: holds the request, then drops the connection without processing it', async () => {
    env.emulator.control.failNext(1, { kind: 'timeout', ms: 50 });
    await expect(
      axios.post(`${env.url}${sendPath()}`, textMessage('zhangsan', 'a'), { proxy: false }),
    ).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(delivered()).toBe(0);
  });

  it('accept_then_drop: delivers the message but never answers (an ambiguous send)', async () => {
    env.emulator.control.failNext(1, { kind: 'accept_then_drop' });
    await expect(
      axios.post(`${env.url}${sendPath()}`, textMessage('zhangsan', 'a'), { proxy: false }),
    ).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(delivered()).toBe(1);
    expect(env.emulator.state.stats().sent).toBe(1);
  });

  it('delay: answers late but normally; a client with a shorter timeout gives up while it is processed', async () => {
    env.emulator.control.failNext(1, { kind: 'delay', ms: 150 });
    const request = axios.post(`${env.url}${sendPath()}`, textMessage('zhangsan', 'a'), {
      proxy: false,
      timeout: 50,
    });
    await expect(request).rejects.toMatchObject({ code: 'ECONNABORTED' });
    await new Promise((r) => setTimeout(r, 200));
    expect(delivered()).toBe(1);
  });

  it('reset() clears chats, tokens, counters and pending faults', async () => {
    await postRaw(env.http, sendPath(), textMessage('zhangsan', 'a'));
    env.emulator.control.failNext(5, { kind: 'errcode', errcode: -1 });
    env.emulator.control.reset();
    expect(delivered()).toBe(0);
    expect(env.emulator.state.stats().sent).toBe(0);
    expect((await postRaw(env.http, sendPath(), textMessage('zhangsan', 'a'))).errcode).toBe(40014);
    expect(
      (
        await postRaw(
          env.http,
          `/cgi-bin/message/send?access_token=${await getToken(env.http)}`,
          textMessage('zhangsan', 'a'),
        )
      ).errcode,
    ).toBe(0);
  });
});
