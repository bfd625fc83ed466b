import { DAY_MS, parseIsoDate } from '../calendar/civil-date';
import { fromLocal, toLocal } from '../routing/local-time';
import type { ReportPeriod } from './figures-types';

/** The UTC instant of local midnight at the start of a day number (days since 1970-01-01). */
export function localMidnight(timeZone: string, dayNumber: number): Date {
  const d = new Date(dayNumber * DAY_MS);
  return fromLocal(timeZone, {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: 0,
    minute: 0,
    second: 0,
  });
}

/**
 * The period from local date `from` to local date `to`, both inclusive (`YYYY-MM-DD`), as
 * `[midnight of from, midnight of the day after to)` in `timeZone`. Null for a date that is not a
 * real calendar day; the caller checks the order.
 */
export function periodOfLocalDates(timeZone: string, from: string, to: string): ReportPeriod | null {
  const first = parseIsoDate(from);
  const last = parseIsoDate(to);
  if (first === null || last === null) return null;
  return { from: localMidnight(timeZone, first), to: localMidnight(timeZone, last + 1), timeZone };
}

/** The local dates a period covers, for presenting it back: `{ from, to }`, both inclusive. */
export function localDatesOf(period: ReportPeriod): { from: string; to: string } {
  const day = (at: Date) => {
    const l = toLocal(period.timeZone, at);
    return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
  };
  return { from: day(period.from), to: day(new Date(period.to.getTime() - 1)) };
}
