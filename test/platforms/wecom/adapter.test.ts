import type { CardModel } from '../../../src/cards/types';
import type { ChatPlatform } from '../../../src/platforms/types';
import { createWecomPlatform, MEMBER_LIMITS, ROBOT_LIMITS } from '../../../src/platforms/wecom/adapter';
import { AGENT_ID, type Env, ROBOT_KEY, startEnv } from './helpers';

const card: CardModel = {
  template: 'grab',
  title: '公海线索可抢',
  fields: [],
  buttons: [{ actionId: 'grab', text: '抢单', style: 'primary' }],
};

describe('createWecomPlatform', () => {
  let env: Env;
  let platform: ChatPlatform;
  const robots: Record<string, string> = { 'team-east': ROBOT_KEY };

  beforeEach(async () => {
    env = await startEnv();
    platform = createWecomPlatform({
      settings: { agentId: AGENT_ID },
      client: env.client,
      resolveRobotKey: (groupKey) => robots[groupKey],
    });
  });
  afterEach(() => env.emulator.stop());

  it('paces members at 30/min and 1000/h (windows widened by the lateness margin), robots at 20/min, updates like members', () => {
    expect(platform.pacing({ kind: 'text', to: { kind: 'user', userId: 'zhangsan' }, text: 'x' })).toEqual({
      target: 'wecom:user:zhangsan',
      limits: [
        { perSeconds: 75, max: 30 },
        { perSeconds: 3615, max: 1000 },
      ],
    });
    expect(
      platform.pacing({ kind: 'markdown', to: { kind: 'group', groupKey: 'team-east' }, markdown: 'x' }),
    ).toEqual({ target: 'wecom:robot:team-east', limits: [{ perSeconds: 60, max: 20 }] });
    expect(platform.pacing({ kind: 'card_update', userIds: ['lisi'], cardId: 'c1', card }).target).toBe(
      'wecom:user:lisi',
    );
    expect(platform.pacing({ kind: 'card_update', userIds: ['lisi', 'wangwu'], cardId: 'c1', card })).toEqual(
      {
        target: 'wecom:card:c1',
        limits: MEMBER_LIMITS,
      },
    );
    expect(ROBOT_LIMITS).toEqual([{ perSeconds: 60, max: 20 }]);
  });

  it('renders and sends each kind through the right API, resolving the robot key at send time', async () => {
    const cardRequest = platform.render(
      { kind: 'card', to: { kind: 'user', userId: 'zhangsan' }, cardId: 'grab_9', card },
      { dedupeKey: 'lead:9:grab:zhangsan' },
    );
    const sent = await platform.send(cardRequest);
    expect(sent).toMatchObject({ ok: true, updateToken: expect.any(String) });

    const update = platform.render(
      {
        kind: 'card_update',
        userIds: ['zhangsan'],
        cardId: 'grab_9',
        card: { ...card, settled: '已被抢' },
        updateToken: sent.ok ? sent.updateToken : undefined,
      },
      { dedupeKey: 'lead:9:grab:settle' },
    );
    expect(update.api).toBe('message/update_template_card');
    expect(await platform.send(update)).toEqual({ ok: true });

    const digest = platform.render(
      { kind: 'markdown', to: { kind: 'group', groupKey: 'team-east' }, markdown: '**日报**' },
      { dedupeKey: 'digest:east:2026-11-21' },
    );
    expect(digest.target).toBe('team-east');
    expect(digest.body).not.toContain(ROBOT_KEY);
    expect(await platform.send(digest)).toEqual({ ok: true });
    expect(env.emulator.state.group(ROBOT_KEY)!.messages).toHaveLength(1);
  });

  it('answers permanent for a group without a robot key and for an unknown API, without throwing', async () => {
    const orphan = platform.render(
      { kind: 'text', to: { kind: 'group', groupKey: 'team-west' }, text: 'x' },
      { dedupeKey: 'k' },
    );
    expect(await platform.send(orphan)).toMatchObject({
      ok: false,
      outcome: 'permanent',
      code: 'robot_key_missing',
    });
    expect(await platform.send({ api: 'message/recall', body: '{}' })).toMatchObject({
      ok: false,
      outcome: 'permanent',
      code: 'unknown_api',
    });
  });
});
