/**
 * Durations in the org config are written like `30s`, `5m`, `2h`, `1d`, `2w` (and may be combined:
 * `1h30m`). Parsing is strict: an unknown unit or an empty string is an error, never zero.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export const DURATION_PATTERN = '^(\\d+(ms|s|m|h|d|w))+$';
/**
 * Longest duration accepted: 100 years. Anything longer is a typo, and past about 270,000 years
 * `now + duration` is no longer a valid Date (a timer with an invalid due time cannot be stored).
 */
export const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d!;
const PART = /(\d+)(ms|s|m|h|d|w)/g;

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!new RegExp(DURATION_PATTERN).test(trimmed)) {
    throw new Error(`无效的时长 "${text}"，应写作 30s、5m、2h、1d 这样的格式`);
  }
  let total = 0;
  for (const match of trimmed.matchAll(PART)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  if (!(total <= MAX_DURATION_MS)) throw new Error(`时长 "${text}" 过长：最多 100 年（36500d）`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.d! === 0) return `${ms / UNIT_MS.d!}d`;
  if (ms % UNIT_MS.h! === 0) return `${ms / UNIT_MS.h!}h`;
  if (ms % UNIT_MS.m! === 0) return `${ms / UNIT_MS.m!}m`;
  if (ms % UNIT_MS.s! === 0) return `${ms / UNIT_MS.s!}s`;
  return `${ms}ms`;
}
