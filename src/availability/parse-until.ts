import { DURATION_PATTERN, parseDuration } from '../lib/duration';
import { fromLocal, type LocalDateTime, toLocal } from '../routing/local-time';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * "Away until": a duration from now (`3d`, `4h`, `1w`), an ISO time with an offset
 * (`2026-11-25T09:00:00+08:00`), or a local date or time in the org's timezone (`2026-11-25` is that
 * day's midnight, i.e. back on the morning of the 25th; `2026-11-25 13:30`). Returns null when the
 * text is none of these; the caller says what was expected.
 */
export function parseUntil(text: string, now: Date, timeZone: string): Date | null {
  const s = text.trim();
  if (new RegExp(DURATION_PATTERN).test(s)) {
    // `99999999999d` matches the pattern but is no time anyone comes back: null, not an invalid Date.
    try {
      return new Date(now.getTime() + parseDuration(s));
    } catch {
      return null;
    }
  }
  if (WITH_OFFSET.test(s)) {
    const at = new Date(s);
    return Number.isNaN(at.getTime()) ? null : at;
  }
  const m = LOCAL.exec(s);
  if (!m) return null;
  const local: LocalDateTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  const at = fromLocal(timeZone, local);
  // 2026-02-30 would roll over to March; reading the instant back catches it.
  const back = toLocal(timeZone, at);
  const same = (Object.keys(local) as (keyof LocalDateTime)[]).every((k) => back[k] === local[k]);
  return same ? at : null;
}

export const UNTIL_HINT =
  '应为时长（如 3d、4h）、带时区的 ISO 时间（如 2026-11-25T09:00:00+08:00）或本地日期（如 2026-11-25）';
