import {
  formatClockTime,
  type IsoWeekday,
  isoWeekday,
  parseClockTime,
  parseIsoDate,
  WEEKDAY_NAMES,
} from '../../calendar/civil-date';
import { escapePointer, type Problem, suggest } from '../org-config-messages';
import schema from './calendars.schema.json';

/**
 * The `calendars` section: business calendars by id, each a week of working hours plus holidays and
 * make-up working days (调休), referenced from a team's `calendar`. The schema
 * (calendars.schema.json) checks the shapes; `checkCalendars` checks what a schema cannot: real
 * dates, ranges that end before they start, overlapping hours, a day that is both off and worked,
 * timezones, and team references. The arithmetic lives in src/calendar/business-calendar.ts.
 */

export interface WorkingHoursRule {
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: IsoWeekday[];
  /** `HH:MM`, inclusive. */
  from: string;
  /** `HH:MM`, exclusive; `24:00` for midnight. Never before `from`: a night shift is two rules. */
  to: string;
}

export interface HolidayRange {
  /** First day off, `YYYY-MM-DD`. */
  from: string;
  /** Last day off (inclusive). */
  to: string;
  name?: string;
}

export interface CalendarConfig {
  name?: string;
  /** IANA timezone the hours and dates are read in. Default: the timezone of the team using it. */
  timezone?: string;
  workingHours: WorkingHoursRule[];
  /** `cn`: add the shipped mainland China holidays and 调休 days (src/calendar/cn-holidays.ts). */
  holidaysPreset?: 'cn';
  /**
   * Days off, single dates or inclusive ranges. The schema fills `[]` when loaded from the file;
   * optional here so calendars built in code need not spell it out. Overrides the preset.
   */
  holidays?: (string | HolidayRange)[];
  /** 调休: days normally off that are worked. Overrides the preset. */
  makeupWorkdays?: string[];
  /**
   * Whose hours a make-up day works: an ISO weekday, default 1 (Monday). The State Council notices
   * just say "上班", i.e. an ordinary working day, so a weekday's hours are the natural reading; a
   * company with shorter Monday hours can point it at another weekday.
   */
  makeupHours?: IsoWeekday;
}

export type CalendarsConfig = Record<string, CalendarConfig>;

/** Longest holiday range accepted: a typo like 2026 → 2062 must not expand into decades of days. */
export const MAX_HOLIDAY_RANGE_DAYS = 366;

const { date, workingHours } = schema.definitions;
/**
 * Plain-words hints for this section's patterns, in the shape of `PATTERN_HINTS` in
 * org-config-messages.ts (which owns the ajv messages): spread into it so a bad `"9:00"` reads as
 * "not a time" instead of quoting the regular expression.
 */
export const CALENDAR_PATTERN_HINTS: Record<string, string> = {
  [date.pattern]: '不是合法的日期：应写作 YYYY-MM-DD，如 2026-10-01',
  [workingHours.properties.from.pattern]: '不是合法的时间：应写作 24 小时制 HH:MM，如 09:00',
  [workingHours.properties.to.pattern]: '不是合法的时间：应写作 24 小时制 HH:MM，如 18:00，午夜写 24:00',
};

type Loose = Record<string, unknown>;
const isRecord = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): [number, unknown][] => (Array.isArray(v) ? [...v.entries()] : []);
const isWeekday = (v: unknown): v is IsoWeekday =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 7;

/** Intl knows the IANA database; ajv does not. The canonical spelling, or null if unknown. */
function resolveTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * Cross-reference checks of the `calendars` section and of `teams[].calendar`. Like the core checks
 * they run even when the schema failed, so they read the data defensively; like them they
 * canonicalise a timezone's letter case in place (the config is frozen only afterwards).
 */
export function checkCalendars(config: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const calendars = isRecord(config.calendars) ? config.calendars : {};
  for (const [id, calendar] of Object.entries(calendars)) {
    if (isRecord(calendar)) checkCalendar(calendar, `/calendars/${escapePointer(id)}`, problems);
  }

  const ids = Object.keys(calendars);
  for (const [i, team] of entries(config.teams)) {
    if (!isRecord(team) || typeof team.calendar !== 'string') continue;
    // hasOwn, not `in`: a team naming "constructor" must not find Object.prototype's.
    if (Object.hasOwn(calendars, team.calendar)) continue;
    const hint = suggest(team.calendar, ids);
    problems.push({
      path: `/teams/${i}/calendar`,
      message:
        `日历 "${team.calendar}" 不存在${hint ? `（是否想写 "${hint}"？）` : ''}，` +
        `请先在 calendars 中定义${ids.length > 0 ? `，已定义：${ids.join(', ')}` : ''} [ref]`,
    });
  }
  return problems;
}

