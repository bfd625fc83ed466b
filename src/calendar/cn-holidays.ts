import type { CalendarConfig, WorkingHoursRule } from '../config/sections/calendars';
import type { IsoWeekday } from './civil-date';

/**
 * Mainland China public holidays and make-up working days (调休), as published each year by the
 * General Office of the State Council (国务院办公厅关于 YYYY 年部分节假日安排的通知), usually in
 * November or December of the year before. Only published notices go in here, copied date by date:
 * a year whose notice is not out yet is absent (never estimated from the lunar calendar), and
 * asking for it is an error, so no SLA silently counts an unannounced holiday as a working day.
 *
 * To add a year: copy the notice's dates below, add the year to the tests in
 * test/calendar/cn-holidays.test.ts (weekdays as printed in the notice), and say so in the changelog.
 */

export interface CnHolidayPeriod {
  /** The holiday, as the notice names it. */
  name: string;
  /** First and last day off (inclusive), `YYYY-MM-DD`. */
  from: string;
  to: string;
}

export interface CnMakeupWorkday {
  /** A weekend day worked, `YYYY-MM-DD` (the notice's "上班"). */
  date: string;
  /** The holiday it makes up for. */
  for: string;
}

export interface CnHolidaySchedule {
  year: number;
  source: {
    title: string;
    /** Date on the notice. */
    issued: string;
    /** Where the text was read (Xinhua's republication of the notice). */
    url: string;
  };
  holidays: readonly CnHolidayPeriod[];
  makeupWorkdays: readonly CnMakeupWorkday[];
}

/**
 * 国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04 (新华社北京11月4日电):
 *   一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
 *   二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
 *       2月14日（周六）、2月28日（周六）上班。
 *   三、清明节：4月4日（周六）至6日（周一）放假，共3天。
 *   四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
 *   五、端午节：6月19日（周五）至21日（周日）放假，共3天。
 *   六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
 *   七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
 */
const CN_2026: CnHolidaySchedule = {
  year: 2026,
  source: {
    title: '国务院办公厅关于2026年部分节假日安排的通知',
    issued: '2025-11-04',
    url: 'https://politics.gmw.cn/2025-11/04/content_38391083.htm',
  },
  holidays: [
    { name: '元旦', from: '2026-01-01', to: '2026-01-03' },
    { name: '春节', from: '2026-02-15', to: '2026-02-23' },
    { name: '清明节', from: '2026-04-04', to: '2026-04-06' },
    { name: '劳动节', from: '2026-05-01', to: '2026-05-05' },
    { name: '端午节', from: '2026-06-19', to: '2026-06-21' },
    { name: '中秋节', from: '2026-09-25', to: '2026-09-27' },
    { name: '国庆节', from: '2026-10-01', to: '2026-10-07' },
  ],
  makeupWorkdays: [
    { date: '2026-01-04', for: '元旦' },
    { date: '2026-02-14', for: '春节' },
    { date: '2026-02-28', for: '春节' },
    { date: '2026-05-09', for: '劳动节' },
    { date: '2026-09-20', for: '国庆节' },
    { date: '2026-10-10', for: '国庆节' },
  ],
};

// 2027: the notice for 2027 had not been found published when this was written (it normally comes out
// in November/December 2026). Add it here from the notice's text once it is out.

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Every shipped schedule, oldest first. Frozen: constant data, not shared mutable state. */
export const CN_HOLIDAY_SCHEDULES: readonly CnHolidaySchedule[] = deepFreeze([CN_2026]);

/** The years the `cn` preset knows. A date in any other year is treated as an ordinary week. */
export const CN_HOLIDAY_YEARS: readonly number[] = Object.freeze(CN_HOLIDAY_SCHEDULES.map((s) => s.year));

export function cnHolidaySchedule(year: number): CnHolidaySchedule {
  const schedule = CN_HOLIDAY_SCHEDULES.find((s) => s.year === year);
  if (!schedule) {
    throw new Error(
      `没有 ${year} 年的法定节假日安排：已收录 ${CN_HOLIDAY_YEARS.join('、')} 年。` +
        `国务院办公厅的放假通知发布后请补进 src/calendar/cn-holidays.ts，或在日历的 holidays / makeupWorkdays 中手写`,
    );
  }
  return schedule;
}

/** A common Chinese office day: 09:00–12:00 and 13:30–18:00 (午休 in between), Monday to Friday. */
export const STANDARD_OFFICE_HOURS: readonly WorkingHoursRule[] = deepFreeze([
  { days: [1, 2, 3, 4, 5], from: '09:00', to: '12:00' },
  { days: [1, 2, 3, 4, 5], from: '13:30', to: '18:00' },
]);

export interface ChinaWorkweekOptions {
  /** Years whose holidays to include; each must be shipped (see CN_HOLIDAY_YEARS), else this throws. */
  years: readonly number[];
  /** Default STANDARD_OFFICE_HOURS. */
  hours?: readonly WorkingHoursRule[];
  timezone?: string;
  makeupHours?: IsoWeekday;
  name?: string;
}

/**
 * A calendar config with the official holidays and 调休 days of the given years written out
 * explicitly (rather than `holidaysPreset: "cn"`), e.g. to print into a config file or to pin a
 * calendar to exactly the years named.
 */
export function chinaWorkweekCalendar(options: ChinaWorkweekOptions): CalendarConfig {
  const schedules = [...new Set(options.years)].sort((a, b) => a - b).map(cnHolidaySchedule);
  const config: CalendarConfig = {
    workingHours: (options.hours ?? STANDARD_OFFICE_HOURS).map((rule) => ({ ...rule, days: [...rule.days] })),
    holidays: schedules.flatMap((s) => s.holidays.map(({ name, from, to }) => ({ from, to, name }))),
    makeupWorkdays: schedules.flatMap((s) => s.makeupWorkdays.map((m) => m.date)),
    makeupHours: options.makeupHours ?? 1,
  };
  if (options.name !== undefined) config.name = options.name;
  if (options.timezone !== undefined) config.timezone = options.timezone;
  return config;
}
