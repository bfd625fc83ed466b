import fc from 'fast-check';
import { MEMBER_LIMITS, SEND_LATENESS_MARGIN_SECONDS } from '../../../src/platforms/wecom/adapter';

/**
 * Found by `npm run test:chaos`: with a slow WeCom, sends claimed a minute apart reached WeCom within
 * one of its minutes and the 31st was dropped without a word (90454). Claims paced over 60 s + the
 * lateness margin, each processed at most the margin after its claim, never give WeCom more than 30
 * in any minute of its own.
 */
describe('WeCom member pacing with late sends', () => {
  const [minute] = MEMBER_LIMITS;

  /** Claims as the outbox grants them: one whenever the window has room, at the requested times. */
  function grant(requests: number[]): number[] {
    const granted: number[] = [];
    for (const at of [...requests].sort((a, b) => a - b)) {
      const inWindow = granted.filter((t) => t > at - minute!.perSeconds * 1000).length;
      if (inWindow < minute!.max) granted.push(at);
    }
    return granted;
  }

  /** The most sends WeCom processed within any 60 s of its own (its sliding window). */
  function busiestMinute(processed: number[]): number {
    const sorted = [...processed].sort((a, b) => a - b);
    let best = 0;
    for (let i = 0, j = 0; j < sorted.length; j++) {
      while (sorted[j]! - sorted[i]! >= 60_000) i++;
      best = Math.max(best, j - i + 1);
    }
    return best;
  }

  it('keeps every WeCom minute at 30 or fewer whatever the lateness up to the margin', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: SEND_LATENESS_MARGIN_SECONDS * 1000 }), {
          minLength: 200,
          maxLength: 200,
        }),
        (requests, lateness) => {
          const processed = grant(requests).map((t, i) => t + lateness[i]!);
          expect(busiestMinute(processed)).toBeLessThanOrEqual(30);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a plain 60 s window is not enough (the case the chaos run hit)', () => {
    // 30 sends at t = 0 … 29 s; the first one processed 2.6 s late; one more claimed at 60.1 s.
    const processed = [2600, ...Array.from({ length: 29 }, (_, i) => (i + 1) * 1000), 60_100];
    expect(busiestMinute(processed)).toBe(31);
    expect(minute!.perSeconds).toBe(60 + SEND_LATENESS_MARGIN_SECONDS);
  });
});
