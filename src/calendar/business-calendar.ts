import type { CalendarConfig } from '../config/sections/calendars';
import { DAY_MS, type IsoWeekday, isoWeekday, MINUTE_MS, parseClockTime, parseIsoDate } from './civil-date';
import { CN_HOLIDAY_SCHEDULES } from './cn-holidays';

/**
 * SLA clocks. A `wall` clock counts every millisecond; a `business` clock counts only the working
 * hours of a team calendar: weekly hours (with the lunch break), minus holidays, plus make-up working
 * days (调休). Both have the same interface, so SLA code asks `clockFor(policy.clock, calendar)` once
 * and never branches on the mode again.
 *
 * Timezones come from Intl (the IANA database bundled with Node), not a library: the calendar's
 * hours and dates are local to its timezone, and every wall time is turned into an instant with the
 * offset in force then, so a zone with daylight saving time is counted right too (a DST gap inside
 * working hours shortens that day, a repeated hour lengthens it).
 *
 * Arithmetic walks working intervals, one local day at a time, never minute by minute: adding three
 * business days across the Spring Festival touches about fifteen days.
 */
export interface BusinessCalendar {
  readonly mode: ClockMode;
  /** True when `at` lies in a working interval (start inclusive, end exclusive). */
  isWorkingTime(at: Date): boolean;
  /** `at` itself when it is working time, else the start of the next working interval. */
  nextWorkingTime(at: Date): Date;
  /**
   * The instant by which `ms` of working time has passed since `start`. A deadline that uses up a
   * working interval exactly falls on its end (12:00, not 13:30); `ms` 0 returns `start` as is. A
   * negative `ms` counts backwards (a warning "2 business hours before" a deadline).
   */
  addBusinessTime(start: Date, ms: number): Date;
  /** Working time in [a, b), in ms; negative when b is before a. */
  businessTimeBetween(a: Date, b: Date): number;
}

export type ClockMode = 'wall' | 'business';

/** A run of this many days without any working time means the calendar has none (all holidays). */
const MAX_IDLE_DAYS = 3660;

/** Everything is working time: SLAs that run in wall time. */
export const wallClock: BusinessCalendar = Object.freeze({
  mode: 'wall' as const,
  isWorkingTime: () => true,
  nextWorkingTime: (at: Date) => new Date(at.getTime()),
  addBusinessTime: (start: Date, ms: number) => new Date(start.getTime() + ms),
  businessTimeBetween: (a: Date, b: Date) => b.getTime() - a.getTime(),
});

/** The clock an SLA policy asks for. A business clock without a calendar is a configuration bug. */
export function clockFor(mode: ClockMode, calendar?: BusinessCalendar): BusinessCalendar {
  if (mode === 'wall') return wallClock;
  if (!calendar) throw new Error('按工作时间计时的 SLA 需要团队日历 (team.calendar)，但没有提供 [calendar]');
  return calendar;
}

type Range = readonly [from: number, to: number];

/**
 * @param timezone used when the calendar sets none: the timezone of the team using it (which
 *   defaults to the org's). The calendar's own `timezone` wins.
 * @throws Error on a config that `checkCalendars` would reject (bad date, bad time, unknown zone).
 */
