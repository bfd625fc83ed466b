import type { CardLead } from '../../src/cards/card-context';
import { type CardTemplates, loadCardTemplates } from '../../src/cards/load-cards';
import { renderCard } from '../../src/cards/render-card';
import type { CardModel } from '../../src/cards/types';
import { context, lead, SHIPPED_CARDS } from './card-fixtures';

const templates = loadCardTemplates(SHIPPED_CARDS);

const bare: CardLead = { id: 7, name: '李娜', phone: '13900001111', grade: 'B', score: 40 };

describe('the shipped templates render a realistic lead', () => {
  it('new-lead: full contact details for the assigned rep, the claim countdown, 认领 / 退回公海', () => {
    expect(renderCard(templates, 'new-lead', context())).toStrictEqual<CardModel>({
      template: 'new-lead',
      title: '新线索 · A 级',
      description: '上海云启科技有限公司 · 来自百度推广',
      emphasis: { value: '5 分钟内认领', label: '请在 11月21日 09:35 前认领' },
      fields: [
        { label: '客户', value: '王建国 · 采购经理' },
        { label: '电话', value: '13812345678' },
        { label: '公司', value: '上海云启科技有限公司' },
        { label: '来源', value: '百度推广' },
        { label: '需求', value: '想了解私有化部署报价，200 人规模' },
        { label: '地区', value: '上海 浦东新区' },
      ],
      buttons: [
        { actionId: 'claim', text: '认领', style: 'primary' },
        { actionId: 'release', text: '退回公海', style: 'default' },
      ],
    });
  });

  it('pool-offer: masked contact, why it is in the pool, 抢单', () => {
    const card = renderCard(templates, 'pool-offer', context({ reason: '张伟退回：客户暂无预算' }));
    expect(card).toStrictEqual<CardModel>({
      template: 'pool-offer',
      title: '公海抢单 · A 级',
      description: '上海云启科技有限公司 · 来自百度推广',
      emphasis: { value: '85 分', label: '线索评分' },
      fields: [
        { label: '客户', value: '王** · 采购经理' },
        { label: '电话', value: '138****5678' },
        { label: '公司', value: '上海云启科技有限公司' },
        { label: '来源', value: '百度推广' },
        { label: '需求', value: '想了解私有化部署报价，200 人规模' },
        { label: '地区', value: '上海 浦东新区' },
      ],
      quote: '张伟退回：客户暂无预算',
      buttons: [{ actionId: 'grab', text: '抢单', style: 'primary' }],
    });
  });

  it('escalation: who missed what, how long overdue, 改派给下一位 / 我来跟进', () => {
    const card = renderCard(
      templates,
      'escalation',
      context({ deadline: new Date('2026-11-21T01:35:00.000Z'), minutes: 125, missed: '认领' }),
    );
    expect(card).toStrictEqual<CardModel>({
      template: 'escalation',
      title: '超时升级 · A 级线索',
      description: '张伟 · 未按时认领',
      emphasis: { value: '已超时 2 小时 5 分钟', label: '截止 11月21日 09:35' },
      fields: [
        { label: '客户', value: '王** · 采购经理' },
        { label: '电话', value: '138****5678' },
        { label: '公司', value: '上海云启科技有限公司' },
        { label: '来源', value: '百度推广' },
        { label: '负责人', value: '张伟' },
        { label: '需求', value: '想了解私有化部署报价，200 人规模' },
      ],
      buttons: [
        { actionId: 'reassign_next', text: '改派给下一位', style: 'primary' },
        { actionId: 'take_over', text: '我来跟进', style: 'default' },
      ],
    });
  });

  it('reminder: the due time and what to do, 已跟进 / 推迟一天', () => {
    const card = renderCard(
      templates,
      'reminder',
      context({ deadline: '2026-11-23T06:00:00.000Z', minutes: undefined, reason: '回电确认私有化报价' }),
    );
    expect(card).toStrictEqual<CardModel>({
      template: 'reminder',
      title: '跟进提醒 · A 级',
      description: '上海云启科技有限公司 · 王建国',
      emphasis: { value: '11月23日 14:00', label: '请在此时间前跟进' },
      fields: [
        { label: '客户', value: '王建国 · 采购经理' },
        { label: '电话', value: '13812345678' },
        { label: '公司', value: '上海云启科技有限公司' },
        { label: '来源', value: '百度推广' },
        { label: '需求', value: '想了解私有化部署报价，200 人规模' },
        { label: '地区', value: '上海 浦东新区' },
      ],
      quote: '回电确认私有化报价',
      buttons: [
        { actionId: 'followed_up', text: '已跟进', style: 'primary' },
        { actionId: 'snooze_1d', text: '推迟一天', style: 'default' },
      ],
    });
  });

  it('claimed: settled, no buttons, who and when', () => {
    const card = renderCard(
      templates,
      'claimed',
      context({ member: { name: '李娜' }, claimedAt: new Date('2026-11-21T01:32:10.000Z') }),
    );
    expect(card).toStrictEqual<CardModel>({
      template: 'claimed',
      title: '线索已认领 · A 级',
      description: '上海云启科技有限公司 · 来自百度推广',
      fields: [
        { label: '客户', value: '王** · 采购经理' },
        { label: '电话', value: '138****5678' },
        { label: '公司', value: '上海云启科技有限公司' },
        { label: '负责人', value: '李娜' },
        { label: '认领时间', value: '11月21日 09:32' },
      ],
      buttons: [],
      settled: '已被李娜认领 · 11月21日 09:32',
    });
  });

  it('closed: settled with the reason', () => {
    const card = renderCard(templates, 'closed', context({ reason: '已被李娜抢单' }));
    expect(card).toStrictEqual<CardModel>({
      template: 'closed',
      title: '线索状态已变更',
      description: '上海云启科技有限公司 · 来自百度推广',
      fields: [
        { label: '客户', value: '王** · 采购经理' },
        { label: '公司', value: '上海云启科技有限公司' },
        { label: '来源', value: '百度推广' },
        { label: '原因', value: '已被李娜抢单' },
      ],
      buttons: [],
      // The greyed-out button's text: WeCom shows at most 10 characters, so the reason alone.
      settled: '已被李娜抢单',
    });
    expect(renderCard(templates, 'closed', context()).settled).toBeUndefined();
  });
});

