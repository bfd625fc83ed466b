import type { ParseContext } from '../../src/conversation/command';
import { parseWhen, readWhen } from '../../src/conversation/parse-when';

// Saturday 2026-11-21, 10:00 in Shanghai (UTC+8, no DST). Monday-to-Sunday week: 11-16 … 11-22.
const shanghai: ParseContext = { now: new Date('2026-11-21T02:00:00Z'), timeZone: 'Asia/Shanghai' };

function at(text: string, ctx: ParseContext = shanghai): string | null {
  return parseWhen(text, ctx)?.at.toISOString() ?? null;
}

describe('parseWhen: days (Shanghai, Saturday 10:00)', () => {
  it.each<[string, string]>([
    ['今天下午3点', '2026-11-21T07:00:00.000Z'],
    ['今日下午3点', '2026-11-21T07:00:00.000Z'],
    ['明天', '2026-11-22T01:00:00.000Z'],
    ['明天下午3点', '2026-11-22T07:00:00.000Z'],
    ['明天 下午3点', '2026-11-22T07:00:00.000Z'],
    ['明日上午10点', '2026-11-22T02:00:00.000Z'],
    ['tomorrow', '2026-11-22T01:00:00.000Z'],
    ['Tomorrow 15:00', '2026-11-22T07:00:00.000Z'],
    ['tomorrow at 3pm', '2026-11-22T07:00:00.000Z'],
    ['3pm tomorrow', '2026-11-22T07:00:00.000Z'],
    ['后天', '2026-11-23T01:00:00.000Z'],
    ['大后天', '2026-11-24T01:00:00.000Z'],
    ['今晚', '2026-11-21T12:00:00.000Z'],
    ['今晚8点', '2026-11-21T12:00:00.000Z'],
    ['tonight', '2026-11-21T12:00:00.000Z'],
    ['明早', '2026-11-22T00:00:00.000Z'],
    ['明晚8点半', '2026-11-22T12:30:00.000Z'],
    // Next Monday-to-Sunday week.
    ['下周一', '2026-11-23T01:00:00.000Z'],
    ['下周一下午2点', '2026-11-23T06:00:00.000Z'],
    ['下星期三', '2026-11-25T01:00:00.000Z'],
    ['下礼拜五', '2026-11-27T01:00:00.000Z'],
    ['下个星期二', '2026-11-24T01:00:00.000Z'],
    ['下周日', '2026-11-29T01:00:00.000Z'],
    ['下周天', '2026-11-29T01:00:00.000Z'],
    ['下周', '2026-11-23T01:00:00.000Z'],
    ['下周末', '2026-11-28T01:00:00.000Z'],
    ['next monday', '2026-11-23T01:00:00.000Z'],
    ['next week', '2026-11-23T01:00:00.000Z'],
    // This week: may be past (the reminder refuses it, the reader does not guess).
    ['本周五', '2026-11-20T01:00:00.000Z'],
    ['这周日', '2026-11-22T01:00:00.000Z'],
    // Bare weekday: the first one from today on whose instant is still ahead.
    ['周三', '2026-11-25T01:00:00.000Z'],
    ['星期三下午2点', '2026-11-25T06:00:00.000Z'],
    ['礼拜三', '2026-11-25T01:00:00.000Z'],
    ['wednesday', '2026-11-25T01:00:00.000Z'],
    ['Wed 10am', '2026-11-25T02:00:00.000Z'],
    ['周日', '2026-11-22T01:00:00.000Z'],
    ['星期天', '2026-11-22T01:00:00.000Z'],
    ['周六', '2026-11-28T01:00:00.000Z'], // today, but 09:00 has passed
    ['周六下午', '2026-11-21T06:00:00.000Z'], // today, 14:00 still ahead
    ['周六上午9点', '2026-11-28T01:00:00.000Z'],
    // Counted days: the same local time, or the time given.
    ['3天后', '2026-11-24T02:00:00.000Z'],
    ['三天后', '2026-11-24T02:00:00.000Z'],
    ['3天以后', '2026-11-24T02:00:00.000Z'],
    ['3 天之后', '2026-11-24T02:00:00.000Z'],
    ['in 3 days', '2026-11-24T02:00:00.000Z'],
    ['3天后下午2点', '2026-11-24T06:00:00.000Z'],
    ['2周后', '2026-12-05T02:00:00.000Z'],
    ['十天后', '2026-12-01T02:00:00.000Z'],
    // Dates.
    ['11月25日', '2026-11-25T01:00:00.000Z'],
    ['11月25号', '2026-11-25T01:00:00.000Z'],
    ['11月25', '2026-11-25T01:00:00.000Z'],
    ['十一月二十五日', '2026-11-25T01:00:00.000Z'],
    ['11-25', '2026-11-25T01:00:00.000Z'],
    ['11/25', '2026-11-25T01:00:00.000Z'],
    ['2026-11-25', '2026-11-25T01:00:00.000Z'],
    ['2026年11月25日', '2026-11-25T01:00:00.000Z'],
    ['2026/11/25 15:30', '2026-11-25T07:30:00.000Z'],
    ['11月25日下午3点', '2026-11-25T07:00:00.000Z'],
    ['11月21日', '2026-11-21T01:00:00.000Z'], // today, named explicitly: past, not next year
    ['1月5日', '2027-01-05T01:00:00.000Z'], // passed this year
    ['25号', '2026-11-25T01:00:00.000Z'],
    ['20号', '2026-12-20T01:00:00.000Z'],
    ['31号', '2026-12-31T01:00:00.000Z'], // November has no 31st
    ['三十号', '2026-11-30T01:00:00.000Z'],
    ['25号下午4点', '2026-11-25T08:00:00.000Z'],
  ])('%s → %s', (text, expected) => {
    expect(at(text)).toBe(expected);
  });
});

