import { createManualClock } from '../../../src/lib/clock';
import { createTokenCache, type FetchedToken } from '../../../src/platforms/wecom/token-cache';

/** A fetchToken whose calls the test settles by hand, in order. */
function controllableFetch() {
  const pending: { resolve: (t: FetchedToken) => void; reject: (e: Error) => void }[] = [];
  let calls = 0;
  const fetchToken = (): Promise<FetchedToken> => {
    calls += 1;
    return new Promise<FetchedToken>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  };
  return {
    fetchToken,
    calls: () => calls,
    resolveNext(token: string, expiresInSeconds = 7200) {
      const next = pending.shift();
      if (!next) throw new Error('no fetch pending');
      next.resolve({ token, expiresInSeconds });
    },
    rejectNext(error = new Error('gettoken failed')) {
      const next = pending.shift();
      if (!next) throw new Error('no fetch pending');
      next.reject(error);
    },
  };
}

/** Lets promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('createTokenCache', () => {
  it('fetches once and shares the one in-flight refresh between concurrent callers', async () => {
    const clock = createManualClock();
    const fake = controllableFetch();
    const cache = createTokenCache({ fetchToken: fake.fetchToken, clock });
    const waiting = Array.from({ length: 20 }, () => cache.get());
    await flush();
    expect(fake.calls()).toBe(1);
    fake.resolveNext('t1');
    expect(await Promise.all(waiting)).toEqual(Array(20).fill('t1'));
    expect(await cache.get()).toBe('t1');
    expect(fake.calls()).toBe(1);
  });

  it('refreshes refreshMarginSeconds before expiry, not earlier', async () => {
    const clock = createManualClock();
    const fake = controllableFetch();
    const cache = createTokenCache({ fetchToken: fake.fetchToken, clock, refreshMarginSeconds: 300 });
    const first = cache.get();
    await flush();
    fake.resolveNext('t1', 7200);
    await first;
    clock.advance((7200 - 300) * 1000 - 1);
    expect(await cache.get()).toBe('t1');
    expect(fake.calls()).toBe(1);
    clock.advance(1);
    const second = cache.get();
    await flush();
    expect(fake.calls()).toBe(2);
    fake.resolveNext('t2', 7200);
    expect(await second).toBe('t2');
  });

  it('keeps at least half the lifetime when the lifetime is shorter than twice the margin', async () => {
    const clock = createManualClock();
    const fake = controllableFetch();
    const cache = createTokenCache({ fetchToken: fake.fetchToken, clock, refreshMarginSeconds: 300 });
    const first = cache.get();
    await flush();
    fake.resolveNext('short', 400);
    await first;
    clock.advance(199_000);
    expect(await cache.get()).toBe('short');
    clock.advance(1_000);
    void cache.get();
    await flush();
    expect(fake.calls()).toBe(2);
  });

  it('invalidate drops only the current token: two callers rejecting the same token cause one refresh', async () => {
    const clock = createManualClock();
    const fake = controllableFetch();
    const cache = createTokenCache({ fetchToken: fake.fetchToken, clock });
    const first = cache.get();
    await flush();
    fake.resolveNext('old');
    const [a, b] = await Promise.all([first, cache.get()]);
    expect([a, b]).toEqual(['old', 'old']);

    // Caller A sees 42001 and refreshes.
    cache.invalidate('old');
    const refreshedA = cache.get();
    await flush();
    // Caller B saw 42001 on the same token a moment later: must not drop anything.
    cache.invalidate('old');
    const refreshedB = cache.get();
    await flush();
    expect(fake.calls()).toBe(2);
    fake.resolveNext('new');
    expect(await refreshedA).toBe('new');
    expect(await refreshedB).toBe('new');
    // A late invalidate of the old token after the refresh finished is a no-op too.
    cache.invalidate('old');
    expect(await cache.get()).toBe('new');
    expect(fake.calls()).toBe(2);
  });

  it('rejects every waiting caller when the refresh fails, and the next call tries again', async () => {
    const clock = createManualClock();
    const fake = controllableFetch();
    const cache = createTokenCache({ fetchToken: fake.fetchToken, clock });
    const waiting = [cache.get(), cache.get(), cache.get()];
    await flush();
    fake.rejectNext(new Error('errcode -1'));
    for (const w of waiting) await expect(w).rejects.toThrow('errcode -1');
    expect(fake.calls()).toBe(1);

    const again = cache.get();
    await flush();
    expect(fake.calls()).toBe(2);
    fake.resolveNext('t2');
    expect(await again).toBe('t2');
  });

  it('turns a synchronous throw and a malformed answer into rejections', async () => {
    const clock = createManualClock();
    const throwing = createTokenCache({
      fetchToken: () => {
        throw new Error('boom');
      },
      clock,
    });
    await expect(throwing.get()).rejects.toThrow('boom');

    const empty = createTokenCache({
      fetchToken: async () => ({ token: '', expiresInSeconds: 7200 }),
      clock,
    });
    await expect(empty.get()).rejects.toThrow('access_token');
    const noExpiry = createTokenCache({
      fetchToken: async () => ({ token: 't', expiresInSeconds: 0 }),
      clock,
    });
    await expect(noExpiry.get()).rejects.toThrow('expires_in');
  });

  it('measures the lifetime from before the fetch, so a slow gettoken only refreshes earlier', async () => {
    const clock = createManualClock();
    const fake = controllableFetch();
    const cache = createTokenCache({ fetchToken: fake.fetchToken, clock, refreshMarginSeconds: 300 });
    const first = cache.get();
    await flush();
    clock.advance(10_000); // the gettoken call took 10 s
    fake.resolveNext('t1', 7200);
    await first;
    clock.advance((7200 - 300 - 10) * 1000);
    void cache.get();
    await flush();
    expect(fake.calls()).toBe(2);
  });
});
