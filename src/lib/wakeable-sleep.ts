/**
 * A sleep that another part of the same worker can cut short (a notify, a freed slot, stop). Both
 * background workers (outbox, timers) idle on one of these.
 */
export interface WakeableSleep {
  /** Resolves true when woken early, false when the time ran out. */
  sleep(ms: number): Promise<boolean>;
  /** Ends the current sleep, if any. */
  wake(): void;
}

export function createWakeableSleep(): WakeableSleep {
  let current: ((early: boolean) => void) | undefined;
  return {
    sleep: (ms) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), ms);
        function done(early: boolean) {
          clearTimeout(timer);
          current = undefined;
          resolve(early);
        }
        current = done;
      }),
    wake: () => current?.(true),
  };
}
