import {
  createTimeFormat,
  FORMATTERS,
  formatCardTime,
  formatMinutes,
  redactText,
} from '../../src/cards/formatters';

describe('duration', () => {
  it.each<[number, string]>([
    [0, '0 分钟'],
    [5, '5 分钟'],
    [59, '59 分钟'],
    [60, '1 小时'],
    [90, '1 小时 30 分钟'],
    [120, '2 小时'],
    [1440, '1 天'],
    [1500, '1 天 1 小时'],
    [1501, '1 天 1 小时'],
    [4.6, '5 分钟'],
    [-30, '30 分钟'],
  ])('%s minutes → %s', (minutes, text) => {
    expect(formatMinutes(minutes)).toBe(text);
  });

  it('is empty for anything but a finite number', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, '5', null, undefined])
      expect(formatMinutes(v)).toBe('');
  });
});

describe('time', () => {
  const shanghai = createTimeFormat('Asia/Shanghai');

  it.each<[Date | string, string]>([
    [new Date('2026-11-21T01:30:00.000Z'), '11月21日 09:30'],
    ['2026-11-21T01:30:00.000Z', '11月21日 09:30'],
    // Just past midnight: 00, never 24.
    ['2026-11-20T16:00:00.000Z', '11月21日 00:00'],
    ['2026-01-05T03:07:59.999Z', '1月5日 11:07'],
  ])('%s → %s in Asia/Shanghai', (value, text) => {
    expect(formatCardTime(value, shanghai)).toBe(text);
  });

  it('is empty for a missing or invalid time', () => {
    for (const v of ['', 'tomorrow', new Date(Number.NaN), 1_700_000_000_000, undefined]) {
      expect(formatCardTime(v, shanghai)).toBe('');
    }
  });

  it('rejects an unknown timezone with its name', () => {
    expect(() => createTimeFormat('Asia/Beijing')).toThrow('无效的时区 "Asia/Beijing"');
  });
});

describe('redact', () => {
  it.each<[string, string]>([
    ['电话13812345678', '电话138****5678'],
    ['+86 138-1234-5678', '138****5678'],
    ['8613812345678 转总机', '138****5678 转总机'],
    ['138 1234 5678，晚上打', '138****5678，晚上打'],
    ['邮箱 wang.jg@yunqi.cn', '邮箱 w***@yunqi.cn'],
    // Not mobile numbers: an order number that contains one, an amount.
    ['订单 20261121138123456', '订单 20261121138123456'],
    ['预算 50 万，200 人', '预算 50 万，200 人'],
  ])('%s → %s', (text, redacted) => {
    expect(redactText(text)).toBe(redacted);
  });
});

describe('maskPhone / maskName', () => {
  it('format text only', () => {
    expect(FORMATTERS.maskPhone.format('13812345678')).toBe('138****5678');
    expect(FORMATTERS.maskName.format('王建国')).toBe('王**');
    expect(FORMATTERS.maskPhone.format(undefined)).toBe('');
  });
});
