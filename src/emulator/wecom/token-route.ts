/**
 * `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET` (path 91039) and the token check every other
 * API makes (41001 missing, 40014 unknown, 42001 expired).
 */
import type { Context } from 'koa';
import { ERR } from './errcodes';
import { answer, answerError, type RouteDeps } from './http-util';
import type { WecomEmulatorState } from './state';

export function handleGettoken(ctx: Context, { state, settings }: RouteDeps): void {
  // Counted before validation: every call counts toward WeCom's gettoken frequency limit.
  state.counters.gettoken_calls += 1;
  const corpid = typeof ctx.query.corpid === 'string' ? ctx.query.corpid : '';
  const secret = typeof ctx.query.corpsecret === 'string' ? ctx.query.corpsecret : '';
  const refusal = !corpid
    ? ERR.missingCorpId
    : !secret
      ? ERR.missingSecret
      : corpid !== settings.corpId
        ? ERR.invalidCorpId
        : secret !== settings.corpSecret
          ? ERR.invalidSecret
          : undefined;
  if (refusal !== undefined) {
    answerError(ctx, refusal);
    return;
  }
  const { token, expiresIn } = state.issueToken();
  settings.logger.debug({ expiresIn }, 'wecom emulator: access token issued');
  answer(ctx, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: expiresIn });
}

/** Checks `?access_token=`; answers 41001/40014/42001 and returns false when it is not usable. */
export function requireToken(ctx: Context, state: WecomEmulatorState): boolean {
  const token = typeof ctx.query.access_token === 'string' ? ctx.query.access_token : undefined;
  const code = state.checkToken(token);
  if (code === ERR.ok) return true;
  answerError(ctx, code);
  return false;
}