export function createBusinessCalendar(config: CalendarConfig, timezone: string): BusinessCalendar {
  const zone = config.timezone ?? timezone;
  const offsetAt = offsetReader(zone);

  const weekly = new Map<IsoWeekday, Range[]>();
  for (const rule of config.workingHours) {
    const range: Range = [clock(rule.from), clock(rule.to)];
    if (range[0] >= range[1]) throw new Error(`工作时间 ${rule.from}–${rule.to} 结束不晚于开始`);
    for (const day of rule.days) weekly.set(day, [...(weekly.get(day) ?? []), range]);
  }
  for (const [day, ranges] of weekly) weekly.set(day, merge(ranges));
  if (weekly.size === 0) throw new Error('日历没有任何工作时间');
  const makeupRanges = weekly.get(config.makeupHours ?? 1) ?? [];

  // Explicit entries override the preset: a company may give a 调休 Saturday off, or work a holiday.
  const holidays = new Set<number>();
  const makeup = new Set<number>();
  const presetHolidays = new Set<number>();
  const presetMakeup = new Set<number>();
  if (config.holidaysPreset === 'cn') {
    for (const schedule of CN_HOLIDAY_SCHEDULES) {
      for (const period of schedule.holidays) addDays(presetHolidays, date(period.from), date(period.to));
      for (const day of schedule.makeupWorkdays) presetMakeup.add(date(day.date));
    }
  }
  for (const item of config.holidays ?? []) {
    if (typeof item === 'string') holidays.add(date(item));
    else addDays(holidays, date(item.from), date(item.to));
  }
  for (const item of config.makeupWorkdays ?? []) makeup.add(date(item));

  const rangesOn = (day: number): readonly Range[] => {
    if (holidays.has(day)) return [];
    if (makeup.has(day)) return makeupRanges;
    if (presetHolidays.has(day)) return [];
    if (presetMakeup.has(day)) return makeupRanges;
    return weekly.get(isoWeekday(day)) ?? [];
  };

  /** The local day (day number in the calendar's zone) an instant falls on. */
  const dayOf = (t: number) => Math.floor((t + offsetAt(t)) / DAY_MS);

  /** The working intervals of one local day as instants (ms since epoch), in order. */
  const intervalsOn = (day: number): Range[] => {
    const ranges = rangesOn(day);
    if (ranges.length === 0) return [];
    const midnight = day * DAY_MS; // local midnight written as if it were UTC
    // Fast path: one offset all day (every day in zones without DST, most days elsewhere).
    const before = offsetAt(midnight - DAY_MS);
    const after = offsetAt(midnight + 2 * DAY_MS);
    const toInstant =
      before === after ? (wall: number) => wall - before : (wall: number) => wallToInstant(wall, offsetAt);
    const out: Range[] = [];
    for (const [from, to] of ranges) {
      const start = toInstant(midnight + from * MINUTE_MS);
      const end = toInstant(midnight + to * MINUTE_MS);
      if (end > start) out.push([start, end]);
    }
    return out;
  };

  const noWorkingTime = () =>
    new Error(`日历在 ${MAX_IDLE_DAYS} 天内没有任何工作时间（节假日覆盖了全部工作日？）`);

  const forward = (t: number, ms: number): number => {
    let remaining = ms;
    for (let day = dayOf(t), idle = 0; idle < MAX_IDLE_DAYS; day++) {
      const intervals = intervalsOn(day);
      idle = intervals.length === 0 ? idle + 1 : 0;
      for (const [start, end] of intervals) {
        if (end <= t) continue;
        const from = Math.max(start, t);
        if (remaining <= end - from) return from + remaining;
        remaining -= end - from;
      }
    }
    throw noWorkingTime();
  };

  const backward = (t: number, ms: number): number => {
    let remaining = ms;
    for (let day = dayOf(t), idle = 0; idle < MAX_IDLE_DAYS; day--) {
      const intervals = intervalsOn(day);
      idle = intervals.length === 0 ? idle + 1 : 0;
      for (const [start, end] of intervals.reverse()) {
        if (start >= t) continue;
        const to = Math.min(end, t);
        if (remaining <= to - start) return to - remaining;
        remaining -= to - start;
      }
    }
    throw noWorkingTime();
  };

  const between = (a: number, b: number): number => {
    let total = 0;
    const last = dayOf(b);
    for (let day = dayOf(a); day <= last; day++) {
      for (const [start, end] of intervalsOn(day)) {
        const overlap = Math.min(end, b) - Math.max(start, a);
        if (overlap > 0) total += overlap;
      }
    }
    return total;
  };

  return Object.freeze({
    mode: 'business' as const,
    isWorkingTime(at: Date): boolean {
      const t = at.getTime();
      return intervalsOn(dayOf(t)).some(([start, end]) => start <= t && t < end);
    },
    nextWorkingTime(at: Date): Date {
      const t = at.getTime();
      for (let day = dayOf(t), idle = 0; idle < MAX_IDLE_DAYS; day++) {
        const intervals = intervalsOn(day);
        idle = intervals.length === 0 ? idle + 1 : 0;
        for (const [start, end] of intervals) if (t < end) return new Date(Math.max(start, t));
      }
      throw noWorkingTime();
    },
    addBusinessTime(start: Date, ms: number): Date {
      if (!Number.isFinite(ms)) throw new RangeError(`无效的时长 ${ms}`);
      const t = start.getTime();
      if (ms === 0) return new Date(t);
      return new Date(ms > 0 ? forward(t, ms) : backward(t, -ms));
    },
    businessTimeBetween(a: Date, b: Date): number {
      const [x, y] = [a.getTime(), b.getTime()];
      return y >= x ? between(x, y) : -between(y, x);
    },
  });
}

// ---------------------------------------------------------------------------------------------

function clock(text: string): number {
  const minutes = parseClockTime(text);
  if (minutes === null) throw new Error(`无效的时间 "${text}"，应写作 HH:MM`);
  return minutes;
}

function date(text: string): number {
  const day = parseIsoDate(text);
  if (day === null) throw new Error(`无效的日期 "${text}"，应写作 YYYY-MM-DD`);
  return day;
}

function addDays(into: Set<number>, from: number, to: number): void {
  for (let day = from; day <= to; day++) into.add(day);
}

/** Sorted, with overlapping or touching ranges joined (checkCalendars rejects overlaps in files). */
function merge(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/**
 * `offsetAt(t)`: the zone's UTC offset (ms, east positive) at instant t, read from Intl. One
 * formatter per calendar: building one costs far more than formatting with it.
 */
function offsetReader(zone: string): (t: number) => number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(`无效的时区 "${zone}"：应为 IANA 时区名，如 Asia/Shanghai`);
  }
  return (t) => {
    const f: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
    for (const part of format.formatToParts(t)) f[part.type] = Number(part.value);
    // `% 24`: some ICU versions print midnight as 24 even with h23.
    const asUtc = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour! % 24, f.minute!, f.second!);
    return asUtc - Math.floor(t / 1000) * 1000;
  };
}

/**
 * The instant a local wall time (written as if it were UTC) happens, with the offsets in force a day
 * either side. A repeated wall time (autumn fall-back) resolves to its first occurrence; a skipped
 * one (spring-forward gap) moves forward by the gap, as clocks do (02:30 → 03:30), which is what
 * Temporal calls the "compatible" disambiguation.
 */
function wallToInstant(wall: number, offsetAt: (t: number) => number): number {
  const before = offsetAt(wall - DAY_MS);
  const after = offsetAt(wall + DAY_MS);
  const early = wall - before;
  if (before === after) return early;
  const late = wall - after;
  const earlyValid = offsetAt(early) === before;
  const lateValid = offsetAt(late) === after;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (lateValid) return late;
  return early;
}
