/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random, so retries from many
 * rows spread out instead of hammering a recovering platform in lockstep.
 */
export function backoffDelayMs(
  attempt: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}
