import { parseChineseNumber } from '../lib/amount';
import { fromLocal, toLocal } from '../routing/local-time';
import type { ParseContext } from './command';
import { foldWidth, restFrom } from './normalise-text';

/**
 * Natural times as salespeople type them (`明天下午3点`, `下周一`, `3天后`, `tomorrow 15:00`), read in
 * the team's timezone. See `parseWhen` for the rules.
 */

interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** A wall-clock time; `hour` may be 24 or more for "after midnight" (`晚上12点`, `今晚1点`). */
interface Clock {
  hour: number;
  minute: number;
}

function addDays(d: CivilDate, days: number): CivilDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 0 = Monday … 6 = Sunday (Chinese weeks start on Monday). */
function weekdayIndex(d: CivilDate): number {
  return (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7;
}

function compareDates(a: CivilDate, b: CivilDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

// ---------------------------------------------------------------------------------------------------
// Numbers

const CN_DIGITS = '[零〇一二两三四五六七八九十]';
/** A count written in digits or Chinese numerals (`3`, `三`, `十五`). */
const COUNT = `(\\d{1,4}(?!\\d)|${CN_DIGITS}{1,5})`;
const AFTER = '(?:以后|之后|后)';

/** `3`, `三`, `十二`, `零` → integer; null for anything else. */
function readCount(s: string): number | null {
  if (/^\d+$/.test(s)) return Number(s);
  if (s === '零' || s === '〇') return 0;
  const n = parseChineseNumber(s);
  return n !== null && Number.isInteger(n) ? n : null;
}

/** Upper bounds for relative phrases: anything larger is a typo, not a plan. */
const MAX_DAYS = 3660;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

function sticky(source: string, flags = ''): RegExp {
  return new RegExp(source, `y${flags}`);
}

function execAt(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

function skipSpaces(s: string, pos: number): number {
  let p = pos;
  while (p < s.length && s[p]!.trim() === '') p++;
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Relative instants: 2小时后, 半小时后, 30分钟后, in 2h, 2 hours, in 30 minutes

const REL_HOURS_CN = sticky(`(?:${COUNT}\\s*个?\\s*(半)?|(半))\\s*个?\\s*(?:小时|钟头)\\s*${AFTER}`);
const REL_MINUTES_CN = sticky(`${COUNT}\\s*分钟?\\s*${AFTER}`);
const REL_EN = sticky('(?:in\\s+)?(\\d{1,5})\\s*(hours?|hrs?|h|minutes?|mins?|m)(?![a-z])', 'i');
const REL_EN_WORDS = sticky('in\\s+(?:(an?\\s+hour)|half\\s+an\\s+hour)(?![a-z])', 'i');

function readRelative(s: string, pos: number): { ms: number; end: number } | null {
  let m = execAt(REL_HOURS_CN, s, pos);
  if (m) {
    const whole = m[1] !== undefined ? readCount(m[1]) : 0;
    if (whole === null) return null;
    const hours = whole + (m[2] !== undefined || m[3] !== undefined ? 0.5 : 0);
    return hours > 0 && hours <= MAX_DAYS * 24 ? { ms: hours * HOUR_MS, end: REL_HOURS_CN.lastIndex } : null;
  }
  m = execAt(REL_MINUTES_CN, s, pos);
  if (m) {
    const minutes = readCount(m[1]!);
    if (minutes === null || minutes < 1 || minutes > MAX_DAYS * 1440) return null;
    return { ms: minutes * MINUTE_MS, end: REL_MINUTES_CN.lastIndex };
  }
  m = execAt(REL_EN, s, pos);
  if (m) {
    const n = Number(m[1]);
    const hours = m[2]!.toLowerCase().startsWith('h');
    const ms = n * (hours ? HOUR_MS : MINUTE_MS);
    return n >= 1 && ms <= MAX_DAYS * 24 * HOUR_MS ? { ms, end: REL_EN.lastIndex } : null;
  }
  m = execAt(REL_EN_WORDS, s, pos);
  if (m) return { ms: m[1] !== undefined ? HOUR_MS : 30 * MINUTE_MS, end: REL_EN_WORDS.lastIndex };
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Days

type Period = 'dawn' | 'morning' | 'noon' | 'afternoon' | 'evening';

type DayRule =
  /** 今天 (0), 明天 (1), 后天 (2), 大后天 (3). */
  | { type: 'offset'; days: number }
  /** N天后: without a time of day, the same local time N days later. */
  | { type: 'after'; days: number }
  | { type: 'date'; date: CivilDate }
  /** 11月25日: this year, or next year when the date has passed. */
  | { type: 'yearless'; month: number; day: number }
  /** 25号: this month, or the next month that has that day once it has passed. */
  | { type: 'monthday'; day: number }
  /** 周三: the first Wednesday, from today on, whose instant is still ahead. */
  | { type: 'coming'; weekday: number }
  /** 本周三 / 下周三: a weekday of this or next Monday-to-Sunday week. */
  | { type: 'week'; weekday: number; weeksAhead: 0 | 1 };

interface DayReading {
  rule: DayRule;
  end: number;
  /** 今晚 / 明早: the part of the day the word names. */
  period?: PeriodWord;
}

interface PeriodWord {
  period: Period;
  /** The hour meant when no hour is given (`明天下午` → 14:00); null when the word needs one (凌晨). */
  defaultHour: number | null;
}

const PERIODS = new Map<string, PeriodWord>([
  ['凌晨', { period: 'dawn', defaultHour: null }],
  ['早上', { period: 'morning', defaultHour: 8 }],
  ['早晨', { period: 'morning', defaultHour: 8 }],
  ['清晨', { period: 'morning', defaultHour: 8 }],
  ['上午', { period: 'morning', defaultHour: 9 }],
  ['中午', { period: 'noon', defaultHour: 12 }],
  ['下午', { period: 'afternoon', defaultHour: 14 }],
  ['傍晚', { period: 'evening', defaultHour: 18 }],
  ['晚上', { period: 'evening', defaultHour: 20 }],
  ['夜里', { period: 'evening', defaultHour: 20 }],
  ['morning', { period: 'morning', defaultHour: 9 }],
  ['afternoon', { period: 'afternoon', defaultHour: 14 }],
  ['evening', { period: 'evening', defaultHour: 19 }],
  ['night', { period: 'evening', defaultHour: 20 }],
]);

const DAY_WORDS = new Map<string, { days: number; period?: string }>([
  ['今天', { days: 0 }],
  ['今日', { days: 0 }],
  ['今早', { days: 0, period: '早上' }],
  ['今晚', { days: 0, period: '晚上' }],
  ['明天', { days: 1 }],
  ['明日', { days: 1 }],
  ['明早', { days: 1, period: '早上' }],
  ['明晚', { days: 1, period: '晚上' }],
  ['后天', { days: 2 }],
  ['大后天', { days: 3 }],
  ['today', { days: 0 }],
  ['tonight', { days: 0, period: 'night' }],
  ['tomorrow', { days: 1 }],
  ['tmrw', { days: 1 }],
  ['tmr', { days: 1 }],
]);

const CN_WEEKDAY: Record<string, number> = {
  一: 0,
  二: 1,
  三: 2,
  四: 3,
  五: 4,
  六: 5,
  日: 6,
  天: 6,
  末: 5,
  '1': 0,
  '2': 1,
  '3': 2,
  '4': 3,
  '5': 4,
  '6': 5,
  '7': 6,
};

const EN_WEEKDAYS: [RegExp, number][] = [
  [/^mon(day)?$/i, 0],
  [/^tue(s|sday)?$/i, 1],
  [/^wed(nesday)?$/i, 2],
  [/^thu(r|rs|rsday)?$/i, 3],
  [/^fri(day)?$/i, 4],
  [/^sat(urday)?$/i, 5],
  [/^sun(day)?$/i, 6],
  [/^weekend$/i, 5],
];

const DAY_WORD_CN = sticky('(大后天|后天|明天|明日|明早|明晚|今天|今日|今早|今晚)');
const DAY_WORD_EN = sticky('(today|tonight|tomorrow|tmrw|tmr)(?![a-z])', 'i');
const AFTER_DAYS_CN = sticky(`${COUNT}\\s*个?\\s*(天|日|周|星期|礼拜)\\s*${AFTER}`);
const AFTER_DAYS_EN = sticky('in\\s+(\\d{1,4})\\s*(days?|weeks?)(?![a-z])', 'i');
const WEEK_CN = sticky('(下个?|这个?|本)?\\s*(?:周|星期|礼拜)\\s*([一二三四五六日天末1-7])?');
const WEEK_EN = sticky(
  '(?:(next|this)\\s+)?(monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|saturday|sat|sunday|sun|weekend|week)(?![a-z])',
  'i',
);
const DATE_FULL = sticky('(\\d{4})\\s*[-/.年]\\s*(\\d{1,2})\\s*[-/.月]\\s*(\\d{1,2})(?!\\d)\\s*[日号]?');
const DATE_CN = sticky(
  `(\\d{1,2}(?!\\d)|${CN_DIGITS}{1,3})\\s*月\\s*(\\d{1,2}(?!\\d)|${CN_DIGITS}{1,3})\\s*[日号]?`,
);
const DATE_DASH = sticky('(\\d{1,2})[-/](\\d{1,2})(?![\\d/:.-])');
const MONTH_DAY = sticky(`(\\d{1,2}(?!\\d)|${CN_DIGITS}{1,3})\\s*[日号](?!\\s*${AFTER})`);

function dayWord(word: string, end: number): DayReading {
  const entry = DAY_WORDS.get(word.toLowerCase())!;
  const reading: DayReading = { rule: { type: 'offset', days: entry.days }, end };
  if (entry.period !== undefined) reading.period = PERIODS.get(entry.period)!;
  return reading;
}

/** English day words only: they may also follow the time (`3pm tomorrow`). */
function readEnglishDay(s: string, pos: number): DayReading | null {
  let m = execAt(DAY_WORD_EN, s, pos);
  if (m) return dayWord(m[1]!, DAY_WORD_EN.lastIndex);
  m = execAt(AFTER_DAYS_EN, s, pos);
  if (m) {
    const days = Number(m[1]) * (m[2]!.toLowerCase().startsWith('w') ? 7 : 1);
    return days >= 1 && days <= MAX_DAYS
      ? { rule: { type: 'after', days }, end: AFTER_DAYS_EN.lastIndex }
      : null;
  }
  m = execAt(WEEK_EN, s, pos);
  if (m) {
    const qualifier = m[1]?.toLowerCase();
    const end = WEEK_EN.lastIndex;
    if (m[2]!.toLowerCase() === 'week') {
      return qualifier === 'next' ? { rule: { type: 'week', weekday: 0, weeksAhead: 1 }, end } : null;
    }
    const weekday = EN_WEEKDAYS.find(([re]) => re.test(m![2]!))![1];
    if (qualifier === 'next') return { rule: { type: 'week', weekday, weeksAhead: 1 }, end };
    if (qualifier === 'this') return { rule: { type: 'week', weekday, weeksAhead: 0 }, end };
    return { rule: { type: 'coming', weekday }, end };
  }
  return null;
}

/** A day phrase at `pos`; 'invalid' when it has a day's shape but names none (`2月30日`). */
function readDay(s: string, pos: number): DayReading | 'invalid' | null {
  let m = execAt(DAY_WORD_CN, s, pos);
  if (m) return dayWord(m[1]!, DAY_WORD_CN.lastIndex);
  m = execAt(AFTER_DAYS_CN, s, pos);
  if (m) {
    const n = readCount(m[1]!);
    const days = n === null ? null : n * (m[2] === '天' || m[2] === '日' ? 1 : 7);
    if (days === null || days < 1 || days > MAX_DAYS) return 'invalid';
    return { rule: { type: 'after', days }, end: AFTER_DAYS_CN.lastIndex };
  }
  m = execAt(WEEK_CN, s, pos);
  if (m && (m[1] !== undefined || m[2] !== undefined)) {
    const next = m[1]?.startsWith('下') ?? false;
    const end = WEEK_CN.lastIndex;
    if (m[2] === undefined) {
      // 下周 alone: next Monday. 这周 / 本周 alone names no day.
      return next ? { rule: { type: 'week', weekday: 0, weeksAhead: 1 }, end } : null;
    }
    const weekday = CN_WEEKDAY[m[2]]!;
    if (m[1] === undefined) return { rule: { type: 'coming', weekday }, end };
    return { rule: { type: 'week', weekday, weeksAhead: next ? 1 : 0 }, end };
  }
  m = execAt(DATE_FULL, s, pos);
  if (m) {
    const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
    if (!isValidDate(date.year, date.month, date.day)) return 'invalid';
    return { rule: { type: 'date', date }, end: DATE_FULL.lastIndex };
  }
  m = execAt(DATE_CN, s, pos) ?? execAt(DATE_DASH, s, pos);
  if (m) {
    const end = m.index + m[0].length;
    const month = readCount(m[1]!);
    const day = readCount(m[2]!);
    // 2000 is a leap year: 2月29日 is checked again against the year it resolves to.
    if (month === null || day === null || !isValidDate(2000, month, day)) return 'invalid';
    return { rule: { type: 'yearless', month, day }, end };
  }
  m = execAt(MONTH_DAY, s, pos);
  if (m) {
    const day = readCount(m[1]!);
    if (day === null || day < 1 || day > 31) return 'invalid';
    return { rule: { type: 'monthday', day }, end: MONTH_DAY.lastIndex };
  }
  return readEnglishDay(s, pos);
}

// ---------------------------------------------------------------------------------------------------
// Times of day

const PERIOD_WORD = sticky(
  '(凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|morning(?![a-z])|afternoon(?![a-z])|evening(?![a-z])|night(?![a-z]))',
  'i',
);
const AT_WORD = sticky('at\\s+', 'i');
const AMPM = '(am|pm|a\\.m\\.|p\\.m\\.)(?![a-z])';
const COLON_TIME = sticky(`(\\d{1,2}):(\\d{2})(?!\\d)(?:\\s*${AMPM})?`, 'i');
const AMPM_TIME = sticky(`(\\d{1,2})(?!\\d)\\s*${AMPM}`, 'i');
// Minutes in Chinese numerals must look like minutes (零五, 十五, 二十, 三十五; 一 only before 分):
// `3点一个客户` is 3:00 and a note, not 3:01.
const CN_MINUTE = '零[一二三四五六七八九]|[二三四五]?十[一二三四五六七八九]?|[一二三四五六七八九](?=分)';
const CN_TIME = sticky(
  `(\\d{1,2}(?!\\d)|${CN_DIGITS}{1,3})\\s*[点點时時](?:钟|鐘)?(?:(半)|(一刻)|(三刻)|(\\d{1,2})(?!\\d)\\s*分?|(${CN_MINUTE})分?)?`,
);
const NOON = sticky('noon(?![a-z])', 'i');

/**
 * 24-hour clock hour (24+ = after midnight) for `hour` said with `period`, or null when the pair makes
 * no sense (`上午15点`). With no marker, 1–6 mean afternoon (nobody books a sales call for 3 a.m.)
 * unless written zero-padded on a 24-hour clock (`03:30`).
 */
function clockHour(hour: number, period: Period | undefined, ampm: string | undefined, padded: boolean) {
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) return null;
    return ampm.toLowerCase().startsWith('a') ? hour % 12 : (hour % 12) + 12;
  }
  switch (period) {
    case undefined:
      if (hour > 23) return null;
      return !padded && hour >= 1 && hour <= 6 ? hour + 12 : hour;
    case 'dawn':
      return hour <= 6 ? hour : hour === 12 ? 0 : null;
    case 'morning':
      return hour <= 12 ? hour : null;
    case 'noon':
      if (hour === 11 || hour === 12 || hour === 13 || hour === 14) return hour;
      return hour >= 1 && hour <= 3 ? hour + 12 : null;
    case 'afternoon':
      if (hour >= 1 && hour <= 11) return hour + 12;
      return hour >= 12 && hour <= 23 ? hour : null;
    case 'evening':
      // 晚上12点 is midnight, 今晚1点 the small hours of the next day.
      if (hour >= 5 && hour <= 11) return hour + 12;
      if (hour === 12) return 24;
      if (hour >= 1 && hour <= 4) return hour + 24;
      return hour >= 17 && hour <= 23 ? hour : null;
  }
}

/** An hour (with minutes) at `p`, as a clock hour; `hour` null when the hour makes no sense. */
function readHour(
  s: string,
  p: number,
  period: Period | undefined,
): { hour: number | null; minute: number; end: number } | null {
  let m = execAt(COLON_TIME, s, p);
  if (m) {
    const padded = m[1]!.length === 2 && m[1]!.startsWith('0');
    return {
      hour: clockHour(Number(m[1]), period, m[3], padded),
      minute: Number(m[2]),
      end: COLON_TIME.lastIndex,
    };
  }
  m = execAt(AMPM_TIME, s, p);
  if (m)
    return { hour: clockHour(Number(m[1]), undefined, m[2], false), minute: 0, end: AMPM_TIME.lastIndex };
  m = execAt(CN_TIME, s, p);
  if (m) {
    const h = readCount(m[1]!);
    const padded = m[1]!.length === 2 && m[1]!.startsWith('0');
    let minute = 0;
    if (m[2] !== undefined) minute = 30;
    else if (m[3] !== undefined) minute = 15;
    else if (m[4] !== undefined) minute = 45;
    else if (m[5] !== undefined) minute = Number(m[5]);
    else if (m[6] !== undefined) minute = readCount(m[6]) ?? -1;
    return {
      hour: h === null ? null : clockHour(h, period, undefined, padded),
      minute,
      end: CN_TIME.lastIndex,
    };
  }
  if (period === undefined && execAt(NOON, s, p)) return { hour: 12, minute: 0, end: NOON.lastIndex };
  return null;
}

/** A time of day at `pos`; 'invalid' when it has a time's shape but names none (`25点`, `上午15点`). */
function readTime(
  s: string,
  pos: number,
  implied?: PeriodWord,
): { clock: Clock; end: number } | 'invalid' | null {
  let p = pos;
  let period = implied;
  const word = execAt(PERIOD_WORD, s, p);
  if (word) {
    period = PERIODS.get(word[1]!.toLowerCase())!;
    p = skipSpaces(s, PERIOD_WORD.lastIndex);
  }
  const wordEnd = PERIOD_WORD.lastIndex;
  const read = readHour(s, p, period?.period);
  if (!read) {
    // A part of the day alone (`明天下午`): its usual hour.
    if (!word) return null;
    if (period!.defaultHour === null) return 'invalid';
    return { clock: { hour: period!.defaultHour, minute: 0 }, end: wordEnd };
  }
  if (read.hour === null || read.minute < 0 || read.minute > 59) return 'invalid';
  return { clock: { hour: read.hour, minute: read.minute }, end: read.end };
}

// ---------------------------------------------------------------------------------------------------
// Putting a day and a time together

/** Date only: 09:00 local, the start of a working day. */
const DEFAULT_HOUR = 9;

export interface WhenReading {
  at: Date;
  /** Index in the text just after the time phrase. */
  end: number;
}

export interface WhenOptions {
  /**
   * A date without a time of day stands for the whole day, and `at` is the start of the next day
   * (`请假 到周五` → back on Saturday morning). Default: 09:00 on that day.
   */
  wholeDays?: boolean;
}

/**
 * The time phrase at the start of `text` (see `parseWhen`), with where it ends. Null when there is
 * none, or when there is one that names no real time (`2月30日`, `明天25点`): a reminder must not
 * fire at a guess.
 */
export function readWhen(text: string, ctx: ParseContext, options: WhenOptions = {}): WhenReading | null {
  const s = foldWidth(text);
  const { now, timeZone } = ctx;
  const start = skipSpaces(s, 0);

  const relative = readRelative(s, start);
  if (relative) return { at: new Date(now.getTime() + relative.ms), end: relative.end };

  let pos = start;
  const dayRead = readDay(s, pos);
  if (dayRead === 'invalid') return null;
  let day = dayRead;
  if (day) pos = day.end;

  let time: { clock: Clock; end: number } | null = null;
  let timePos = skipSpaces(s, pos);
  const at = execAt(AT_WORD, s, timePos);
  if (at) timePos = AT_WORD.lastIndex;
  const timeRead = readTime(s, timePos, day?.period);
  if (timeRead === 'invalid') return null;
  if (timeRead) {
    time = timeRead;
    pos = time.end;
  } else if (day?.period) {
    // 今晚 / 明早 alone.
    if (day.period.defaultHour === null) return null;
    time = { clock: { hour: day.period.defaultHour, minute: 0 }, end: pos };
  }
  if (!day && time) {
    const after = readEnglishDay(s, skipSpaces(s, pos));
    if (after) {
      day = after;
      pos = after.end;
    }
  }
  if (!day && !time) return null;

  const local = toLocal(timeZone, now);
  const today: CivilDate = { year: local.year, month: local.month, day: local.day };
  const instant = (date: CivilDate): Date => {
    if (time) {
      const d = addDays(date, Math.floor(time.clock.hour / 24));
      return fromLocal(timeZone, { ...d, hour: time.clock.hour % 24, minute: time.clock.minute, second: 0 });
    }
    if (options.wholeDays) return fromLocal(timeZone, { ...addDays(date, 1), hour: 0, minute: 0, second: 0 });
    return fromLocal(timeZone, { ...date, hour: DEFAULT_HOUR, minute: 0, second: 0 });
  };
  const result = (date: Date | null): WhenReading | null => (date ? { at: date, end: pos } : null);

  if (!day) {
    // Time only: today, or tomorrow when that time has passed.
    const todayAt = instant(today);
    return result(todayAt.getTime() > now.getTime() ? todayAt : instant(addDays(today, 1)));
  }
  const rule = day.rule;
  switch (rule.type) {
    case 'offset':
      return result(instant(addDays(today, rule.days)));
    case 'after': {
      if (time) return result(instant(addDays(today, rule.days)));
      const d = addDays(today, rule.days);
      return result(
        fromLocal(
          timeZone,
          { ...d, hour: local.hour, minute: local.minute, second: local.second },
          now.getUTCMilliseconds(),
        ),
      );
    }
    case 'date':
      return result(instant(rule.date));
    case 'yearless': {
      let year = today.year;
      if (compareDates({ year, month: rule.month, day: rule.day }, today) < 0) year++;
      return result(
        isValidDate(year, rule.month, rule.day) ? instant({ year, month: rule.month, day: rule.day }) : null,
      );
    }
    case 'monthday': {
      // This month, or the next month that has the day (31号 on 21 November: 31 December).
      let { year, month } = today;
      if (rule.day < today.day) month++;
      for (let tries = 0; tries < 3; tries++, month++) {
        if (month > 12) {
          month = 1;
          year++;
        }
        if (isValidDate(year, month, rule.day)) return result(instant({ year, month, day: rule.day }));
      }
      return null;
    }
    case 'week': {
      const monday = addDays(today, -weekdayIndex(today) + 7 * rule.weeksAhead);
      return result(instant(addDays(monday, rule.weekday)));
    }
    case 'coming': {
      const first = addDays(today, (rule.weekday - weekdayIndex(today) + 7) % 7);
      const at = instant(first);
      return result(at.getTime() > now.getTime() ? at : instant(addDays(first, 7)));
    }
  }
}

/**
 * Reads a natural time phrase at the start of `text` (after trimming) in `ctx.timeZone`, and returns
 * the instant and the rest of the text (trimmed, leading `，：` dropped). Null when the text does not
 * start with a time phrase, or starts with one that names no real time (`2月30日`, `25点`).
 *
 * - Days: 今天/today, 明天/明日/tomorrow, 后天, 大后天, 今晚/明早/明晚/tonight, `N天后`/`N周后`/`in N days`,
 *   `下周一`…`下周日`/`下星期三`/`next monday` (that day of next Monday-to-Sunday week; `下周` alone is next
 *   Monday), `本周三`/`this wednesday`, `周三`/`星期三`/`礼拜三`/`wednesday`/`wed` (the first Wednesday
 *   from today on whose resulting instant is still ahead: today if the time has not passed yet, else a
 *   week later), `周末` (Saturday), `11月25日`/`11月25号`/`11-25`/`11/25` (this year, next year once
 *   passed), `2026-11-25`/`2026年11月25日`, `25号` (this month, or the next month that has that day).
 * - Times: `上午9点`, `下午3点`, `晚上8点`, `中午12点`, `3点半`, `3点一刻`, `3点15分`, `15:30`, `3pm`, `10am`,
 *   `下午三点` (Chinese numerals), `at 3pm`, `noon`; a part of the day alone is its usual hour (早上 8:00,
 *   上午 9:00, 中午 12:00, 下午 14:00, 傍晚 18:00, 晚上 20:00). An hour 1–6 with no marker means the
 *   afternoon (`3点` = 15:00; `凌晨3点`, `3am` and zero-padded `03:00` are early morning); 7–12 and
 *   13–23 are read as written. `晚上12点` is midnight at the end of that day.
 * - Relative: `2小时后`, `半小时后`, `一个半小时后`, `30分钟后`, `in 2h`, `2h`, `in 30 minutes`, `in an hour`.
 * - A date alone is 09:00 that day. A time alone is today at that time, or tomorrow if already past.
 *   `N天后` alone is the same local time N days later.
 */
export function parseWhen(text: string, ctx: ParseContext): { at: Date; rest: string } | null {
  const reading = readWhen(text, ctx);
  return reading ? { at: reading.at, rest: restFrom(text, reading.end) } : null;
}

/** The same local time `days` calendar days after now (DST-safe `3天`). */
export function localDaysFromNow(ctx: ParseContext, days: number): Date {
  const local = toLocal(ctx.timeZone, ctx.now);
  const d = addDays({ year: local.year, month: local.month, day: local.day }, days);
  return fromLocal(
    ctx.timeZone,
    { ...d, hour: local.hour, minute: local.minute, second: local.second },
    ctx.now.getUTCMilliseconds(),
  );
}
