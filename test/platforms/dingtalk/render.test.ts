import type { CardModel } from '../../../src/cards/types';
import {
  cardParamMap,
  DINGTALK_API,
  type DingtalkRenderOptions,
  markdownTitle,
  renderDingtalkMessage,
  toDingtalkMarkdown,
} from '../../../src/platforms/dingtalk/render';

const card: CardModel = {
  template: 'new-lead',
  title: '新线索 · A 级',
  description: '苏州精工 · 来自官网表单',
  emphasis: { value: '30 分钟内认领', label: '请在 09:30 前认领' },
  fields: [
    { label: '客户', value: '张伟 · 总经理' },
    { label: '电话', value: '13812345678' },
  ],
  quote: '要报价',
  buttons: [
    { actionId: 'claim', text: '认领', style: 'primary' },
    { actionId: 'release', text: '退回公海', style: 'default' },
  ],
};

const options = (over: Partial<DingtalkRenderOptions> = {}): DingtalkRenderOptions => ({
  robotCode: 'dingRobot',
  cardTemplateId: 'tpl.schema',
  callback: { type: 'HTTP', routeKey: 'leadrelay' },
  group: (key) =>
    key === 'east'
      ? { openConversationId: 'cidEast', customRobot: true }
      : key === 'west'
        ? { openConversationId: 'cidWest', customRobot: false }
        : undefined,
  ...over,
});

