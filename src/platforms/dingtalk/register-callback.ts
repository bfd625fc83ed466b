/**
 * Registers our card callback URL with DingTalk at start (HTTP mode): `POST /v1.0/card/callbacks/
 * register {callbackRouteKey, callbackUrl, apiSecret, forceUpdate: true}`. Idempotent: the same route
 * key, URL and derived secret every time, and `forceUpdate` makes a repeat (a restart, several
 * instances starting at once) simply overwrite the registration with itself. Retried with backoff
 * until it succeeds or fails permanently; the server keeps running meanwhile (messages still flow,
 * only clicks wait for the registration).
 */
import type { DingtalkSettings } from '../../config/env';
import type { Logger } from '../../lib/logger';
import type { DingtalkClient } from './client';
import { cardApiSecret, cardCallbackToken } from './verify-callback';

export function cardCallbackUrl(
  settings: Pick<DingtalkSettings, 'publicUrl' | 'appSecret' | 'callbackRouteKey'>,
) {
  if (!settings.publicUrl) return null;
  const base = settings.publicUrl.replace(/\/+$/, '');
  return `${base}/callbacks/dingtalk/card/${cardCallbackToken(settings.appSecret, settings.callbackRouteKey)}`;
}

export interface CallbackRegistration {
  /** Resolves once registered (true) or given up (false). */
  readonly done: Promise<boolean>;
  stop(): void;
}

export function registerCardCallback(deps: {
  settings: DingtalkSettings;
  client: DingtalkClient;
  logger: Logger;
  retryBaseMs?: number;
}): CallbackRegistration {
  const { settings, client, logger } = deps;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const url = cardCallbackUrl(settings);
  const done = (async () => {
    if (settings.mode !== 'http') return true;
    if (!url) {
      logger.warn(
        'DINGTALK_PUBLIC_URL 未设置：不注册卡片回调地址，卡片按钮的点击不会回调（或改用 DINGTALK_MODE=stream）',
      );
      return false;
    }
    for (let attempt = 1; !stopped; attempt++) {
      const result = await client.registerCardCallback({
        routeKey: settings.callbackRouteKey,
        url,
        apiSecret: cardApiSecret(settings.appSecret, settings.callbackRouteKey),
      });
      if (result.ok) {
        logger.info({ routeKey: settings.callbackRouteKey }, 'dingtalk card callback registered');
        return true;
      }
      if (result.outcome === 'permanent') {
        logger.error({ code: result.code }, `钉钉卡片回调地址注册失败：${result.message}`);
        return false;
      }
      const wait = Math.min(60_000, (deps.retryBaseMs ?? 1000) * 2 ** Math.min(attempt - 1, 6));
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, wait);
        timer.unref();
      });
    }
    return false;
  })();
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  };
}