describe('parseWhen: times of day (Shanghai, Saturday 10:00)', () => {
  it.each<[string, string]>([
    ['下午3点', '2026-11-21T07:00:00.000Z'],
    ['下午三点', '2026-11-21T07:00:00.000Z'],
    ['下午3点半', '2026-11-21T07:30:00.000Z'],
    ['下午三点一刻', '2026-11-21T07:15:00.000Z'],
    ['下午三点三刻', '2026-11-21T07:45:00.000Z'],
    ['下午三点二十', '2026-11-21T07:20:00.000Z'],
    ['下午3点05', '2026-11-21T07:05:00.000Z'],
    ['下午3点零五分', '2026-11-21T07:05:00.000Z'],
    ['3点半', '2026-11-21T07:30:00.000Z'],
    ['3点15分', '2026-11-21T07:15:00.000Z'],
    ['3点钟', '2026-11-21T07:00:00.000Z'],
    ['15点', '2026-11-21T07:00:00.000Z'],
    ['15:30', '2026-11-21T07:30:00.000Z'],
    ['15：30', '2026-11-21T07:30:00.000Z'],
    ['１５：３０', '2026-11-21T07:30:00.000Z'],
    ['3:30', '2026-11-21T07:30:00.000Z'], // 1–6 without a marker: afternoon
    ['03:30', '2026-11-21T19:30:00.000Z'], // zero-padded 24-hour clock: 03:30, tomorrow
    ['3pm', '2026-11-21T07:00:00.000Z'],
    ['3 PM', '2026-11-21T07:00:00.000Z'],
    ['3:30pm', '2026-11-21T07:30:00.000Z'],
    ['at 3pm', '2026-11-21T07:00:00.000Z'],
    ['3am', '2026-11-21T19:00:00.000Z'],
    ['10am', '2026-11-22T02:00:00.000Z'], // exactly now is not ahead: tomorrow
    ['12pm', '2026-11-21T04:00:00.000Z'],
    ['noon', '2026-11-21T04:00:00.000Z'],
    ['3点', '2026-11-21T07:00:00.000Z'],
    ['两点', '2026-11-21T06:00:00.000Z'],
    ['6点', '2026-11-21T10:00:00.000Z'],
    ['7点', '2026-11-21T23:00:00.000Z'], // 07:00, passed: tomorrow
    ['9点', '2026-11-22T01:00:00.000Z'],
    ['十二点', '2026-11-21T04:00:00.000Z'],
    ['上午9点', '2026-11-22T01:00:00.000Z'], // passed: tomorrow
    ['上午11点', '2026-11-21T03:00:00.000Z'],
    ['早上8点', '2026-11-22T00:00:00.000Z'],
    ['中午', '2026-11-21T04:00:00.000Z'],
    ['中午12点', '2026-11-21T04:00:00.000Z'],
    ['中午1点', '2026-11-21T05:00:00.000Z'],
    ['下午', '2026-11-21T06:00:00.000Z'],
    ['傍晚', '2026-11-21T10:00:00.000Z'],
    ['晚上8点', '2026-11-21T12:00:00.000Z'],
    ['晚上', '2026-11-21T12:00:00.000Z'],
    ['晚上12点', '2026-11-21T16:00:00.000Z'], // midnight at the end of today
    ['凌晨3点', '2026-11-21T19:00:00.000Z'], // 03:00 has passed today: tomorrow
    ['下午15点', '2026-11-21T07:00:00.000Z'],
  ])('%s → %s', (text, expected) => {
    expect(at(text)).toBe(expected);
  });
});

