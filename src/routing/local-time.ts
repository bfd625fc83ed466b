import { dateTimeFormat } from '../lib/date-formats';

/**
 * Wall-clock time in a team's IANA timezone, from Intl alone (no tz library). Daily caps count from
 * local midnight, and `away --until 2026-11-25` means midnight in the org's timezone, not UTC.
 */

export interface LocalDateTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading of `at` in `timeZone`. */
export function toLocal(timeZone: string, at: Date): LocalDateTime {
  const parts = dateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** How far `timeZone` is ahead of UTC at `at`, in milliseconds (+8 h for Asia/Shanghai). */
function offsetAt(timeZone: string, at: number): number {
  const l = toLocal(timeZone, new Date(at));
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The instant a wall-clock time in `timeZone` names. Around a DST change the offset is taken twice:
 * once at the naive guess and once at the corrected instant (China has no DST; other zones may).
 */
export function fromLocal(timeZone: string, local: LocalDateTime, ms = 0): Date {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, ms);
  const first = naive - offsetAt(timeZone, naive);
  const second = naive - offsetAt(timeZone, first);
  return new Date(second);
}

/** Local midnight of the day `at` falls on, in `timeZone`. */
export function startOfLocalDay(timeZone: string, at: Date): Date {
  const l = toLocal(timeZone, at);
  return fromLocal(timeZone, { year: l.year, month: l.month, day: l.day, hour: 0, minute: 0, second: 0 });
}
