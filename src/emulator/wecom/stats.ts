/**
 * The emulator's counters (`GET /_emulator/api/stats`), so tests can see what WeCom would have done
 * silently: rate-limit drops, suppressed duplicates, gettoken calls, callback attempts.
 */
export interface EmulatorStats {
  /**
   * message/send and webhook/send requests processed and answered with errcode 0 (suppressed
   * duplicates are not counted here).
   */
  sent: number;
  /** Messages that reached a member's chat or a group (one per recipient). */
  delivered: number;
  /** Per-recipient app messages accepted but dropped by the per-member limits (path 90454). */
  dropped_rate_limited: number;
  /** Accepted requests not delivered because of enable_duplicate_check (path 90236). */
  duplicates_suppressed: number;
  gettoken_calls: number;
  /** Callback HTTP attempts made to our server (each retry counts). */
  callbacks_sent: number;
  /** Callback attempts that failed (timeout, network error or non-200). */
  callback_failures: number;
  /** Callbacks whose every attempt failed. */
  callbacks_given_up: number;
  /** webhook/send requests refused with 45009 (path 91770). */
  robot_rate_limited: number;
  cards_updated: number;
}

export function emptyStats(): EmulatorStats {
  return {
    sent: 0,
    delivered: 0,
    dropped_rate_limited: 0,
    duplicates_suppressed: 0,
    gettoken_calls: 0,
    callbacks_sent: 0,
    callback_failures: 0,
    callbacks_given_up: 0,
    robot_rate_limited: 0,
    cards_updated: 0,
  };
}
