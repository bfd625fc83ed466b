/**
 * `POST /cgi-bin/message/send?access_token=` (path 90236) for text, markdown and template_card, with
 * the duplicate check (identical request within `duplicate_check_interval`: answered ok, not
 * delivered) and the per-member limits of path 90454 (excess answered ok, silently dropped).
 */
import type { Context } from 'koa';
import { resolveErrcode, validateTemplateCard } from './card-validation';
import { ERR } from './errcodes';
import type { RouteDeps } from './http-util';
import {
  answer,
  answerError,
  byteLength,
  isObject,
  parseJsonObject,
  readRawBody,
  truncateBytes,
} from './http-util';
import { WecomEmulatorState } from './state';
import { requireToken } from './token-route';
import type { ChatMessage, JsonObject } from './types';

const CONTENT_MAX_BYTES = 2048;
const MAX_USERS = 1000;

type Content = Omit<ChatMessage, 'seq' | 'at' | 'direction' | 'msgid' | 'msgtype'>;
type Prepared =
  | { ok: true; content: Content; taskId?: string; interactive: boolean }
  | { ok: false; answered: true };

const splitIds = (v: unknown): string[] =>
  typeof v === 'string' || typeof v === 'number'
    ? String(v)
        .split('|')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

/** Builds what each recipient's chat shows; answers the error itself when the body is invalid. */
function prepareContent(ctx: Context, body: JsonObject, { state, settings }: RouteDeps): Prepared {
  const failed = (errcode: number, detail?: string): Prepared => {
    answerError(ctx, errcode, detail);
    return { ok: false, answered: true };
  };
  const part = body[body.msgtype as string];
  if (body.msgtype === 'text' || body.msgtype === 'markdown') {
    const text = isObject(part) ? part.content : undefined;
    if (typeof text !== 'string' || text.length === 0) return failed(ERR.emptyTextContent);
    if (byteLength(text) <= CONTENT_MAX_BYTES) {
      return {
        ok: true,
        content: body.msgtype === 'text' ? { text } : { markdown: text },
        interactive: false,
      };
    }
    // path 90236: text "最长不超过2048个字节，超过将截断"; markdown names no behaviour, so we refuse it.
    if (body.msgtype === 'markdown')
      return failed(settings.errcodes.contentTooLong, 'markdown over 2048 bytes');
    return {
      ok: true,
      content: { text: truncateBytes(text, CONTENT_MAX_BYTES), truncated: true },
      interactive: false,
    };
  }
  const check = validateTemplateCard(part, false);
  if (!check.ok) return failed(resolveErrcode(check.errcode, settings.errcodes), check.detail);
  if (check.taskId !== undefined && state.taskExists(check.taskId))
    return failed(ERR.taskIdInvalid, 'task_id reused');
  // Apps without a callback URL cannot send cards that call back (global code 43012).
  if (check.interactive && !settings.callbackUrl) return failed(ERR.appNeedsCallbackUrl);
  const card = {
    cardType: check.cardType,
    taskId: check.taskId,
    card: part as JsonObject,
    disabled: false,
    replaceName: undefined,
    updatedAt: undefined,
  };
  const content: Content = check.warnings.length ? { card, warnings: check.warnings } : { card };
  return { ok: true, content, taskId: check.taskId, interactive: check.interactive };
}

export async function handleMessageSend(ctx: Context, deps: RouteDeps): Promise<void> {
  const { state, settings } = deps;
  if (!requireToken(ctx, state)) return;
  const raw = await readRawBody(ctx);
  const body = parseJsonObject(raw);
  if (!body) return answerError(ctx, settings.errcodes.invalidParameter, 'Warning: wrong json format.');
  if (body.agentid === undefined) return answerError(ctx, ERR.missingAgentId);
  const agentid = Number(body.agentid);
  if (!Number.isInteger(agentid)) return answerError(ctx, ERR.invalidAgentId);
  // A token of one app used with another app's agentid (global code 301002).
  if (agentid !== settings.agentId) return answerError(ctx, ERR.agentNotAllowed);
  if (!['text', 'markdown', 'template_card'].includes(body.msgtype as string)) {
    return answerError(ctx, ERR.invalidMsgtype);
  }

  const users = [...new Set(splitIds(body.touser))];
  const parties = splitIds(body.toparty);
  const tags = splitIds(body.totag);
  if (users.length === 0 && parties.length === 0 && tags.length === 0) {
    return answerError(ctx, ERR.invalidParamEmptyRecipients);
  }
  if (users.length > MAX_USERS) return answerError(ctx, ERR.invalidUserList);
  const valid = users.includes('@all') ? state.memberIds() : users.filter((u) => state.hasMember(u));
  const invalid = users.filter((u) => u !== '@all' && !state.hasMember(u));
  // The emulator has no departments or tags: every one named is invalid.
  const lists = {
    invaliduser: invalid.join('|'),
    invalidparty: parties.join('|'),
    invalidtag: tags.join('|'),
  };

  const dupCheck = body.enable_duplicate_check === 1;
  const interval = body.duplicate_check_interval ?? settings.duplicateCheckDefaultSeconds;
  if (dupCheck && (!Number.isInteger(interval) || (interval as number) < 1)) {
    return answerError(ctx, settings.errcodes.invalidParameter, 'duplicate_check_interval');
  }
  if (dupCheck && (interval as number) > settings.duplicateCheckMaxSeconds) {
    return answerError(ctx, settings.errcodes.invalidParameter, 'duplicate_check_interval over 4 hours');
  }
  const hash = WecomEmulatorState.bodyHash(raw);
  const previous = dupCheck ? state.findDuplicate(hash) : undefined;
  if (previous) {
    state.counters.duplicates_suppressed += 1;
    settings.logger.debug({ msgid: previous.msgid }, 'wecom emulator: duplicate suppressed');
    return answer(ctx, previous);
  }

  const prepared = prepareContent(ctx, body, deps);
  if (!prepared.ok) return;
  if (valid.length === 0) return answerError(ctx, ERR.allRecipientsInvalid, undefined, lists);

  const msgid = state.randomId(24);
  const reply: JsonObject = { errcode: 0, errmsg: 'ok', ...lists, unlicenseduser: '', msgid };
  if (prepared.taskId !== undefined) {
    const cardType = prepared.content.card?.cardType ?? '';
    state.registerTask({ taskId: prepared.taskId, cardType, recipients: valid });
  }
  if (prepared.interactive && prepared.taskId !== undefined) {
    reply.response_code = state.issueResponseCode(prepared.taskId);
  }
  for (const userid of valid) {
    if (!state.admitToMember(userid)) {
      settings.logger.debug({ userid, msgid }, 'wecom emulator: dropped by per-member rate limit');
      continue;
    }
    const { card, ...rest } = prepared.content;
    // Each member gets a copy of the card: updates are per member (path 94888).
    const copy = card && { ...card, card: structuredClone(card.card) };
    state.appendToMember(userid, {
      direction: 'out',
      msgtype: body.msgtype as string,
      msgid,
      ...rest,
      card: copy,
    });
  }
  state.counters.sent += 1;
  if (dupCheck) state.rememberForDuplicates(hash, interval as number, reply);
  answer(ctx, reply);
}