describe('empty values', () => {
  it('drop their rows, and emphasis, description and quote when nothing is left of them', () => {
    const card = renderCard(templates, 'new-lead', {
      lead: { ...bare, company: null, need: '', province: null, city: undefined, sourceName: null },
      timezone: 'Asia/Shanghai',
    });
    expect(card).toStrictEqual<CardModel>({
      template: 'new-lead',
      title: '新线索 · B 级',
      fields: [
        { label: '客户', value: '李娜' },
        { label: '电话', value: '13900001111' },
      ],
      buttons: [
        { actionId: 'claim', text: '认领', style: 'primary' },
        { actionId: 'release', text: '退回公海', style: 'default' },
      ],
    });
  });

  it('drop only their own part of a text', () => {
    const card = renderCard(templates, 'new-lead', {
      lead: { ...lead, company: null, title: null, province: null },
      deadline: new Date('2026-11-21T01:35:00.000Z'),
      timezone: 'Asia/Shanghai',
    });
    expect(card.description).toBe('来自百度推广');
    expect(card.emphasis).toBeUndefined();
    expect(card.fields).toContainEqual({ label: '客户', value: '王建国' });
    expect(card.fields).toContainEqual({ label: '地区', value: '浦东新区' });
    expect(card.fields.map((f) => f.label)).toEqual(['客户', '电话', '来源', '需求', '地区']);
  });

  it('keep an emphasis whose label is empty, without the label', () => {
    const card = renderCard(templates, 'new-lead', context({ deadline: undefined }));
    expect(card.emphasis).toStrictEqual({ value: '5 分钟内认领' });
  });

  it('a settled text whose member is unknown keeps its other part', () => {
    const card = renderCard(templates, 'claimed', {
      lead,
      claimedAt: '2026-11-21T01:32:10.000Z',
      timezone: 'Asia/Shanghai',
    });
    expect(card.settled).toBe('11月21日 09:32');
    expect(card.fields.map((f) => f.label)).not.toContain('负责人');
  });
});

