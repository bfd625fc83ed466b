/**
 * Validation of `template_card` bodies as message/send documents them (path 90236, "模板卡片消息"), and
 * as the group robot accepts them (path 91770: text_notice and news_notice only). Error codes are the
 * Template_Card ones of the global list (path 90313: 42027–42047); where the list has none we answer
 * the configurable `invalidParameter`.
 */
import { ERR } from './errcodes';
import { byteLength, isNonEmptyString, isObject } from './http-util';
import type { JsonObject, UnconfirmedErrcodes } from './types';

export const CARD_TYPES = [
  'text_notice',
  'news_notice',
  'button_interaction',
  'vote_interaction',
  'multiple_interaction',
] as const;
const INTERACTIVE_TYPES = new Set(['button_interaction', 'vote_interaction', 'multiple_interaction']);
/** task_id: digits, letters and `_-@`, at most 128 bytes (path 90236). */
const TASK_ID = /^[0-9A-Za-z_\-@]{1,128}$/;
const KEY_MAX_BYTES = 1024;
/** Stands for the configurable invalidParameter code until `resolveErrcode` replaces it. */
export const INVALID_PARAMETER = -2;

export type CardCheck =
  | { ok: true; cardType: string; taskId: string | undefined; interactive: boolean; warnings: string[] }
  | { ok: false; errcode: number; detail: string };

const fail = (errcode: number, detail: string): CardCheck => ({ ok: false, errcode, detail });
const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);

function checkKeys(keys: unknown[], errcode: number, what: string): CardCheck | undefined {
  const seen = new Set<string>();
  for (const k of keys) {
    if (!isNonEmptyString(k) || byteLength(k) > KEY_MAX_BYTES || seen.has(k)) return fail(errcode, what);
    seen.add(k);
  }
  return undefined;
}

function checkOptions(list: unknown, max: number, what: string): CardCheck | undefined {
  const options = arr(list);
  if (!options || options.length < 1 || options.length > max) return fail(ERR.cardOptionListLength, what);
  for (const o of options) {
    if (!isObject(o) || !isNonEmptyString(o.id) || !isNonEmptyString(o.text)) {
      return fail(ERR.cardOptionListLength, `${what}.id/text`);
    }
  }
  return undefined;
}

function checkInteractiveParts(
  card: JsonObject,
  cardType: string,
  warnings: string[],
): CardCheck | undefined {
  if (cardType === 'button_interaction') {
    const buttons = arr(card.button_list);
    if (!buttons || buttons.length < 1 || buttons.length > 6)
      return fail(INVALID_PARAMETER, 'button_list must hold 1 to 6 buttons');
    const keys: unknown[] = [];
    for (const b of buttons) {
      if (!isObject(b) || !isNonEmptyString(b.text)) return fail(ERR.cardButtonText, 'button_list.text');
      // "按钮文案，建议不超过10个字": a recommendation, so a warning rather than an error.
      if ([...b.text].length > 10) warnings.push(`button text over 10 characters: ${b.text}`);
      if (b.type === undefined || b.type === 0) keys.push(b.key);
      else if (b.type === 1 && !isNonEmptyString(b.url)) return fail(INVALID_PARAMETER, 'button_list.url');
    }
    return checkKeys(keys, ERR.cardButtonKey, 'button_list.key');
  }
  const submit = card.submit_button;
  if (!isObject(submit) || !isNonEmptyString(submit.key) || byteLength(submit.key) > KEY_MAX_BYTES) {
    return fail(ERR.cardSubmitKey, 'submit_button.key');
  }
  if (cardType === 'vote_interaction') {
    const box = card.checkbox;
    if (!isObject(box) || !isNonEmptyString(box.question_key))
      return fail(ERR.cardQuestionKey, 'checkbox.question_key');
    return checkOptions(box.option_list, 20, 'checkbox.option_list');
  }
  const selects = arr(card.select_list);
  if (!selects || selects.length < 1 || selects.length > 3) return fail(ERR.cardSelectList, 'select_list');
  for (const s of selects) {
    if (!isObject(s) || !isNonEmptyString(s.question_key))
      return fail(ERR.cardQuestionKey, 'select_list.question_key');
    const bad = checkOptions(s.option_list, 10, 'select_list.option_list');
    if (bad) return bad;
  }
  return checkKeys(
    selects.map((s) => (s as JsonObject).question_key),
    ERR.cardQuestionKey,
    'select_list.question_key',
  );
}

