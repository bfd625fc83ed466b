import { createEmulator, type Emulator } from '../../src/emulator/create-emulator';
import { createManualClock } from '../../src/lib/clock';
import { createLogging } from '../../src/lib/logger';
import { createDingtalkClient, type DingtalkClient } from '../../src/platforms/dingtalk/client';
import { DINGTALK_API } from '../../src/platforms/dingtalk/render';
import { WECOM } from '../helpers/wecom-stack';

/**
 * The DingTalk half of the emulator against the adapter's real client over loopback: tokens that
 * expire (401 → one refresh), the custom robot's signature and its 20-a-minute throttle (130101 for
 * ten minutes), outTrackId uniqueness, invalid users, QPS limits.
 */
const clock = createManualClock('2026-11-21T01:00:00.000Z');
const robot = { accessToken: 'robot-token', secret: 'SECrobot' };
let emulator: Emulator;
let client: DingtalkClient;

beforeAll(async () => {
  emulator = createEmulator({
    clock,
    wecom: {
      corpId: WECOM.corpId,
      corpSecret: WECOM.secret,
      agentId: WECOM.agentId,
      token: WECOM.token,
      encodingAesKey: WECOM.aesKey,
      members: [],
    },
    dingtalk: {
      appKey: 'dingkey',
      appSecret: 'dingsecret',
      robotCode: 'dingkey',
      cardTemplateId: 'tpl.schema',
      members: [{ userId: 'u1', name: '王磊' }],
      groups: [{ openConversationId: 'cidA', name: '群', members: ['u1'] }],
      customRobots: [{ ...robot, name: '战报' }],
      rateLimits: { apiPerSecond: 1000 },
    },
  });
  const base = await emulator.start(0);
  client = createDingtalkClient({
    settings: { appKey: 'dingkey', appSecret: 'dingsecret', apiBase: base, oapiBase: base },
    clock,
    logger: createLogging({ level: 'silent' }).logger,
    timeoutMs: 2000,
  });
});
afterAll(async () => {
  await emulator.stop();
});

const text = (userIds: string[], content = '你好') =>
  JSON.stringify({
    robotCode: 'dingkey',
    userIds,
    msgKey: 'sampleText',
    msgParam: JSON.stringify({ content }),
  });

describe('DingTalk emulator', () => {
  it('issues a token once and refreshes it once when it expires', async () => {
    expect(await client.callApi(DINGTALK_API.batchSend, text(['u1']))).toMatchObject({ ok: true });
    expect(await client.callApi(DINGTALK_API.batchSend, text(['u1'], '二'))).toMatchObject({ ok: true });
    expect(emulator.dingtalk!.state.stats().token_calls).toBe(1);
    emulator.dingtalk!.control.expireTokens();
    expect(await client.callApi(DINGTALK_API.batchSend, text(['u1'], '三'))).toMatchObject({ ok: true });
    expect(emulator.dingtalk!.state.stats().token_calls).toBe(2);
  });

  it('a message whose only recipient is unknown is a permanent failure', async () => {
    expect(await client.callApi(DINGTALK_API.batchSend, text(['nobody']))).toMatchObject({
      ok: false,
      outcome: 'permanent',
      code: 'recipients_invalid',
    });
  });

  it('refuses a second card with the same outTrackId; the client reads it as already accepted', async () => {
    const card = JSON.stringify({
      cardTemplateId: 'tpl.schema',
      outTrackId: 'L1-new-lead-00',
      callbackType: 'STREAM',
      cardData: { cardParamMap: { title: 't' } },
      openSpaceId: 'dtv1.card//IM_ROBOT.u1',
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: 'dingkey' },
    });
    expect(await client.callApi(DINGTALK_API.createCard, card)).toMatchObject({
      ok: true,
      updateToken: 'dingtalk:outTrackId',
    });
    expect(await client.callApi(DINGTALK_API.createCard, card)).toMatchObject({
      ok: false,
      outcome: 'permanent',
      alreadyAccepted: true,
    });
    const bad = JSON.parse(card);
    bad.outTrackId = 'L1-new-lead-01';
    bad.cardData.cardParamMap.count = 3;
    expect(await client.callApi(DINGTALK_API.createCard, JSON.stringify(bad))).toMatchObject({
      ok: false,
      outcome: 'permanent',
      code: 'dingtalk_param.cardParamMapInvalid',
    });
  });

  it('checks the custom robot signature', async () => {
    expect(
      await client.sendCustomRobot(
        { ...robot, secret: 'wrong' },
        JSON.stringify({ msgtype: 'text', text: { content: 'x' } }),
      ),
    ).toMatchObject({
      ok: false,
      outcome: 'permanent',
      code: 'dingtalk_310000',
    });
    expect(await client.sendCustomRobot({ accessToken: 'nope', secret: 'x' }, '{}')).toMatchObject({
      code: 'dingtalk_300001',
    });
  });

  it('throttles the custom robot for ten minutes after 20 posts in a minute (130101, retried later)', async () => {
    const post = (n: number) =>
      client.sendCustomRobot(
        robot,
        JSON.stringify({ msgtype: 'markdown', markdown: { title: '战报', text: `第 ${n} 条` } }),
      );
    for (let n = 1; n <= 20; n++) expect(await post(n)).toMatchObject({ ok: true });
    expect(await post(21)).toMatchObject({
      ok: false,
      outcome: 'retry',
      code: 'dingtalk_130101',
      retryAfterMs: 600_000,
    });
    clock.advance(2 * 60_000);
    // A minute later the window is empty, but the robot is still throttled.
    expect(await post(22)).toMatchObject({ ok: false, code: 'dingtalk_130101' });
    clock.advance(9 * 60_000);
    expect(await post(23)).toMatchObject({ ok: true });
    expect(emulator.dingtalk!.state.robotPosts('战报')).toHaveLength(21);
  });

  it('answers QPS limits with 403, which the client retries after a second', async () => {
    emulator.dingtalk!.control.failNext(1, {
      kind: 'http',
      status: 403,
      code: 'Forbidden.AccessDenied.QpsLimitForApi',
    });
    expect(await client.callApi(DINGTALK_API.batchSend, text(['u1'], '四'))).toMatchObject({
      ok: false,
      outcome: 'retry',
      retryAfterMs: 1000,
    });
  });

  it('an accepted-then-dropped send is ambiguous', async () => {
    emulator.dingtalk!.control.failNext(
      1,
      { kind: 'accept_then_drop' },
      { path: '/v1.0/robot/oToMessages/batchSend' },
    );
    expect(await client.callApi(DINGTALK_API.batchSend, text(['u1'], '五'))).toMatchObject({
      ok: false,
      outcome: 'ambiguous',
    });
  });

  it('serves the /dingtalk page (own script and style only) and links it from the WeCom page', async () => {
    const base = emulator.url;
    const page = await fetch(`${base}/dingtalk`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/dingtalk/page.js');
    expect((await fetch(`${base}/dingtalk/page.js`)).status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toContain('href="/dingtalk"');
    const state = (await (await fetch(`${base}/_emulator/dingtalk/api/state`)).json()) as {
      groups: { openConversationId: string; name: string }[];
    };
    expect(state.groups[0]).toMatchObject({ openConversationId: 'cidA', name: '群' });
  });
});
