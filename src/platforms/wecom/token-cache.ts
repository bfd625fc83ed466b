/**
 * One cached WeCom access token per app (gettoken, developer.work.weixin.qq.com/document/path/91039).
 *
 * 91039: the token lives `expires_in` seconds (7200), WeCom may invalidate it earlier, and calling
 * gettoken too often gets the app blocked. So: one token, refreshed `refreshMarginSeconds` before it
 * expires, exactly one refresh in flight (concurrent callers share its promise), and `invalidate` drops
 * the token only if it is still the current one, so that several requests failing with 40014/42001 on
 * the same token cause one refresh, not one each.
 *
 * Time comes only from the injected clock. Nothing here knows HTTP: `fetchToken` does the call.
 */
import type { Clock } from '../../lib/clock';

export interface FetchedToken {
  token: string;
  expiresInSeconds: number;
}

export interface TokenCacheOptions {
  fetchToken: () => Promise<FetchedToken>;
  clock: Clock;
  /** Refresh this long before expiry (default 300 s). */
  refreshMarginSeconds?: number;
}

export interface TokenCache {
  /** The current token, fetching a new one when there is none or it is due for refresh. */
  get(): Promise<string>;
  /** The platform refused `token` (40014/42001): forget it, unless a newer one already replaced it. */
  invalidate(token: string): void;
}

interface Cached {
  token: string;
  /** From here on `get` refreshes. */
  refreshAtMs: number;
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const { fetchToken, clock } = options;
  const marginMs = (options.refreshMarginSeconds ?? 300) * 1000;
  if (!Number.isFinite(marginMs) || marginMs < 0) {
    throw new RangeError(
      `refreshMarginSeconds must be a non-negative number; got ${options.refreshMarginSeconds}`,
    );
  }
  let current: Cached | undefined;
  let inflight: Promise<string> | undefined;

  async function refresh(): Promise<string> {
    const fetchedAtMs = clock.now().getTime();
    const fetched = await fetchToken();
    if (typeof fetched.token !== 'string' || fetched.token.length === 0) {
      throw new Error('gettoken 返回的 access_token 为空');
    }
    const lifetimeMs = fetched.expiresInSeconds * 1000;
    if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
      throw new Error(`gettoken 返回的 expires_in 无效: ${fetched.expiresInSeconds}`);
    }
    // Measured from before the call, so network time only makes us refresh earlier. A lifetime shorter
    // than twice the margin (a test emulator, or WeCom answering a short remaining lifetime) would make
    // every call refresh: keep at least half the lifetime instead.
    const usableMs = Math.max(lifetimeMs - marginMs, lifetimeMs / 2);
    current = { token: fetched.token, refreshAtMs: fetchedAtMs + usableMs };
    return fetched.token;
  }

  return {
    get() {
      if (current && clock.now().getTime() < current.refreshAtMs) return Promise.resolve(current.token);
      if (!inflight) {
        // `Promise.resolve().then` turns a synchronous throw of fetchToken into a rejection.
        const started = Promise.resolve()
          .then(refresh)
          .finally(() => {
            // Only clear our own promise: a later refresh may already have replaced it.
            if (inflight === started) inflight = undefined;
          });
        inflight = started;
      }
      return inflight;
    },
    invalidate(token) {
      if (current?.token === token) current = undefined;
    },
  };
}
