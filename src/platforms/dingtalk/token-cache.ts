/**
 * The DingTalk v1.0 access token (`POST /v1.0/oauth2/accessToken {appKey, appSecret}` →
 * `{accessToken, expireIn: 7200}`, sent as header `x-acs-dingtalk-access-token`) is cached exactly like
 * WeCom's: one per app, refreshed a margin before expiry, a single refresh in flight shared by every
 * caller, and dropped (only if still current) when DingTalk refuses it. The cache is platform-neutral
 * (it only knows `fetchToken` and the clock), so it is the same module.
 */
export {
  createTokenCache,
  type FetchedToken,
  type TokenCache,
  type TokenCacheOptions,
} from '../wecom/token-cache';
