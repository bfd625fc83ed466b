/**
 * Calendar dates and wall-clock times without a timezone: a date is a day number (days since
 * 1970-01-01 in the proleptic Gregorian calendar), a time of day is minutes since midnight. Keeping
 * them as plain integers makes "the next day" `+ 1` and leaves all timezone work to one place
 * (`business-calendar.ts`).
 */

export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/** ISO weekday: 1 = Monday … 7 = Sunday (the numbering used in the config's `days`). */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** `YYYY-MM-DD` of a real calendar day (the schema pattern lets 2026-02-30 through; this does not). */
export function parseIsoDate(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 02-30 over into March; a round trip that changes the fields means no such day.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    return null;
  }
  return ms / DAY_MS;
}

export function formatIsoDate(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** 1970-01-01 was a Thursday (ISO 4). */
export function isoWeekday(dayNumber: number): IsoWeekday {
  return (((((dayNumber + 3) % 7) + 7) % 7) + 1) as IsoWeekday;
}

/** `HH:MM` → minutes since midnight; `24:00` (end of day) is 1440. */
export function parseClockTime(text: string): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (hours === 24 && minutes === 0) return 1440;
  if (hours > 23 || minutes > 59) return null;
  return hours * 60 + minutes;
}

export function formatClockTime(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export const WEEKDAY_NAMES: Record<IsoWeekday, string> = {
  1: '周一',
  2: '周二',
  3: '周三',
  4: '周四',
  5: '周五',
  6: '周六',
  7: '周日',
};