describe('parseWhen: relative', () => {
  it.each<[string, string]>([
    ['2小时后', '2026-11-21T04:00:00.000Z'],
    ['2个小时以后', '2026-11-21T04:00:00.000Z'],
    ['两小时后', '2026-11-21T04:00:00.000Z'],
    ['半小时后', '2026-11-21T02:30:00.000Z'],
    ['半个钟头后', '2026-11-21T02:30:00.000Z'],
    ['一个半小时后', '2026-11-21T03:30:00.000Z'],
    ['30分钟后', '2026-11-21T02:30:00.000Z'],
    ['三十分钟之后', '2026-11-21T02:30:00.000Z'],
    ['in 2h', '2026-11-21T04:00:00.000Z'],
    ['2h', '2026-11-21T04:00:00.000Z'],
    ['in 2 hours', '2026-11-21T04:00:00.000Z'],
    ['in 30 minutes', '2026-11-21T02:30:00.000Z'],
    ['in 30 min', '2026-11-21T02:30:00.000Z'],
    ['in an hour', '2026-11-21T03:00:00.000Z'],
    ['in half an hour', '2026-11-21T02:30:00.000Z'],
  ])('%s → %s', (text, expected) => {
    expect(at(text)).toBe(expected);
  });

  it('keeps the milliseconds of now', () => {
    const ctx = { ...shanghai, now: new Date('2026-11-21T02:00:00.123Z') };
    expect(at('2小时后', ctx)).toBe('2026-11-21T04:00:00.123Z');
    expect(at('3天后', ctx)).toBe('2026-11-24T02:00:00.123Z');
  });
});

describe('parseWhen: the rest of the text', () => {
  it.each<[string, string]>([
    ['明天下午3点 回访', '回访'],
    ['明天下午3点回访', '回访'],
    ['明天，回访客户', '回访客户'],
    ['  明天   回访  ', '回访'],
    ['tomorrow 15:00 call back', 'call back'],
    ['下午3点：带合同', '带合同'],
    ['2小时后 打电话', '打电话'],
    ['周三', ''],
    ['明天见客户。', '见客户。'],
    // A Chinese day after the time is text, not part of the time.
    ['3点 明天要带合同', '明天要带合同'],
    ['明天 3个客户', '3个客户'],
  ])('%s → rest %s', (text, rest) => {
    expect(parseWhen(text, shanghai)?.rest).toBe(rest);
  });

  it('reads the time from the text as typed, full-width included', () => {
    expect(parseWhen('明天下午３点　回访', shanghai)).toEqual({
      at: new Date('2026-11-22T07:00:00Z'),
      rest: '回访',
    });
    expect(parseWhen('３点 明天要带合同', shanghai)).toEqual({
      at: new Date('2026-11-21T07:00:00Z'),
      rest: '明天要带合同',
    });
  });
});

