/**
 * `POST /cgi-bin/message/update_template_card?access_token=` (path 94888): with a response_code from
 * the send answer or a click callback (usable once, for 72 hours), grey out the buttons with
 * `button.replace_name` or replace the whole card, for the listed members (or `atall`).
 */
import type { Context } from 'koa';
import { resolveErrcode, validateTemplateCard } from './card-validation';
import { ERR } from './errcodes';
import type { RouteDeps } from './http-util';
import { answer, answerError, isNonEmptyString, isObject, parseJsonObject, readRawBody } from './http-util';
import { requireToken } from './token-route';
import type { JsonObject } from './types';

/** "仅原卡片为 按钮交互型、投票选择型、多项选择型的卡片可以更新按钮". */
const BUTTON_UPDATABLE = new Set(['button_interaction', 'vote_interaction', 'multiple_interaction']);

export async function handleUpdateTemplateCard(ctx: Context, { state, settings }: RouteDeps): Promise<void> {
  if (!requireToken(ctx, state)) return;
  const invalidParam = settings.errcodes.invalidParameter;
  const body = parseJsonObject(await readRawBody(ctx));
  if (!body) return answerError(ctx, invalidParam, 'Warning: wrong json format.');
  if (body.agentid === undefined) return answerError(ctx, ERR.missingAgentId);
  if (!Number.isInteger(Number(body.agentid))) return answerError(ctx, ERR.invalidAgentId);
  if (Number(body.agentid) !== settings.agentId) return answerError(ctx, ERR.agentNotAllowed);
  if (!isNonEmptyString(body.response_code)) return answerError(ctx, invalidParam, 'response_code');

  const userids = Array.isArray(body.userids)
    ? body.userids.filter((u): u is string => typeof u === 'string')
    : [];
  const atall = body.atall === 1;
  if (!atall && userids.length === 0) return answerError(ctx, ERR.invalidParamEmptyRecipients);
  if (userids.length > 1000) return answerError(ctx, ERR.invalidUserList);

  const button = body.button;
  const newCard = body.template_card;
  if ((button === undefined) === (newCard === undefined)) {
    return answerError(ctx, invalidParam, 'exactly one of button and template_card');
  }
  if (button !== undefined && !(isObject(button) && isNonEmptyString(button.replace_name))) {
    return answerError(ctx, invalidParam, 'button.replace_name');
  }
  if (newCard !== undefined) {
    const check = validateTemplateCard(newCard, false);
    if (!check.ok) return answerError(ctx, resolveErrcode(check.errcode, settings.errcodes), check.detail);
  }

  const code = state.checkResponseCode(body.response_code);
  if ('reason' in code) {
    settings.logger.debug({ reason: code.reason }, 'wecom emulator: response_code refused');
    return answerError(ctx, settings.errcodes.responseCodeInvalid, `response_code ${code.reason}`);
  }
  const task = state.task(code.taskId)!;
  if (button !== undefined && !BUTTON_UPDATABLE.has(task.cardType)) {
    return answerError(ctx, invalidParam, 'button update needs an interaction card');
  }
  const targets = atall ? task.recipients : userids.filter((u) => task.recipients.includes(u));
  const invaliduser = atall ? [] : userids.filter((u) => !task.recipients.includes(u));
  if (targets.length === 0) return answerError(ctx, ERR.allRecipientsInvalid, undefined, { invaliduser });

  state.consumeResponseCode(body.response_code);
  const at = state.nowIso();
  for (const userid of targets) {
    for (const msg of state.cards(userid, task.taskId)) {
      const view = msg.card;
      if (isObject(button)) {
        view.disabled = true;
        view.replaceName = button.replace_name as string;
      } else {
        const replaced = structuredClone(newCard as JsonObject);
        replaced.task_id = task.taskId;
        view.card = replaced;
        view.cardType = replaced.card_type as string;
        view.disabled = false;
        view.replaceName = undefined;
      }
      view.updatedAt = at;
      state.messageUpdated(userid, msg);
    }
  }
  state.counters.cards_updated += 1;
  answer(ctx, { errcode: 0, errmsg: 'ok', invaliduser });
}