describe('personal data', () => {
  const leaky: CardLead = {
    ...lead,
    need: '请打 +86 138-1234-5678 或 138 1234 5678，邮件 wangjg@yunqi.example.com，订单号 9876543210123',
  };
  const phoneForms = ['13812345678', '138-1234-5678', '138 1234 5678', '1381234'];

  it.each(['pool-offer', 'escalation', 'claimed', 'closed'])(
    '%s (seen by people other than the owner) never shows the full phone number or name',
    (name) => {
      const json = JSON.stringify(
        renderCard(templates, name, context({ lead: leaky, reason: '客户说：请打 13812345678' })),
      );
      for (const form of phoneForms) expect(json).not.toContain(form);
      expect(json).not.toContain('wangjg@');
      expect(json).not.toContain(lead.name);
      if (name !== 'closed') expect(json).toContain('138****5678');
    },
  );

  it('the pool card masks contact details inside the need text, but not other numbers', () => {
    const card = renderCard(templates, 'pool-offer', context({ lead: leaky }));
    expect(card.fields.find((f) => f.label === '需求')?.value).toBe(
      '请打 138****5678 或 138****5678，邮件 w***@yunqi.example.com，订单号 9876543210123',
    );
  });

  it('the new-lead card, one-to-one to the owner, shows the full number', () => {
    const card = renderCard(templates, 'new-lead', context());
    expect(card.fields).toContainEqual({ label: '电话', value: '13812345678' });
  });
});

describe('rendering', () => {
  const custom: CardTemplates = {
    probe: {
      name: 'probe',
      title: '{{lead.company}}',
      fields: [
        { label: '时间', value: '{{claimedAt}}' },
        { label: '截止', value: '{{deadline | time}}' },
        { label: '编号', value: '#{{lead.id}}' },
      ],
      buttons: [{ actionId: 'ok', text: '好', style: 'default' }],
    },
  };

  it('formats times in the context timezone (Asia/Shanghai crosses midnight here)', () => {
    const ctx = context({
      claimedAt: new Date('2026-11-20T16:05:00.000Z'),
      deadline: '2026-12-31T15:59:00.000Z',
    });
    expect(renderCard(custom, 'probe', ctx).fields).toEqual([
      { label: '时间', value: '11月21日 00:05' },
      { label: '截止', value: '12月31日 23:59' },
      { label: '编号', value: '#1024' },
    ]);
    expect(renderCard(custom, 'probe', { ...ctx, timezone: 'UTC' }).fields.slice(0, 2)).toEqual([
      { label: '时间', value: '11月20日 16:05' },
      { label: '截止', value: '12月31日 15:59' },
    ]);
  });

  it('drops an invalid date instead of printing "Invalid Date"', () => {
    const card = renderCard(
      custom,
      'probe',
      context({ claimedAt: 'not a date', deadline: new Date(Number.NaN) }),
    );
    expect(card.fields).toEqual([{ label: '编号', value: '#1024' }]);
  });

  it('never re-reads placeholders or separators inside values', () => {
    const company = '云启 · {{lead.phone}} {{member.name}}';
    const card = renderCard(custom, 'probe', context({ lead: { ...lead, company } }));
    expect(card.title).toBe(company);
  });

  it('returns buttons the caller may change without touching the templates', () => {
    const card = renderCard(templates, 'new-lead', context());
    card.buttons[0]!.text = '改了';
    expect(renderCard(templates, 'new-lead', context()).buttons[0]!.text).toBe('认领');
  });

  it('throws on an unknown template or timezone', () => {
    expect(() => renderCard(templates, 'welcome', context())).toThrow('未知的卡片模板 "welcome"');
    expect(() => renderCard(templates, 'toString', context())).toThrow('未知的卡片模板 "toString"');
    expect(() => renderCard(templates, 'new-lead', context({ timezone: 'Mars/Olympus' }))).toThrow(
      '无效的时区 "Mars/Olympus"',
    );
  });
});
