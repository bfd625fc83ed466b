import { CALENDAR_PATTERN_HINTS, checkCalendars } from '../../src/config/sections/calendars';
import { type Doc, doc, parse, problemsOf } from '../config/org-config-fixtures';

/** The example's office calendar; each test breaks one thing. */
function withCalendar(calendar: Record<string, unknown> = {}): Doc {
  const d = doc();
  d.calendars = {
    office: {
      workingHours: [
        { days: [1, 2, 3, 4, 5], from: '09:00', to: '12:00' },
        { days: [1, 2, 3, 4, 5], from: '13:30', to: '18:00' },
      ],
      holidaysPreset: 'cn',
      ...calendar,
    },
  };
  d.teams[0]!.calendar = 'office';
  return d;
}

const problems = (d: Doc) => checkCalendars(d).map((p) => `${p.path}: ${p.message}`);

describe('the calendars section', () => {
  it('loads, with defaults filled', () => {
    const config = parse(
      withCalendar({ holidays: [{ from: '2026-08-03', to: '2026-08-07', name: '公司年假' }] }),
    );
    expect(config.teams[0]!.calendar).toBe('office');
    expect(config.calendars?.office).toEqual({
      workingHours: [
        { days: [1, 2, 3, 4, 5], from: '09:00', to: '12:00' },
        { days: [1, 2, 3, 4, 5], from: '13:30', to: '18:00' },
      ],
      holidaysPreset: 'cn',
      holidays: [{ from: '2026-08-03', to: '2026-08-07', name: '公司年假' }],
      makeupWorkdays: [],
      makeupHours: 1,
    });
    expect(problems(withCalendar())).toEqual([]);
  });

  it('rejects malformed entries in the schema, one problem each', () => {
    const d = withCalendar({
      workingHours: [{ days: [0, 1], from: '9:00', to: '18:00' }],
      holidaysPreset: 'us',
      holidays: ['2026-13-01', { from: '2026-10-01' }, 20261001],
      makeupWorkdays: ['2026-10-10', '2026-10-10'],
      makeupHours: 8,
      holiday: [],
    });
    expect(problemsOf(d)).toEqual([
      '/calendars/office/holiday: 不允许的字段 "holiday" [additionalProperties]，是否想写 "holidays"？',
      '/calendars/office/workingHours/0/days/0: 必须 >= 1 [minimum]',
      expect.stringMatching(/^\/calendars\/office\/workingHours\/0\/from: "9:00" .+ \[pattern\]$/),
      '/calendars/office/holidaysPreset: 必须是以下之一：cn [enum]',
      expect.stringMatching(/^\/calendars\/office\/holidays\/0: "2026-13-01" .+ \[pattern\]$/),
      '/calendars/office/holidays/1: 缺少必填字段 "to" [required]',
      '/calendars/office/holidays/2: 类型应为字符串或对象，实际为数字 [type]',
      '/calendars/office/makeupWorkdays/1: 与 /calendars/office/makeupWorkdays/0 重复 [uniqueItems]',
      '/calendars/office/makeupHours: 必须 <= 7 [maximum]',
    ]);
  });

  it('requires calendar ids like every other id', () => {
    const d = doc();
    d.calendars = { Office: { workingHours: [{ days: [1], from: '09:00', to: '18:00' }] } };
    expect(problemsOf(d)).toContain(
      '/calendars: "Office" 不是合法的 id：只能用小写字母、数字、_ 和 -，以字母或数字开头，最长 64 个字符 [pattern]',
    );
  });

  it('has a plain-words hint for each of its patterns', () => {
    expect(Object.values(CALENDAR_PATTERN_HINTS)).toHaveLength(3);
    for (const pattern of Object.keys(CALENDAR_PATTERN_HINTS))
      expect(() => new RegExp(pattern)).not.toThrow();
  });
});

