import type { Command, ParseContext } from '../../src/conversation/command';
import { parseBantLines, parseCommand } from '../../src/conversation/grammar';

// Saturday 2026-11-21, 10:00 in Shanghai.
const ctx: ParseContext = { now: new Date('2026-11-21T02:00:00Z'), timeZone: 'Asia/Shanghai' };
const parse = (text: string): Command => parseCommand(text, ctx);

function note(text: string, leadId?: number, fields = {}): Command {
  return leadId === undefined ? { kind: 'note', text, fields } : { kind: 'note', leadId, text, fields };
}

describe('claim and show', () => {
  it.each<[string, Command]>([
    ['认领 123', { kind: 'claim', leadId: 123 }],
    ['认领123', { kind: 'claim', leadId: 123 }],
    ['认领 #123', { kind: 'claim', leadId: 123 }],
    ['认领#123', { kind: 'claim', leadId: 123 }],
    ['认领 ＃１２３', { kind: 'claim', leadId: 123 }],
    ['认领：123', { kind: 'claim', leadId: 123 }],
    ['认领　１２３', { kind: 'claim', leadId: 123 }],
    ['  认领   123  ', { kind: 'claim', leadId: 123 }],
    ['认领 123。', { kind: 'claim', leadId: 123 }],
    ['认领 007', { kind: 'claim', leadId: 7 }],
    ['认领', { kind: 'claim' }],
    ['认领！', { kind: 'claim' }],
    ['claim 123', { kind: 'claim', leadId: 123 }],
    ['Claim 123', { kind: 'claim', leadId: 123 }],
    ['CLAIM', { kind: 'claim' }],
    ['/claim 12', { kind: 'claim', leadId: 12 }],
    ['/认领 12', { kind: 'claim', leadId: 12 }],
    ['ｃｌａｉｍ　１２', { kind: 'claim', leadId: 12 }],
    ['认领 9007199254740991', { kind: 'claim', leadId: 9007199254740991 }],
    ['详情 123', { kind: 'show', leadId: 123 }],
    ['详情', { kind: 'show' }],
    ['show 123', { kind: 'show', leadId: 123 }],
    ['show #5', { kind: 'show', leadId: 5 }],
    ['SHOW', { kind: 'show' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it.each<[string, Command]>([
    ['claim abc', { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: 'abc' }],
    ['认领 0', { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: '0' }],
    ['认领 #0', { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: '#0' }],
    [
      '认领 123456789012345678901234567890',
      { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: '123456789012345678901234567890' },
    ],
    // 2^53 is not a safe integer.
    [
      '认领 9007199254740992',
      { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: '9007199254740992' },
    ],
    ['认领 #abc', { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: '#abc' }],
    [
      '认领 12 这个我来跟',
      { kind: 'invalid', command: 'claim', problem: 'bad_lead_id', detail: '12 这个我来跟' },
    ],
    ['详情 abc', { kind: 'invalid', command: 'show', problem: 'bad_lead_id', detail: 'abc' }],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('stage', () => {
  it.each<[string, Command]>([
    ['阶段 123 商机', { kind: 'stage', leadId: 123, stage: 'opportunity' }],
    ['阶段 #123 商机', { kind: 'stage', leadId: 123, stage: 'opportunity' }],
    ['阶段：123，商机', { kind: 'stage', leadId: 123, stage: 'opportunity' }],
    ['阶段 商机', { kind: 'stage', stage: 'opportunity' }],
    ['阶段 123 商机阶段', { kind: 'stage', leadId: 123, stage: 'opportunity' }],
    ['stage 123 opportunity', { kind: 'stage', leadId: 123, stage: 'opportunity' }],
    ['Stage 123 OPP', { kind: 'stage', leadId: 123, stage: 'opportunity' }],
    ['阶段 1 新线索', { kind: 'stage', leadId: 1, stage: 'new' }],
    ['阶段 1 新建', { kind: 'stage', leadId: 1, stage: 'new' }],
    ['阶段 1 新', { kind: 'stage', leadId: 1, stage: 'new' }],
    ['stage 1 new', { kind: 'stage', leadId: 1, stage: 'new' }],
    ['阶段 1 已联系', { kind: 'stage', leadId: 1, stage: 'contacted' }],
    ['阶段 1 联系', { kind: 'stage', leadId: 1, stage: 'contacted' }],
    ['stage 1 contacted', { kind: 'stage', leadId: 1, stage: 'contacted' }],
    ['阶段 1 已确认', { kind: 'stage', leadId: 1, stage: 'qualified' }],
    ['阶段 1 合格', { kind: 'stage', leadId: 1, stage: 'qualified' }],
    ['阶段 1 确认', { kind: 'stage', leadId: 1, stage: 'qualified' }],
    ['阶段 1 SQL', { kind: 'stage', leadId: 1, stage: 'qualified' }],
    ['stage 1 qualified', { kind: 'stage', leadId: 1, stage: 'qualified' }],
    ['阶段 1 赢单', { kind: 'stage', leadId: 1, stage: 'won' }],
    ['阶段 1 成交', { kind: 'stage', leadId: 1, stage: 'won' }],
    ['stage 1 won', { kind: 'stage', leadId: 1, stage: 'won' }],
    ['阶段 1 输单', { kind: 'stage', leadId: 1, stage: 'lost' }],
    ['阶段 1 丢单', { kind: 'stage', leadId: 1, stage: 'lost' }],
    ['stage 1 lost', { kind: 'stage', leadId: 1, stage: 'lost' }],
    ['阶段 1 培育', { kind: 'stage', leadId: 1, stage: 'nurture' }],
    ['阶段 1 孵化', { kind: 'stage', leadId: 1, stage: 'nurture' }],
    ['stage 1 nurture', { kind: 'stage', leadId: 1, stage: 'nurture' }],
    ['阶段 1 商机。', { kind: 'stage', leadId: 1, stage: 'opportunity' }],
    ['ｓｔａｇｅ　１　ＯＰＰ', { kind: 'stage', leadId: 1, stage: 'opportunity' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it.each<[string, Command]>([
    ['阶段 123 xyz', { kind: 'invalid', command: 'stage', problem: 'bad_stage', detail: 'xyz' }],
    ['阶段 123 快成了', { kind: 'invalid', command: 'stage', problem: 'bad_stage', detail: '快成了' }],
    ['阶段 123', { kind: 'invalid', command: 'stage', problem: 'bad_stage' }],
    ['stage 0 new', { kind: 'invalid', command: 'stage', problem: 'bad_lead_id', detail: '0' }],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('won', () => {
  it.each<[string, Command]>([
    ['赢单 123 8万', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 80,000', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 80000', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 ¥80000', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 ￥8万元', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 8.5万', { kind: 'won', leadId: 123, amount: 85000 }],
    ['赢单 123 1.2亿', { kind: 'won', leadId: 123, amount: 120000000 }],
    ['赢单 123 80k', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 2.5w', { kind: 'won', leadId: 123, amount: 25000 }],
    ['赢单 123 十万', { kind: 'won', leadId: 123, amount: 100000 }],
    ['赢单 123 ８万', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123 8万。', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123，8万', { kind: 'won', leadId: 123, amount: 80000 }],
    ['赢单 123,80,000', { kind: 'won', leadId: 123, amount: 80000 }],
    ['won 123 80000', { kind: 'won', leadId: 123, amount: 80000 }],
    ['成交 123 ¥80,000', { kind: 'won', leadId: 123, amount: 80000 }],
    ['成交 #123 8万', { kind: 'won', leadId: 123, amount: 80000 }],
    // No id: an amount with a unit, currency or separator is not an id.
    ['赢单 8万', { kind: 'won', amount: 80000 }],
    ['赢单 8 万', { kind: 'won', amount: 80000 }],
    ['赢单 ¥80000', { kind: 'won', amount: 80000 }],
    ['赢单 80,000', { kind: 'won', amount: 80000 }],
    // A bare number after the keyword is the lead id.
    ['赢单 123', { kind: 'won', leadId: 123 }],
    ['赢单', { kind: 'won' }],
    ['赢单！', { kind: 'won' }],
    ['WON', { kind: 'won' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it.each<[string, Command]>([
    ['赢单 123 abc', { kind: 'invalid', command: 'won', problem: 'bad_amount', detail: 'abc' }],
    ['赢单 123 0', { kind: 'invalid', command: 'won', problem: 'bad_amount', detail: '0' }],
    ['赢单 123 100美元', { kind: 'invalid', command: 'won', problem: 'bad_amount', detail: '100美元' }],
    [
      '赢单 123 ８万 很开心',
      { kind: 'invalid', command: 'won', problem: 'bad_amount', detail: '８万 很开心' },
    ],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('lost', () => {
  it.each<[string, Command]>([
    ['输单 123 预算不符', { kind: 'lost', leadId: 123, reason: '预算不符' }],
    ['输单 123：预算不符！', { kind: 'lost', leadId: 123, reason: '预算不符！' }],
    ['丢单 123 选了竞品，价格低20%', { kind: 'lost', leadId: 123, reason: '选了竞品，价格低20%' }],
    ['丢单 预算不符', { kind: 'lost', reason: '预算不符' }],
    ['丢单', { kind: 'lost' }],
    ['输单 123', { kind: 'lost', leadId: 123 }],
    ['lost 123 budget too low', { kind: 'lost', leadId: 123, reason: 'budget too low' }],
    ['Lost', { kind: 'lost' }],
    ['输单 #12 ＡＢＣ公司不做了', { kind: 'lost', leadId: 12, reason: 'ＡＢＣ公司不做了' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('remind', () => {
  it.each<[string, Command]>([
    [
      '提醒 123 明天下午3点 回访',
      { kind: 'remind', leadId: 123, at: new Date('2026-11-22T07:00:00Z'), text: '回访' },
    ],
    ['提醒 明天 回访', { kind: 'remind', at: new Date('2026-11-22T01:00:00Z'), text: '回访' }],
    [
      '提醒 #5 下周一 发报价',
      { kind: 'remind', leadId: 5, at: new Date('2026-11-23T01:00:00Z'), text: '发报价' },
    ],
    ['提醒 3天后', { kind: 'remind', at: new Date('2026-11-24T02:00:00Z'), text: '' }],
    [
      '提醒 下午3点半，打电话确认合同',
      { kind: 'remind', at: new Date('2026-11-21T07:30:00Z'), text: '打电话确认合同' },
    ],
    ['提醒 15:30 开会', { kind: 'remind', at: new Date('2026-11-21T07:30:00Z'), text: '开会' }],
    ['提醒 上午9点 开会', { kind: 'remind', at: new Date('2026-11-22T01:00:00Z'), text: '开会' }],
    ['提醒 2 小时后 打电话', { kind: 'remind', at: new Date('2026-11-21T04:00:00Z'), text: '打电话' }],
    ['提醒：半小时后 回电话', { kind: 'remind', at: new Date('2026-11-21T02:30:00Z'), text: '回电话' }],
    [
      '提醒 12 11 点 回访',
      { kind: 'remind', leadId: 12, at: new Date('2026-11-21T03:00:00Z'), text: '回访' },
    ],
    [
      'remind 123 tomorrow 15:00 call back',
      { kind: 'remind', leadId: 123, at: new Date('2026-11-22T07:00:00Z'), text: 'call back' },
    ],
    ['remind in 2h call', { kind: 'remind', at: new Date('2026-11-21T04:00:00Z'), text: 'call' }],
    [
      '提醒 123 明天下午３点　回访ＡＢＣ',
      { kind: 'remind', leadId: 123, at: new Date('2026-11-22T07:00:00Z'), text: '回访ＡＢＣ' },
    ],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it.each<[string, Command]>([
    ['提醒', { kind: 'invalid', command: 'remind', problem: 'missing_time' }],
    ['提醒 123', { kind: 'invalid', command: 'remind', problem: 'missing_time' }],
    ['提醒 回访', { kind: 'invalid', command: 'remind', problem: 'missing_time' }],
    ['remind call back', { kind: 'invalid', command: 'remind', problem: 'missing_time' }],
    [
      '提醒 13月5日 回访',
      { kind: 'invalid', command: 'remind', problem: 'bad_time', detail: '13月5日 回访' },
    ],
    ['提醒 明天25点', { kind: 'invalid', command: 'remind', problem: 'bad_time', detail: '明天25点' }],
    [
      '提醒 今天上午9点',
      { kind: 'invalid', command: 'remind', problem: 'time_in_past', detail: '今天上午9点' },
    ],
    ['提醒 今天 回访', { kind: 'invalid', command: 'remind', problem: 'time_in_past', detail: '今天' }],
    ['提醒 本周五 回访', { kind: 'invalid', command: 'remind', problem: 'time_in_past', detail: '本周五' }],
    ['提醒 abc', { kind: 'invalid', command: 'remind', problem: 'missing_time' }],
    ['提醒 #0 明天', { kind: 'invalid', command: 'remind', problem: 'bad_lead_id', detail: '#0' }],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('away', () => {
  it.each<[string, string]>([
    ['请假 3天', '2026-11-24T02:00:00.000Z'],
    ['请假 三天', '2026-11-24T02:00:00.000Z'],
    ['请假 3天 家里有事', '2026-11-24T02:00:00.000Z'],
    ['请假 半天', '2026-11-21T06:00:00.000Z'],
    ['请假 2小时', '2026-11-21T04:00:00.000Z'],
    ['请假 一个半小时', '2026-11-21T03:30:00.000Z'],
    ['请假 1周', '2026-11-28T02:00:00.000Z'],
    ['请假：3天。', '2026-11-24T02:00:00.000Z'],
    ['away 3d', '2026-11-24T02:00:00.000Z'],
    ['away 4h', '2026-11-21T06:00:00.000Z'],
    ['away 1w', '2026-11-28T02:00:00.000Z'],
    ['away 3 days', '2026-11-24T02:00:00.000Z'],
    ['away 3d family', '2026-11-24T02:00:00.000Z'],
    // The named day is the last day away: back at the start of the next one.
    ['请假 到周五', '2026-11-27T16:00:00.000Z'],
    ['请假 周五', '2026-11-27T16:00:00.000Z'],
    ['请假 到明天', '2026-11-22T16:00:00.000Z'],
    ['请假 到下周一', '2026-11-23T16:00:00.000Z'],
    ['请假 到11月25日', '2026-11-25T16:00:00.000Z'],
    ['away until friday', '2026-11-27T16:00:00.000Z'],
    ['请假 到周五下午3点', '2026-11-27T07:00:00.000Z'],
    // parseUntil forms keep its meaning: 2026-11-25 is that day's midnight.
    ['away until 2026-11-25', '2026-11-24T16:00:00.000Z'],
    ['away 2026-11-25', '2026-11-24T16:00:00.000Z'],
    ['请假 到2026-11-25', '2026-11-24T16:00:00.000Z'],
    ['away until 2026-11-25T09:00:00+08:00', '2026-11-25T01:00:00.000Z'],
    ['away until 2026-11-25 13:30', '2026-11-25T05:30:00.000Z'],
    ['ＡＷＡＹ　３ｄ', '2026-11-24T02:00:00.000Z'],
  ])('%j → until %s', (text, until) => {
    expect(parse(text)).toStrictEqual({ kind: 'away', until: new Date(until) });
  });

  it.each<[string, Command]>([
    ['请假', { kind: 'invalid', command: 'away', problem: 'bad_duration' }],
    ['请假 xyz', { kind: 'invalid', command: 'away', problem: 'bad_duration', detail: 'xyz' }],
    ['请假 3天半', { kind: 'invalid', command: 'away', problem: 'bad_duration', detail: '3天半' }],
    [
      'away until someday',
      { kind: 'invalid', command: 'away', problem: 'bad_duration', detail: 'until someday' },
    ],
    [
      'away until 2026-11-20',
      { kind: 'invalid', command: 'away', problem: 'time_in_past', detail: 'until 2026-11-20' },
    ],
    ['请假 到本周五', { kind: 'invalid', command: 'away', problem: 'time_in_past', detail: '到本周五' }],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it('counts Chinese days on the calendar and compact durations in elapsed time (DST)', () => {
    // Saturday 2026-03-07 10:00 EST; daylight saving time starts on Sunday.
    const ny = { now: new Date('2026-03-07T15:00:00Z'), timeZone: 'America/New_York' };
    expect(parseCommand('请假 3天', ny)).toStrictEqual({
      kind: 'away',
      until: new Date('2026-03-10T14:00:00Z'),
    });
    expect(parseCommand('away 3d', ny)).toStrictEqual({
      kind: 'away',
      until: new Date('2026-03-10T15:00:00Z'),
    });
    expect(parseCommand('请假 到周一', ny)).toStrictEqual({
      kind: 'away',
      until: new Date('2026-03-10T04:00:00Z'),
    });
  });
});

describe('reassign', () => {
  it.each<[string, Command]>([
    ['转派 123 李娜', { kind: 'reassign', leadId: 123, to: '李娜' }],
    ['转派 123 给李娜', { kind: 'reassign', leadId: 123, to: '李娜' }],
    ['转派 123 @李娜', { kind: 'reassign', leadId: 123, to: '李娜' }],
    ['转派 李娜', { kind: 'reassign', to: '李娜' }],
    ['转派 123 7', { kind: 'reassign', leadId: 123, to: '7' }],
    ['转派 #123 李娜。', { kind: 'reassign', leadId: 123, to: '李娜' }],
    ['reassign 123 lina', { kind: 'reassign', leadId: 123, to: 'lina' }],
    ['reassign 123 to Lina Wang', { kind: 'reassign', leadId: 123, to: 'Lina Wang' }],
    ['ＲＥＡＳＳＩＧＮ　１２３　ｌｉｎａ', { kind: 'reassign', leadId: 123, to: 'lina' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it.each<[string, Command]>([
    ['转派 123', { kind: 'invalid', command: 'reassign', problem: 'missing_member' }],
    ['转派', { kind: 'invalid', command: 'reassign', problem: 'missing_member' }],
    ['reassign 123 to', { kind: 'invalid', command: 'reassign', problem: 'missing_member' }],
    ['转派 0 李娜', { kind: 'invalid', command: 'reassign', problem: 'bad_lead_id', detail: '0' }],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('commands without arguments: the whole message only', () => {
  it.each<[string, Command['kind']]>([
    ['我的', 'mine'],
    ['我的！', 'mine'],
    ['  我的  ', 'mine'],
    ['我的线索', 'mine'],
    ['mine', 'mine'],
    ['Mine.', 'mine'],
    ['my', 'mine'],
    ['MY', 'mine'],
    ['my leads', 'mine'],
    ['ｍｉｎｅ', 'mine'],
    ['公海', 'pool'],
    ['pool', 'pool'],
    ['/pool', 'pool'],
    ['回来了', 'back'],
    ['我回来了', 'back'],
    ['我回来了！', 'back'],
    ['我回来了。', 'back'],
    ['back', 'back'],
    ['帮助', 'help'],
    ['help', 'help'],
    ['HELP', 'help'],
    ['/help', 'help'],
    ['?', 'help'],
    ['？', 'help'],
    ['？？', 'help'],
    ['菜单', 'help'],
    ['战报', 'digest'],
    ['digest', 'digest'],
  ])('%j → %s', (text, kind) => {
    expect(parse(text)).toStrictEqual({ kind });
  });

  it('returns a fresh object each time', () => {
    const a = parse('我的');
    (a as { kind: string }).kind = 'changed';
    expect(parse('我的')).toStrictEqual({ kind: 'mine' });
  });
});

describe('notes', () => {
  it.each<[string, Command]>([
    ['客户说下周来', note('客户说下周来')],
    ['  客户说下周来  ', note('客户说下周来')],
    ['#123 客户说下周来', note('客户说下周来', 123)],
    ['＃１２３ 客户说下周来', note('客户说下周来', 123)],
    ['#123客户说下周来', note('客户说下周来', 123)],
    ['#123：客户说下周来', note('客户说下周来', 123)],
    ['客户说下周来 #123', note('客户说下周来', 123)],
    ['客户说下周来　＃１２３', note('客户说下周来', 123)],
    ['#123', note('', 123)],
    // A `#` inside the text is text.
    ['客户说下周来#123', note('客户说下周来#123')],
    ['订单 #12 已发货，等回款', note('订单 #12 已发货，等回款')],
    // Keywords not followed by a separator are text.
    ['认领了客户资料', note('认领了客户资料')],
    ['赢单了！', note('赢单了！')],
    ['提醒一下自己', note('提醒一下自己')],
    ['阶段性进展不错', note('阶段性进展不错')],
    ['成交量很大', note('成交量很大')],
    ['请假条已交', note('请假条已交')],
    // Glued to a keyword without a separator: a note (only 提醒/请假 with clean arguments glue).
    ['详情见附件', note('详情见附件')],
    ['claimed the lead', note('claimed the lead')],
    ['showed the demo', note('showed the demo')],
    ['wonderful meeting', note('wonderful meeting')],
    ['backlog is long', note('backlog is long')],
    // Argument-less commands with more text are notes.
    ['我的客户说下周来', note('我的客户说下周来')],
    ['公海里的线索都看过了', note('公海里的线索都看过了')],
    ['回来了就打电话', note('回来了就打电话')],
    ['help me', note('help me')],
    ['/foo', note('/foo')],
    ['', note('')],
    ['   ', note('')],
    ['ＡＢＣ公司，全角文字保留原样', note('ＡＢＣ公司，全角文字保留原样')],
  ])('%j', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it('keeps a multi-line note as typed and reads its BANT lines', () => {
    const text = '#42 今天拜访了客户\n预算：50万\n决策人：王总；需求：CRM，时间：Q3';
    expect(parse(text)).toStrictEqual({
      kind: 'note',
      leadId: 42,
      text: '今天拜访了客户\n预算：50万\n决策人：王总；需求：CRM，时间：Q3',
      fields: { budget: 500000, budgetText: '50万', authority: '王总', need: 'CRM', timeline: 'Q3' },
    });
  });

  it.each<[string, Command]>([
    ['#0 客户说下周来', { kind: 'invalid', command: 'note', problem: 'bad_lead_id', detail: '0' }],
    [
      '客户说下周来 #99999999999999999999',
      { kind: 'invalid', command: 'note', problem: 'bad_lead_id', detail: '99999999999999999999' },
    ],
  ])('%j is refused', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });
});

describe('parseBantLines', () => {
  it.each<[string, object]>([
    ['预算：50万', { budget: 500000, budgetText: '50万' }],
    ['预算:50万', { budget: 500000, budgetText: '50万' }],
    ['预算 ： 50万 ', { budget: 500000, budgetText: '50万' }],
    ['budget: 500k', { budget: 500000, budgetText: '500k' }],
    ['Budget: 80,000', { budget: 80000, budgetText: '80,000' }],
    ['预算：¥80,000，决策人：王总', { budget: 80000, budgetText: '¥80,000', authority: '王总' }],
    ['预算：年内不超过80万', { budgetText: '年内不超过80万' }],
    ['预算：待定', { budgetText: '待定' }],
    ['预算：1.5亿', { budget: 150000000, budgetText: '1.5亿' }],
    ['决策人：王总', { authority: '王总' }],
    ['决策者：采购部李经理', { authority: '采购部李经理' }],
    ['authority: CFO', { authority: 'CFO' }],
    ['decision maker: Mr. Zhang', { authority: 'Mr. Zhang' }],
    ['Decision-maker: CEO', { authority: 'CEO' }],
    ['需求：CRM、企业微信对接', { need: 'CRM、企业微信对接' }],
    ['need: lead routing', { need: 'lead routing' }],
    ['时间：Q3', { timeline: 'Q3' }],
    ['时间线：年底前', { timeline: '年底前' }],
    ['timeline: end of year.', { timeline: 'end of year' }],
    [
      '预算：50万；决策人：王总;需求：CRM',
      { budget: 500000, budgetText: '50万', authority: '王总', need: 'CRM' },
    ],
    ['预算：50万。需求：CRM', { budget: 500000, budgetText: '50万', need: 'CRM' }],
    ['预算：\n需求：', {}],
    ['预算：50万\n预算：60万', { budget: 600000, budgetText: '60万' }],
    ['预算：50万\n预算：待定', { budgetText: '待定' }],
    // Only at the start of a line or part: a label in mid-sentence is text.
    ['客户的预算：50万', {}],
    ['约了时间：周三下午', {}],
    ['预算不够', {}],
    ['客户说下周来', {}],
  ])('%j', (text, fields) => {
    expect(parseBantLines(text)).toStrictEqual(fields);
  });
});

describe('robustness', () => {
  it('parses very long messages in linear time', () => {
    const long = [
      `客户${' '.repeat(100_000)}说`,
      `认领 ${'1'.repeat(100_000)}`,
      `提醒 ${' '.repeat(100_000)}x`,
      `${'，'.repeat(100_000)}预算：1`,
      `${'预算:'.repeat(20_000)}`,
      `#${'9'.repeat(100_000)} x`,
      `x ${'#1 '.repeat(30_000)}`,
      `${'。'.repeat(100_000)}`,
    ];
    const started = Date.now();
    for (const text of long) expect(() => parse(text)).not.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('glued 提醒 and 请假 (no space after the keyword)', () => {
  const ctx = { now: new Date('2026-11-21T02:00:00.000Z'), timeZone: 'Asia/Shanghai' };
  it('read as commands when the arguments read cleanly', () => {
    expect(parseCommand('提醒明天下午3点回访', ctx)).toEqual({
      kind: 'remind',
      at: new Date('2026-11-22T07:00:00.000Z'),
      text: '回访',
    });
    expect(parseCommand('请假到周五', ctx)).toMatchObject({ kind: 'away' });
  });
  it('stay notes otherwise, and other keywords never glue', () => {
    for (const text of [
      '提醒一下自己',
      '请假的事再说',
      '输单了，客户选了别家',
      '阶段性进展不错',
      '赢单了！',
    ]) {
      expect(parseCommand(text, ctx)).toMatchObject({ kind: 'note', text });
    }
  });
});
