import { createBusinessCalendar } from '../../src/calendar/business-calendar';
import { isoWeekday, parseIsoDate } from '../../src/calendar/civil-date';
import {
  CN_HOLIDAY_SCHEDULES,
  CN_HOLIDAY_YEARS,
  chinaWorkweekCalendar,
  cnHolidaySchedule,
  STANDARD_OFFICE_HOURS,
} from '../../src/calendar/cn-holidays';
import { checkCalendars, type WorkingHoursRule } from '../../src/config/sections/calendars';
import { doc, parse } from '../config/org-config-fixtures';

const weekday = (date: string) => isoWeekday(parseIsoDate(date)!);
const days = (from: string, to: string) => parseIsoDate(to)! - parseIsoDate(from)! + 1;

describe('the shipped schedules', () => {
  it('ship 2026 only: the 2027 notice was not found published', () => {
    expect(CN_HOLIDAY_YEARS).toEqual([2026]);
    expect(() => cnHolidaySchedule(2027)).toThrow('没有 2027 年的法定节假日安排：已收录 2026 年');
  });

  it('match the 2026 notice, weekdays and lengths as printed in it', () => {
    // 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): name, first day (weekday), last day
    // (weekday), days.
    const schedule = cnHolidaySchedule(2026);
    expect(
      schedule.holidays.map((h) => [
        h.name,
        h.from,
        weekday(h.from),
        h.to,
        weekday(h.to),
        days(h.from, h.to),
      ]),
    ).toEqual([
      ['元旦', '2026-01-01', 4, '2026-01-03', 6, 3], // 1月1日（周四）至3日（周六），共3天
      ['春节', '2026-02-15', 7, '2026-02-23', 1, 9], // 2月15日（周日）至23日（周一），共9天
      ['清明节', '2026-04-04', 6, '2026-04-06', 1, 3], // 4月4日（周六）至6日（周一），共3天
      ['劳动节', '2026-05-01', 5, '2026-05-05', 2, 5], // 5月1日（周五）至5日（周二），共5天
      ['端午节', '2026-06-19', 5, '2026-06-21', 7, 3], // 6月19日（周五）至21日（周日），共3天
      ['中秋节', '2026-09-25', 5, '2026-09-27', 7, 3], // 9月25日（周五）至27日（周日），共3天
      ['国庆节', '2026-10-01', 4, '2026-10-07', 3, 7], // 10月1日（周四）至7日（周三），共7天
    ]);
    // 上班: 1月4日（周日）; 2月14日（周六）、2月28日（周六）; 5月9日（周六）; 9月20日（周日）、10月10日（周六）.
    expect(schedule.makeupWorkdays.map((m) => [m.date, weekday(m.date), m.for])).toEqual([
      ['2026-01-04', 7, '元旦'],
      ['2026-02-14', 6, '春节'],
      ['2026-02-28', 6, '春节'],
      ['2026-05-09', 6, '劳动节'],
      ['2026-09-20', 7, '国庆节'],
      ['2026-10-10', 6, '国庆节'],
    ]);
    expect(schedule.source).toEqual({
      title: '国务院办公厅关于2026年部分节假日安排的通知',
      issued: '2025-11-04',
      url: expect.stringMatching(/^https:\/\//),
    });
  });

  it('never list a make-up day inside a holiday, and are frozen', () => {
    for (const schedule of CN_HOLIDAY_SCHEDULES) {
      for (const { date } of schedule.makeupWorkdays) {
        const day = parseIsoDate(date)!;
        const inside = schedule.holidays.some(
          (h) => parseIsoDate(h.from)! <= day && day <= parseIsoDate(h.to)!,
        );
        expect([date, inside]).toEqual([date, false]);
      }
    }
    expect(Object.isFrozen(CN_HOLIDAY_SCHEDULES[0]!.holidays[0])).toBe(true);
  });
});

describe('chinaWorkweekCalendar', () => {
  it('writes the holidays out explicitly, as a config that passes the checks', () => {
    const calendar = chinaWorkweekCalendar({ years: [2026], name: '总部' });
    expect(calendar.workingHours).toEqual(STANDARD_OFFICE_HOURS);
    expect(calendar.holidays).toHaveLength(7);
    expect(calendar.holidays![1]).toEqual({ from: '2026-02-15', to: '2026-02-23', name: '春节' });
    expect(calendar.makeupWorkdays).toEqual([
      '2026-01-04',
      '2026-02-14',
      '2026-02-28',
      '2026-05-09',
      '2026-09-20',
      '2026-10-10',
    ]);

    const d = doc();
    d.calendars = { hq: calendar };
    d.teams[0]!.calendar = 'hq';
    expect(checkCalendars(d)).toEqual([]);
    expect(parse(d).calendars?.hq?.name).toBe('总部');
  });

  it('counts the same as the cn preset', () => {
    const explicit = createBusinessCalendar(chinaWorkweekCalendar({ years: [2026] }), 'Asia/Shanghai');
    const preset = createBusinessCalendar(
      { workingHours: [...STANDARD_OFFICE_HOURS], holidaysPreset: 'cn' },
      'Asia/Shanghai',
    );
    const start = new Date('2026-01-01T00:00:00+08:00');
    const end = new Date('2027-01-01T00:00:00+08:00');
    // 2026 has 261 weekdays (Mon–Fri); the notice takes 19 of them off (元旦 2, 春节 6, 清明 1,
    // 劳动节 3, 端午 1, 中秋 1, 国庆 5) and adds 6 make-up days: 248 working days of 7.5 h.
    expect(preset.businessTimeBetween(start, end)).toBe(248 * 7.5 * 3_600_000);
    expect(explicit.businessTimeBetween(start, end)).toBe(preset.businessTimeBetween(start, end));
  });

  it('refuses a year it has no notice for instead of guessing', () => {
    expect(() => chinaWorkweekCalendar({ years: [2026, 2027] })).toThrow('没有 2027 年的法定节假日安排');
  });

  it('takes its own hours, timezone and makeupHours', () => {
    const hours: WorkingHoursRule[] = [{ days: [1, 2, 3, 4, 5, 6], from: '08:30', to: '17:30' }];
    const calendar = chinaWorkweekCalendar({ years: [2026], hours, timezone: 'Asia/Urumqi', makeupHours: 6 });
    expect(calendar).toMatchObject({ workingHours: hours, timezone: 'Asia/Urumqi', makeupHours: 6 });
  });
});