describe('parseWhen: no time', () => {
  it.each([
    '',
    '   ',
    '回访客户',
    '客户说明天来',
    '3个客户',
    'tomorrowland',
    'monitor the deal',
    'wedding',
    '这周',
    // A time's shape that names no real time: null, never a guess.
    '明天25点',
    '上午15点',
    '2月30日',
    '13月5日',
    '2026-02-29',
    '11月31日',
    '凌晨',
    '明天凌晨',
    '3点70分',
    '13pm',
    '0天后',
    '10000天后',
    '0小时后',
  ])('%j → null', (text) => {
    expect(parseWhen(text, shanghai)).toBeNull();
  });
});

describe('parseWhen: timezones', () => {
  it('reads the day in the team timezone, not in UTC', () => {
    // 00:30 on Sunday 11-22 in Shanghai is still Saturday 11-21 in UTC.
    const ctx = { now: new Date('2026-11-21T16:30:00Z'), timeZone: 'Asia/Shanghai' };
    expect(at('明天', ctx)).toBe('2026-11-23T01:00:00.000Z');
    expect(at('今天下午3点', ctx)).toBe('2026-11-22T07:00:00.000Z');
    expect(at('周一', ctx)).toBe('2026-11-23T01:00:00.000Z');
    expect(at('下周一', ctx)).toBe('2026-11-23T01:00:00.000Z');
  });

  it('New York, across the start of daylight saving time (2026-03-08)', () => {
    // Saturday 2026-03-07 10:00 EST (UTC-5); from Sunday 02:00 on, EDT (UTC-4).
    const ctx = { now: new Date('2026-03-07T15:00:00Z'), timeZone: 'America/New_York' };
    expect(at('明天下午3点', ctx)).toBe('2026-03-08T19:00:00.000Z');
    expect(at('1天后', ctx)).toBe('2026-03-08T14:00:00.000Z'); // same wall-clock time, 23 hours later
    expect(at('24小时后', ctx)).toBe('2026-03-08T15:00:00.000Z'); // elapsed time
    expect(at('下周一', ctx)).toBe('2026-03-09T13:00:00.000Z');
    expect(at('下午3点', ctx)).toBe('2026-03-07T20:00:00.000Z');
  });

  it('London, across the end of summer time (2026-10-25)', () => {
    // Saturday 2026-10-24 10:00 BST (UTC+1); from Sunday 02:00 on, GMT.
    const ctx = { now: new Date('2026-10-24T09:00:00Z'), timeZone: 'Europe/London' };
    expect(at('今天下午3点', ctx)).toBe('2026-10-24T14:00:00.000Z');
    expect(at('明天下午3点', ctx)).toBe('2026-10-25T15:00:00.000Z');
    expect(at('3天后', ctx)).toBe('2026-10-27T10:00:00.000Z');
    expect(at('tomorrow', ctx)).toBe('2026-10-25T09:00:00.000Z');
  });
});

describe('readWhen with wholeDays', () => {
  it('a date alone lasts the whole day: the next day starts', () => {
    expect(readWhen('周五', shanghai, { wholeDays: true })?.at.toISOString()).toBe(
      '2026-11-27T16:00:00.000Z',
    );
    // Today counts as a whole day, even though 09:00 has passed.
    expect(readWhen('周六', shanghai, { wholeDays: true })?.at.toISOString()).toBe(
      '2026-11-21T16:00:00.000Z',
    );
    expect(readWhen('明天', shanghai, { wholeDays: true })?.at.toISOString()).toBe(
      '2026-11-22T16:00:00.000Z',
    );
  });

  it('a time of day is kept', () => {
    expect(readWhen('周五下午3点', shanghai, { wholeDays: true })?.at.toISOString()).toBe(
      '2026-11-27T07:00:00.000Z',
    );
  });
});