function checkCalendar(calendar: Loose, base: string, problems: Problem[]): void {
  if (typeof calendar.timezone === 'string') {
    const resolved = resolveTimeZone(calendar.timezone);
    if (resolved === null) {
      problems.push({
        path: `${base}/timezone`,
        message: `无效的时区 "${calendar.timezone}"：应为 IANA 时区名，如 Asia/Shanghai [timezone]`,
      });
    } else if (resolved.toLowerCase() === calendar.timezone.toLowerCase()) {
      calendar.timezone = resolved;
    }
  }

  const hours = checkWorkingHours(calendar.workingHours, `${base}/workingHours`, problems);
  const holidays = checkHolidays(calendar.holidays, `${base}/holidays`, problems);
  const makeupHours = calendar.makeupHours ?? 1;
  const makeupDay = isWeekday(makeupHours) ? makeupHours : undefined;

  for (const [i, text] of entries(calendar.makeupWorkdays)) {
    if (typeof text !== 'string') continue;
    const path = `${base}/makeupWorkdays/${i}`;
    const day = parseIsoDate(text);
    if (day === null) {
      problems.push({ path, message: `"${text}" 不是有效日期 [date]` });
      continue;
    }
    const holiday = holidays.get(day);
    const weekday = isoWeekday(day);
    if (holiday !== undefined) {
      problems.push({
        path,
        message: `${text} 同时列在 ${holiday} 中，一天不能既放假又调休上班 [conflict]`,
      });
    } else if (makeupDay !== undefined && hours.has(weekday) && hours.get(weekday) === hours.get(makeupDay)) {
      // Make-up days are normally weekends; one that already works the same hours is almost always a
      // mistyped date, and listing it would silently do nothing. (A Saturday with a short morning
      // made a full day is a real change, so only identical hours count.)
      problems.push({
        path,
        message: `${text} 是${WEEKDAY_NAMES[weekday]}，本来就按同样的工时上班，列为调休上班日不起作用（日期写错了吗？）[makeupWorkday]`,
      });
    }
  }

  const needsMakeupHours =
    calendar.holidaysPreset !== undefined ||
    (Array.isArray(calendar.makeupWorkdays) && calendar.makeupWorkdays.length > 0);
  if (needsMakeupHours && makeupDay !== undefined && hours.size > 0 && !hours.has(makeupDay)) {
    problems.push({
      path: `${base}/makeupHours`,
      message: `${WEEKDAY_NAMES[makeupDay]}没有工作时间，调休上班日按它的工时就等于不上班；请改为有工作时间的一天，如 1（周一）[makeupHours]`,
    });
  }
}

/**
 * Checks from < to and overlaps per weekday. Returns the weekdays that have working hours, each with
 * its ranges written out (`09:00-12:00,13:30-18:00`) so two weekdays' hours compare as strings.
 */
function checkWorkingHours(rules: unknown, base: string, problems: Problem[]): Map<IsoWeekday, string> {
  const valid: { index: number; from: number; to: number; days: IsoWeekday[] }[] = [];
  for (const [i, rule] of entries(rules)) {
    if (!isRecord(rule) || typeof rule.from !== 'string' || typeof rule.to !== 'string') continue;
    const from = parseClockTime(rule.from);
    const to = parseClockTime(rule.to);
    if (from === null || to === null || from === 1440) continue; // the schema pattern reports these
    if (from >= to) {
      problems.push({
        path: `${base}/${i}/to`,
        message: `结束时间 ${rule.to} 必须晚于开始时间 ${rule.from}；一段不能跨过午夜，夜班请拆成两段 [timeRange]`,
      });
      continue;
    }
    const ruleDays = Array.isArray(rule.days) ? rule.days.filter(isWeekday) : [];
    valid.push({ index: i, from, to, days: ruleDays });
  }

  // One problem per overlapping pair, at the later rule (the one to fix), naming the shared days.
  for (const [k, later] of valid.entries()) {
    for (const earlier of valid.slice(0, k)) {
      if (later.from >= earlier.to || earlier.from >= later.to) continue;
      const shared = [...new Set(later.days)].filter((d) => earlier.days.includes(d)).sort();
      if (shared.length === 0) continue;
      problems.push({
        path: `${base}/${later.index}`,
        message:
          `与 workingHours/${earlier.index} 在${shared.map((d) => WEEKDAY_NAMES[d]).join('、')}重叠` +
          `（${formatClockTime(earlier.from)}–${formatClockTime(earlier.to)} 与 ` +
          `${formatClockTime(later.from)}–${formatClockTime(later.to)}）[overlap]`,
      });
    }
  }
  const days = new Map<IsoWeekday, string>();
  for (const day of [1, 2, 3, 4, 5, 6, 7] as const) {
    const ranges = valid
      .filter((rule) => rule.days.includes(day))
      .sort((a, b) => a.from - b.from)
      .map((rule) => `${formatClockTime(rule.from)}-${formatClockTime(rule.to)}`);
    if (ranges.length > 0) days.set(day, ranges.join(','));
  }
  return days;
}

/** Checks dates and ranges; returns each day off with the place it is listed (for conflict messages). */
function checkHolidays(items: unknown, base: string, problems: Problem[]): Map<number, string> {
  const days = new Map<number, string>();
  const label = (i: number) => `holidays/${i}`;
  for (const [i, item] of entries(items)) {
    if (typeof item === 'string') {
      const day = parseIsoDate(item);
      if (day === null) problems.push({ path: `${base}/${i}`, message: `"${item}" 不是有效日期 [date]` });
      else if (!days.has(day)) days.set(day, label(i));
      continue;
    }
    if (!isRecord(item) || typeof item.from !== 'string' || typeof item.to !== 'string') continue;
    const from = parseIsoDate(item.from);
    const to = parseIsoDate(item.to);
    if (from === null)
      problems.push({ path: `${base}/${i}/from`, message: `"${item.from}" 不是有效日期 [date]` });
    if (to === null) problems.push({ path: `${base}/${i}/to`, message: `"${item.to}" 不是有效日期 [date]` });
    if (from === null || to === null) continue;
    if (to < from) {
      problems.push({
        path: `${base}/${i}/to`,
        message: `结束日期 ${item.to} 早于开始日期 ${item.from} [dateRange]`,
      });
    } else if (to - from + 1 > MAX_HOLIDAY_RANGE_DAYS) {
      problems.push({
        path: `${base}/${i}/to`,
        message: `假期 ${item.from} 至 ${item.to} 共 ${to - from + 1} 天，超过上限 ${MAX_HOLIDAY_RANGE_DAYS} 天（年份写错了吗？）[dateRange]`,
      });
    } else {
      for (let day = from; day <= to; day++) if (!days.has(day)) days.set(day, label(i));
    }
  }
  return days;
}