describe('renderDingtalkMessage', () => {
  it('is deterministic: the same message renders to the same bytes', () => {
    const m = {
      kind: 'card' as const,
      to: { kind: 'user' as const, userId: '0300002' },
      cardId: 'L1-new-lead-ab12',
      card,
    };
    expect(renderDingtalkMessage(m, options()).body).toBe(renderDingtalkMessage(m, options()).body);
  });

  it('sends a card with buttons to a member with createAndDeliver, IM_ROBOT, our card id as outTrackId', () => {
    const r = renderDingtalkMessage(
      { kind: 'card', to: { kind: 'user', userId: '0300002' }, cardId: 'L1-new-lead-ab12', card },
      options(),
    );
    expect(r.api).toBe(DINGTALK_API.createCard);
    expect(r.ambiguousRetryWindowMs).toBe(Number.POSITIVE_INFINITY);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({
      cardTemplateId: 'tpl.schema',
      outTrackId: 'L1-new-lead-ab12',
      callbackType: 'HTTP',
      callbackRouteKey: 'leadrelay',
      openSpaceId: 'dtv1.card//IM_ROBOT.0300002',
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: 'dingRobot' },
    });
    expect(Object.values(body.cardData.cardParamMap).every((v) => typeof v === 'string')).toBe(true);
  });

  it('sends a group card to the team group (IM_GROUP) and in Stream mode asks for STREAM callbacks', () => {
    const r = renderDingtalkMessage(
      { kind: 'card', to: { kind: 'group', groupKey: 'west' }, cardId: 'L2-pool-offer-ff', card },
      options({ callback: { type: 'STREAM' } }),
    );
    const body = JSON.parse(r.body);
    expect(body.openSpaceId).toBe('dtv1.card//IM_GROUP.cidWest');
    expect(body.imGroupOpenDeliverModel).toEqual({ robotCode: 'dingRobot' });
    expect(body.callbackType).toBe('STREAM');
    expect(body.callbackRouteKey).toBeUndefined();
  });

  it('sends text and markdown one-to-one with batchSend; msgParam is a JSON string', () => {
    const text = JSON.parse(
      renderDingtalkMessage({ kind: 'text', to: { kind: 'user', userId: 'u1' }, text: '你好' }, options())
        .body,
    );
    expect(text).toEqual({
      robotCode: 'dingRobot',
      userIds: ['u1'],
      msgKey: 'sampleText',
      msgParam: '{"content":"你好"}',
    });
    const md = renderDingtalkMessage(
      {
        kind: 'markdown',
        to: { kind: 'user', userId: 'u1' },
        markdown: '**战报**\n<font color="info">12</font> 条',
      },
      options(),
    );
    expect(md.api).toBe(DINGTALK_API.batchSend);
    expect(md.ambiguousRetryWindowMs).toBe(0);
    expect(JSON.parse(JSON.parse(md.body).msgParam)).toEqual({ title: '战报', text: '**战报**  \n12 条' });
  });

  it('posts group text through the custom robot when the team has one, else through the app robot', () => {
    const robot = renderDingtalkMessage(
      { kind: 'markdown', to: { kind: 'group', groupKey: 'east' }, markdown: '# 日报' },
      options(),
    );
    expect(robot).toMatchObject({ api: DINGTALK_API.customRobot, target: 'east' });
    expect(JSON.parse(robot.body)).toEqual({
      msgtype: 'markdown',
      markdown: { title: '日报', text: '# 日报' },
    });
    expect(robot.body).not.toContain('access_token');
    const app = renderDingtalkMessage(
      { kind: 'text', to: { kind: 'group', groupKey: 'west' }, text: 'hi' },
      options(),
    );
    expect(app.api).toBe(DINGTALK_API.groupSend);
    expect(JSON.parse(app.body).openConversationId).toBe('cidWest');
  });

  it('updates a card by outTrackId with every variable, buttons hidden once settled', () => {
    const r = renderDingtalkMessage(
      {
        kind: 'card_update',
        userIds: ['u1'],
        cardId: 'L1-new-lead-ab12',
        card: { ...card, buttons: [], settled: '已被王磊认领' },
      },
      options(),
    );
    expect(r.api).toBe(DINGTALK_API.updateCard);
    const body = JSON.parse(r.body);
    expect(body.outTrackId).toBe('L1-new-lead-ab12');
    expect(body.cardUpdateOptions).toEqual({ updateCardDataByKey: true });
    expect(body.cardData.cardParamMap).toMatchObject({
      settled: '已被王磊认领',
      settledVisible: 'true',
      status: 'settled',
      button1Visible: 'false',
      button1Text: '',
    });
  });

  it('without a card template sends cards and updates as markdown', () => {
    const noTemplate = options({ cardTemplateId: null });
    const r = renderDingtalkMessage(
      { kind: 'card', to: { kind: 'user', userId: 'u1' }, cardId: 'L1-x', card },
      noTemplate,
    );
    expect(r.api).toBe(DINGTALK_API.batchSend);
    const u = renderDingtalkMessage(
      { kind: 'card_update', userIds: ['u1', 'u2'], cardId: 'L1-x', card },
      noTemplate,
    );
    expect(JSON.parse(u.body).userIds).toEqual(['u1', 'u2']);
  });

  it('refuses what DingTalk cannot carry', () => {
    expect(() =>
      renderDingtalkMessage({ kind: 'text', to: { kind: 'user', userId: 'a,b' }, text: 'x' }, options()),
    ).toThrow(/userId/);
    expect(() =>
      renderDingtalkMessage(
        { kind: 'image', to: { kind: 'group', groupKey: 'east' }, pngBase64: 'iVBO' },
        options(),
      ),
    ).toThrow(/图片/);
    expect(() =>
      renderDingtalkMessage(
        { kind: 'text', to: { kind: 'group', groupKey: 'nowhere' }, text: 'x' },
        options(),
      ),
    ).toThrow(/钉钉群/);
  });
});

describe('card variables and markdown', () => {
  it('fills six rows and six button slots, empty strings for unused ones', () => {
    const params = cardParamMap(card);
    expect(params.field1Label).toBe('客户');
    expect(params.field3Label).toBe('');
    expect(params.button2Action).toBe('release');
    expect(params.button3Visible).toBe('false');
    expect(params.buttonCount).toBe('2');
    expect(Object.keys(params)).toHaveLength(8 + 12 + 1 + 24 + 3);
  });

  it('drops WeCom colour tags and turns single newlines into hard breaks', () => {
    expect(toDingtalkMarkdown('a\nb\n\nc <font color="warning">d</font>')).toBe('a  \nb\n\nc d');
    expect(markdownTitle('\n## **华东 日报**\n正文')).toBe('华东 日报');
  });
});