function checkLayout(card: JsonObject, cardType: string): CardCheck | undefined {
  const title = isObject(card.main_title) ? card.main_title.title : undefined;
  if (!isNonEmptyString(title) && !(cardType === 'text_notice' && isNonEmptyString(card.sub_title_text))) {
    return fail(INVALID_PARAMETER, 'main_title.title');
  }
  const rows = card.horizontal_content_list;
  if (rows !== undefined) {
    const list = arr(rows);
    if (!list || list.length > 6) return fail(ERR.cardHorizontalLength, 'horizontal_content_list');
    if (list.some((r) => !isObject(r) || !isNonEmptyString(r.keyname))) {
      return fail(ERR.cardHorizontalKeyname, 'horizontal_content_list.keyname');
    }
  }
  const jumps = card.jump_list;
  if (jumps !== undefined && (!arr(jumps) || (jumps as unknown[]).length > 3)) {
    return fail(ERR.cardJumpListLength, 'jump_list');
  }
  if (cardType === 'text_notice' || cardType === 'news_notice') {
    // "card_action: 整体卡片的点击跳转事件，text_notice/news_notice 模版卡片中该字段为必填项".
    const action = card.card_action;
    if (!isObject(action) || ![1, 2].includes(action.type as number))
      return fail(ERR.cardAction, 'card_action');
    if (action.type === 1 && !isNonEmptyString(action.url)) return fail(ERR.cardAction, 'card_action.url');
    if (action.type === 2 && !isNonEmptyString(action.appid))
      return fail(ERR.cardAction, 'card_action.appid');
  }
  if (cardType === 'news_notice') {
    const image = isObject(card.card_image) ? card.card_image.url : undefined;
    const area = isObject(card.image_text_area) ? card.image_text_area.image_url : undefined;
    if (!isNonEmptyString(image) && !isNonEmptyString(area)) return fail(ERR.cardImage, 'card_image.url');
  }
  return undefined;
}

/**
 * Validates a template_card. `robot` restricts it to the group robot's types. Uniqueness of task_id
 * is the caller's business (it needs the emulator state).
 */
export function validateTemplateCard(card: unknown, robot: boolean): CardCheck {
  if (!isObject(card)) return fail(INVALID_PARAMETER, 'template_card');
  const cardType = card.card_type;
  const allowed: readonly string[] = robot ? ['text_notice', 'news_notice'] : CARD_TYPES;
  if (typeof cardType !== 'string' || !allowed.includes(cardType))
    return fail(ERR.cardTypeInvalid, 'card_type');
  const warnings: string[] = [];
  const menu = card.action_menu;
  if (menu !== undefined) {
    const actions = isObject(menu) ? arr(menu.action_list) : undefined;
    if (!actions || actions.length < 1 || actions.length > 3)
      return fail(INVALID_PARAMETER, 'action_menu.action_list');
    if (actions.some((a) => !isObject(a) || !isNonEmptyString(a.text)))
      return fail(INVALID_PARAMETER, 'action_menu.text');
    const bad = checkKeys(
      actions.map((a) => (a as JsonObject).key),
      INVALID_PARAMETER,
      'action_menu.key',
    );
    if (bad) return bad;
  }
  const interactive = INTERACTIVE_TYPES.has(cardType) || menu !== undefined;
  const taskId = card.task_id;
  if (taskId !== undefined || interactive) {
    if (typeof taskId !== 'string' || !TASK_ID.test(taskId)) return fail(ERR.taskIdInvalid, 'task_id');
  }
  const layout = checkLayout(card, cardType);
  if (layout) return layout;
  if (INTERACTIVE_TYPES.has(cardType)) {
    const parts = checkInteractiveParts(card, cardType, warnings);
    if (parts) return parts;
  }
  return { ok: true, cardType, taskId: taskId as string | undefined, interactive, warnings };
}

export function resolveErrcode(errcode: number, codes: UnconfirmedErrcodes): number {
  return errcode === INVALID_PARAMETER ? codes.invalidParameter : errcode;
}

/** Keys a member can click on a card: callback buttons, action-menu entries and the submit button. */
export function clickableKeys(card: JsonObject): string[] {
  const keys: string[] = [];
  for (const b of arr(card.button_list) ?? []) {
    if (isObject(b) && (b.type === undefined || b.type === 0) && typeof b.key === 'string') keys.push(b.key);
  }
  const menu = isObject(card.action_menu) ? arr(card.action_menu.action_list) : undefined;
  for (const a of menu ?? []) if (isObject(a) && typeof a.key === 'string') keys.push(a.key);
  if (isObject(card.submit_button) && typeof card.submit_button.key === 'string')
    keys.push(card.submit_button.key);
  return keys;
}
