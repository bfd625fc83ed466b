import {
  AGENT_ID,
  CORP_ID,
  getToken,
  postRaw,
  SECRET,
  type Started,
  startEmulator,
  textMessage,
} from './helpers';

describe('wecom emulator: gettoken and token checks (path 91039)', () => {
  let env: Started;
  afterEach(() => env.emulator.stop());

  const send = (token: string) =>
    postRaw(
      env.http,
      `/cgi-bin/message/send?access_token=${encodeURIComponent(token)}`,
      textMessage('zhangsan', 'hi'),
    );

  it('issues a token with expires_in and counts gettoken calls', async () => {
    env = await startEmulator();
    const res = await env.http.get('/cgi-bin/gettoken', { params: { corpid: CORP_ID, corpsecret: SECRET } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    expect(typeof res.data.access_token).toBe('string');
    await getToken(env.http);
    expect(env.emulator.state.stats().gettoken_calls).toBe(2);
  });

  it('refuses a wrong secret, a wrong corpid and missing parameters with their errcodes', async () => {
    env = await startEmulator();
    const get = async (params: Record<string, string>) =>
      (await env.http.get('/cgi-bin/gettoken', { params })).data;
    expect((await get({ corpid: CORP_ID, corpsecret: 'nope' })).errcode).toBe(40001);
    expect((await get({ corpid: 'wwother', corpsecret: SECRET })).errcode).toBe(40013);
    expect((await get({ corpsecret: SECRET })).errcode).toBe(41002);
    expect((await get({ corpid: CORP_ID })).errcode).toBe(41004);
  });

  it('answers 42001 once the token outlived tokenTtlSeconds on the injected clock', async () => {
    env = await startEmulator({ tokenTtlSeconds: 600 });
    const token = await getToken(env.http);
    env.clock.advance(599_000);
    expect((await send(token)).errcode).toBe(0);
    env.clock.advance(1_000);
    expect((await send(token)).errcode).toBe(42001);
  });

  it('answers 40014 for an unknown token and 41001 for a missing one', async () => {
    env = await startEmulator();
    expect((await send('not-a-token')).errcode).toBe(40014);
    const res = await postRaw(env.http, '/cgi-bin/message/send', textMessage('zhangsan', 'hi'));
    expect(res.errcode).toBe(41001);
  });

  it('keeps an older token valid until its own expiry when a new one is issued', async () => {
    env = await startEmulator({ tokenTtlSeconds: 7200 });
    const first = await getToken(env.http);
    env.clock.advance(3600_000);
    const second = await getToken(env.http);
    expect(second).not.toBe(first);
    expect((await send(first)).errcode).toBe(0);
    env.clock.advance(3600_000);
    expect((await send(first)).errcode).toBe(42001);
    expect((await send(second)).errcode).toBe(0);
  });

  it('control.expireTokens() makes every token answer 42001 (WeCom may expire tokens early)', async () => {
    env = await startEmulator();
    const token = await getToken(env.http);
    env.emulator.control.expireTokens();
    expect((await send(token)).errcode).toBe(42001);
    expect((await send(await getToken(env.http))).errcode).toBe(0);
  });

  it("in 'reuse' mode returns the same token with the remaining lifetime", async () => {
    env = await startEmulator({ tokenIssuance: 'reuse' });
    const first = await getToken(env.http);
    env.clock.advance(1000_000);
    const res = await env.http.get('/cgi-bin/gettoken', { params: { corpid: CORP_ID, corpsecret: SECRET } });
    expect(res.data.access_token).toBe(first);
    expect(res.data.expires_in).toBe(6200);
  });

  it('refuses an agentid of another app with 301002', async () => {
    env = await startEmulator();
    const token = await getToken(env.http);
    const res = await postRaw(
      env.http,
      `/cgi-bin/message/send?access_token=${token}`,
      textMessage('zhangsan', 'hi', { agentid: AGENT_ID + 1 }),
    );
    expect(res.errcode).toBe(301002);
  });
});