describe('checkCalendars', () => {
  it('requires a team calendar to be defined, with a hint for a typo', () => {
    const d = withCalendar();
    d.teams[0]!.calendar = 'ofice';
    d.teams.push({
      id: 'south',
      name: '华南',
      supervisor: 'zhang_san',
      members: ['li_si'],
      calendar: 'toString',
    });
    expect(problems(d)).toEqual([
      '/teams/0/calendar: 日历 "ofice" 不存在（是否想写 "office"？），请先在 calendars 中定义，已定义：office [ref]',
      '/teams/1/calendar: 日历 "toString" 不存在，请先在 calendars 中定义，已定义：office [ref]',
    ]);
    delete d.calendars;
    expect(problems(d)[0]).toBe('/teams/0/calendar: 日历 "ofice" 不存在，请先在 calendars 中定义 [ref]');
  });

  it('requires each working range to end after it starts', () => {
    const d = withCalendar({ workingHours: [{ days: [1, 2, 3, 4, 5], from: '22:00', to: '06:00' }] });
    expect(problems(d)).toEqual([
      '/calendars/office/workingHours/0/to: 结束时间 06:00 必须晚于开始时间 22:00；一段不能跨过午夜，夜班请拆成两段 [timeRange]',
    ]);
  });

  it('rejects ranges that overlap on a shared weekday, at the later one', () => {
    const d = withCalendar({
      workingHours: [
        { days: [1, 2, 3, 4, 5], from: '09:00', to: '12:00' },
        { days: [1, 2, 3, 4, 5], from: '13:30', to: '18:00' },
        { days: [5, 6], from: '11:00', to: '14:00' }, // Friday overlaps both; Saturday is alone
        { days: [6, 7], from: '14:00', to: '16:00' }, // touches Saturday's 14:00 end: fine
      ],
    });
    expect(problems(d)).toEqual([
      '/calendars/office/workingHours/2: 与 workingHours/0 在周五重叠（09:00–12:00 与 11:00–14:00）[overlap]',
      '/calendars/office/workingHours/2: 与 workingHours/1 在周五重叠（13:30–18:00 与 11:00–14:00）[overlap]',
    ]);
  });

  it('rejects dates that do not exist and ranges that end before they start', () => {
    const d = withCalendar({
      holidays: [
        '2026-02-30',
        { from: '2026-10-07', to: '2026-10-01' },
        { from: '2026-02-29', to: '2026-03-01' },
      ],
      makeupWorkdays: ['2026-09-31'],
    });
    expect(problems(d)).toEqual([
      '/calendars/office/holidays/0: "2026-02-30" 不是有效日期 [date]',
      '/calendars/office/holidays/1/to: 结束日期 2026-10-01 早于开始日期 2026-10-07 [dateRange]',
      '/calendars/office/holidays/2/from: "2026-02-29" 不是有效日期 [date]',
      '/calendars/office/makeupWorkdays/0: "2026-09-31" 不是有效日期 [date]',
    ]);
  });

  it('rejects a holiday range of more than a year (a mistyped year)', () => {
    const d = withCalendar({ holidays: [{ from: '2026-10-01', to: '2062-10-07' }] });
    expect(problems(d)).toEqual([
      '/calendars/office/holidays/0/to: 假期 2026-10-01 至 2062-10-07 共 13156 天，超过上限 366 天（年份写错了吗？）[dateRange]',
    ]);
  });

  it('rejects a day that is both a holiday and a make-up workday', () => {
    const d = withCalendar({
      holidays: ['2026-12-31', { from: '2026-10-01', to: '2026-10-07', name: '国庆节' }],
      makeupWorkdays: ['2026-10-04', '2026-10-10'],
    });
    expect(problems(d)).toEqual([
      '/calendars/office/makeupWorkdays/0: 2026-10-04 同时列在 holidays/1 中，一天不能既放假又调休上班 [conflict]',
    ]);
  });

  it('rejects a make-up workday that already works the same hours', () => {
    // 2026-09-23 is a Wednesday: probably meant Sunday 09-20.
    const d = withCalendar({ makeupWorkdays: ['2026-09-23'] });
    expect(problems(d)).toEqual([
      '/calendars/office/makeupWorkdays/0: 2026-09-23 是周三，本来就按同样的工时上班，列为调休上班日不起作用（日期写错了吗？）[makeupWorkday]',
    ]);
    // A Saturday with a short morning, made a full Monday-hours day: a real change.
    const saturdays = withCalendar({
      workingHours: [
        { days: [1, 2, 3, 4, 5], from: '09:00', to: '18:00' },
        { days: [6], from: '09:00', to: '12:00' },
      ],
      makeupWorkdays: ['2026-10-10'],
    });
    expect(problems(saturdays)).toEqual([]);
  });

  it('rejects make-up hours taken from a day without working hours', () => {
    expect(problems(withCalendar({ makeupHours: 6 }))).toEqual([
      '/calendars/office/makeupHours: 周六没有工作时间，调休上班日按它的工时就等于不上班；请改为有工作时间的一天，如 1（周一）[makeupHours]',
    ]);
    // Without make-up days or a preset the setting is unused.
    expect(problems(withCalendar({ makeupHours: 6, holidaysPreset: undefined }))).toEqual([]);
  });

  it('checks the timezone and canonicalises its letter case', () => {
    expect(problems(withCalendar({ timezone: 'Asia/Beijing' }))).toEqual([
      '/calendars/office/timezone: 无效的时区 "Asia/Beijing"：应为 IANA 时区名，如 Asia/Shanghai [timezone]',
    ]);
    const d = withCalendar({ timezone: 'asia/hong_kong' });
    expect(problems(d)).toEqual([]);
    expect((d.calendars as Record<string, { timezone: string }>).office!.timezone).toBe('Asia/Hong_Kong');
  });

  it('reads malformed data without throwing (it runs even when the schema failed)', () => {
    const d = doc();
    for (const calendars of [
      [],
      'office',
      { office: 5 },
      { office: { workingHours: 'all day', holidays: {} } },
    ]) {
      d.calendars = calendars;
      expect(checkCalendars(d)).toEqual([]);
    }
    d.calendars = { office: { workingHours: [null, { days: 'weekdays', from: '09:00', to: '18:00' }] } };
    d.teams = [5 as unknown as Record<string, unknown>];
    expect(checkCalendars(d)).toEqual([]);
  });
});
