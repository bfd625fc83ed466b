/**
 * Renders a neutral `OutboundMessage` to the exact WeCom request body. Pure and deterministic: no
 * clock, no randomness, objects built literally in a fixed key order, so the same message always gives
 * the same bytes. That matters because WeCom's duplicate check compares the request JSON
 * (developer.work.weixin.qq.com/document/path/90236) and the outbox freezes the first rendering.
 *
 * What goes where:
 * - to a member (`to.kind === 'user'`): `message/send` (90236) with `enable_duplicate_check: 1` and the
 *   longest interval, 4 h, so a retry after an ambiguous send is dropped by WeCom if the first got in.
 *   text and markdown as such; a card with buttons as `template_card` / `button_interaction`; a card
 *   without buttons or already settled as markdown (see `renderCardAsMarkdown`).
 * - card updates: `message/update_template_card` (94888).
 * - to a group (`to.kind === 'group'`): the group robot webhook (91770). Robot cards cannot have buttons
 *   (text_notice/news_notice only, and those require a `card_action` link we do not have), so a card
 *   goes to a group as markdown.
 *
 * Length limits. Byte limits are hard (the API refuses or cuts): text and markdown are cut at a UTF-8
 * character boundary with a visible note. Character limits of template cards are "建议不超过" (advice);
 * we still keep to them so the card looks as designed, cutting with "…". A button key, a task_id or an
 * image cannot be shortened without changing its meaning: those throw `WecomRenderError`.
 */
import { createHash } from 'node:crypto';
import type { ButtonStyle, CardButton, CardModel } from '../../cards/types';
import type { OutboundMessage, RenderedRequest } from '../types';

export const WECOM_API = {
  send: 'message/send',
  updateCard: 'message/update_template_card',
  robot: 'webhook/send',
} as const;
export type WecomApi = (typeof WECOM_API)[keyof typeof WECOM_API];

/** 90236: "duplicate_check_interval ... 默认1800s，最大不超过4小时". */
export const DUPLICATE_CHECK_INTERVAL_SECONDS = 14_400;

/**
 * `RenderedRequest.ambiguousRetryWindowMs` per API (platforms/types.ts):
 * - message/send: inside the duplicate-check interval WeCom drops a byte-identical resend (90236). The
 *   outbox measures from its first attempt, which is never after WeCom's acceptance; the 5-minute
 *   margin covers clock skew between our database and WeCom.
 * - update_template_card: a response_code is single use (94888), so a resend can never apply twice
 *   (if the first one got through, the resend is refused; see errors.ts on what that refusal means).
 * - group robot: no duplicate check (91770): an ambiguous post is never retried.
 */
export const AMBIGUOUS_RETRY_WINDOW_MS = {
  send: (DUPLICATE_CHECK_INTERVAL_SECONDS - 300) * 1000,
  updateCard: Number.POSITIVE_INFINITY,
  robot: 0,
} as const;

export const LIMITS = {
  /** 90236 text: "最长不超过2048个字节，超过将截断". */
  appTextBytes: 2048,
  /** 90236 markdown: "最长不超过2048个字节". */
  appMarkdownBytes: 2048,
  /** 91770 text: "最长不超过2048个字节". */
  robotTextBytes: 2048,
  /** 91770 markdown: "最长不超过4096个字节". */
  robotMarkdownBytes: 4096,
  /** 91770 image: "图片（base64编码前）最大不能超过2M". */
  robotImageBytes: 2 * 1024 * 1024,
  /** 90236 / 94888: touser and userids, at most 1000. */
  users: 1000,
  /** 90236 template_card (button_interaction) advice, in characters. */
  mainTitleChars: 36,
  mainDescChars: 44,
  subTitleChars: 160,
  keynameChars: 5,
  valueChars: 30,
  /** 90236 names no limit for quote_area.quote_text; ours, so a long customer note cannot bloat a card. */
  quoteChars: 160,
  buttonTextChars: 10,
  /** 90236: button key "最长支持1024字节". */
  buttonKeyBytes: 1024,
  /** 90236: horizontal_content_list and button_list "列表长度不超过6". */
  rows: 6,
  buttons: 6,
} as const;

/** 90236: task_id "只能由数字、字母和“_-@”组成，最长128字节". */
const TASK_ID_RE = /^[0-9A-Za-z_\-@]{1,128}$/;

/** Appended where text was cut to fit a byte limit. */
export const TRUNCATION_NOTE = '\n…（已截断）';

/** 90236 button_list.style: 1–4 ("不填或错填默认1"); colours are WeCom's, the mapping is ours. */
const BUTTON_STYLE: Readonly<Record<ButtonStyle, number>> = { primary: 1, default: 2, danger: 3, link: 4 };

export type WecomRenderErrorCode =
  | 'bad_card_id'
  | 'bad_action_id'
  | 'bad_user_id'
  | 'empty_title'
  | 'no_update_token'
  | 'no_recipients'
  | 'too_many_recipients'
  | 'update_without_buttons'
  | 'image_to_user'
  | 'bad_image';

/** A message that cannot be expressed in WeCom at all: a programming or data error, not a send failure. */
export class WecomRenderError extends Error {
  constructor(
    readonly code: WecomRenderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WecomRenderError';
  }
}

export interface WecomRenderOptions {
  agentId: number;
  /**
   * The outbox row's unique key. When given, text and markdown to a member carry an invisible tag
   * derived from it (see `invisibleTag`), so that two different messages with the same words (the
   * help text asked for twice, an unchanged 我的 list) are two different requests for WeCom's
   * duplicate check, which would otherwise silently drop the second for 4 hours.
   */
  dedupeKey?: string;
}

/** Zero-width characters: invisible in WeCom's clients, distinct to its duplicate check. */
const TAG_DIGITS = ['\u200b', '\u200c', '\u200d', '\u2060'] as const;
/** 12 base-4 digits = 24 bits of the key's hash: 36 UTF-8 bytes. */
const TAG_LENGTH = 12;

/**
 * An invisible suffix that differs between outbox rows (found by `npm run test:chaos`: a member who
 * typed 帮助 twice within 4 hours got one answer; WeCom's duplicate check compares the content, 90236).
 * Deterministic, so a retry of the same row still sends the same bytes and is still deduplicated.
 */
export function invisibleTag(dedupeKey: string): string {
  const hash = createHash('sha256').update(dedupeKey).digest();
  let tag = '';
  for (let i = 0; i < TAG_LENGTH; i++) {
    const byte = hash[Math.floor(i / 4)]!;
    tag += TAG_DIGITS[(byte >> ((i % 4) * 2)) & 3];
  }
  return tag;
}

/** `text` cut to `maxBytes` with room for the tag, then the tag. */
function tagged(text: string, maxBytes: number, tag: string): string {
  return truncateUtf8(text, maxBytes - byteLength(tag)) + tag;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes including `note`, at a code point boundary (never
 * inside a multi-byte character or a surrogate pair). Text that fits is returned unchanged.
 */
export function truncateUtf8(text: string, maxBytes: number, note: string = TRUNCATION_NOTE): string {
  if (byteLength(text) <= maxBytes) return text;
  const budget = maxBytes - byteLength(note);
  if (budget < 0) throw new RangeError(`maxBytes ${maxBytes} is smaller than the truncation note`);
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const n = byteLength(ch);
    if (used + n > budget) break;
    used += n;
    end += ch.length;
  }
  return text.slice(0, end) + note;
}

/** Cuts to at most `max` characters (code points), the last being "…" when cut. */
export function truncateChars(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * One member per message. `|` separates ids in touser and `@all` addresses the whole app (90236): a
 * userid containing either would widen the audience, so it is refused. WeCom userids are 1–64
 * characters (90313, errcode 40003).
 */
function checkUserId(userId: string): void {
  if (userId.length === 0 || userId.length > 64 || userId.includes('|') || userId === '@all') {
    throw new WecomRenderError('bad_user_id', `接收人 userid 不合法: ${JSON.stringify(userId.slice(0, 70))}`);
  }
}

function checkCardId(cardId: string): void {
  if (!TASK_ID_RE.test(cardId)) {
    throw new WecomRenderError(
      'bad_card_id',
      `卡片 ID 不符合企业微信 task_id 规则（1–128 个字母、数字或 _-@）: ${JSON.stringify(cardId.slice(0, 40))}`,
    );
  }
}

function renderButtons(buttons: CardButton[]) {
  const kept = buttons.slice(0, LIMITS.buttons);
  const seen = new Set<string>();
  return kept.map((b) => {
    if (b.actionId.length === 0 || byteLength(b.actionId) > LIMITS.buttonKeyBytes || seen.has(b.actionId)) {
      throw new WecomRenderError(
        'bad_action_id',
        `按钮 key 为空、超过 1024 字节或重复: ${b.actionId.slice(0, 40)}`,
      );
    }
    seen.add(b.actionId);
    return {
      text: truncateChars(b.text, LIMITS.buttonTextChars),
      style: BUTTON_STYLE[b.style],
      key: b.actionId,
    };
  });
}

/**
 * `template_card` of type `button_interaction` (90236). The card model's `emphasis` goes to
 * `sub_title_text`: 90236 documents `emphasis_content` for text_notice only, not for
 * button_interaction, so WeCom may drop it there.
 */
function renderTemplateCard(cardId: string, card: CardModel) {
  checkCardId(cardId);
  const title = card.title.trim();
  if (title.length === 0) throw new WecomRenderError('empty_title', '卡片标题不能为空');
  const mainTitle =
    card.description !== undefined && card.description.length > 0
      ? {
          title: truncateChars(title, LIMITS.mainTitleChars),
          desc: truncateChars(card.description, LIMITS.mainDescChars),
        }
      : { title: truncateChars(title, LIMITS.mainTitleChars) };
  const quote = card.quote !== undefined && card.quote.length > 0 ? card.quote : undefined;
  const emphasis = card.emphasis
    ? card.emphasis.label
      ? `${card.emphasis.label}：${card.emphasis.value}`
      : card.emphasis.value
    : undefined;
  // 42027: keyname must not be empty; rows without a label are left out rather than sent broken.
  const rows = card.fields
    .filter((f) => f.label.trim().length > 0)
    .slice(0, LIMITS.rows)
    .map((f) => ({
      keyname: truncateChars(f.label, LIMITS.keynameChars),
      value: truncateChars(f.value, LIMITS.valueChars),
    }));
  return {
    card_type: 'button_interaction',
    main_title: mainTitle,
    ...(quote !== undefined ? { quote_area: { quote_text: truncateChars(quote, LIMITS.quoteChars) } } : {}),
    ...(emphasis !== undefined ? { sub_title_text: truncateChars(emphasis, LIMITS.subTitleChars) } : {}),
    ...(rows.length > 0 ? { horizontal_content_list: rows } : {}),
    task_id: cardId,
    button_list: renderButtons(card.buttons),
  };
}

/**
 * A read-only view of a card in WeCom markdown (90236 / 91770 syntax: bold, `<font color>`, quotes).
 * Used for group robots (robot cards cannot carry buttons, 91770), for cards without buttons
 * (button_interaction needs at least one, and text_notice needs a card_action link) and for cards
 * sent already settled (nothing left to click).
 */
export function renderCardAsMarkdown(card: CardModel): string {
  const lines = [`**${card.title}**`];
  if (card.description) lines.push(`<font color="comment">${card.description}</font>`);
  if (card.emphasis) {
    const label = card.emphasis.label ? ` ${card.emphasis.label}` : '';
    lines.push(`<font color="warning">${card.emphasis.value}</font>${label}`);
  }
  for (const field of card.fields) lines.push(`${field.label}：${field.value}`);
  if (card.quote) lines.push(...card.quote.split('\n').map((line) => `> ${line}`));
  if (card.settled) lines.push(`<font color="info">${card.settled}</font>`);
  return lines.join('\n');
}

type AppMsgType = 'text' | 'markdown' | 'template_card';

function appMessage(agentId: number, touser: string, msgtype: AppMsgType, content: object): string {
  // Key order fixed here, as 90236 lists them: touser, msgtype, agentid, <msgtype>, duplicate check.
  return JSON.stringify({
    touser,
    msgtype,
    agentid: agentId,
    [msgtype]: content,
    enable_duplicate_check: 1,
    duplicate_check_interval: DUPLICATE_CHECK_INTERVAL_SECONDS,
  });
}

function appMarkdown(agentId: number, touser: string, markdown: string, tag: string): string {
  return appMessage(agentId, touser, 'markdown', {
    content: tagged(markdown, LIMITS.appMarkdownBytes, tag),
  });
}

function robot(groupKey: string, body: Record<string, unknown>): RenderedRequest {
  return {
    api: WECOM_API.robot,
    body: JSON.stringify(body),
    target: groupKey,
    ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.robot,
  };
}

const PNG_MAGIC = Buffer.from('89504e470d0a1a0a', 'hex');
const isJpeg = (b: Buffer): boolean => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

function robotImage(groupKey: string, pngBase64: string): RenderedRequest {
  const data = Buffer.from(pngBase64, 'base64');
  // Node decodes base64 leniently; the robot hashes what it decodes, so insist on canonical input.
  if (data.length === 0 || data.toString('base64') !== pngBase64) {
    throw new WecomRenderError('bad_image', '图片不是规范的 base64');
  }
  if (data.length > LIMITS.robotImageBytes) {
    throw new WecomRenderError('bad_image', `图片 ${data.length} 字节，超过群机器人 2 MB 上限`);
  }
  if (!data.subarray(0, 8).equals(PNG_MAGIC) && !isJpeg(data)) {
    throw new WecomRenderError('bad_image', '群机器人只接受 PNG 或 JPG 图片');
  }
  // 91770: md5 of the image before base64 encoding, lowercase hex.
  const md5 = createHash('md5').update(data).digest('hex');
  return robot(groupKey, { msgtype: 'image', image: { base64: pngBase64, md5 } });
}

function renderToGroup(message: Exclude<OutboundMessage, { kind: 'card_update' }>, groupKey: string) {
  switch (message.kind) {
    case 'text':
      return robot(groupKey, {
        msgtype: 'text',
        text: { content: truncateUtf8(message.text, LIMITS.robotTextBytes) },
      });
    case 'markdown':
      return robot(groupKey, {
        msgtype: 'markdown',
        markdown: { content: truncateUtf8(message.markdown, LIMITS.robotMarkdownBytes) },
      });
    case 'card':
      return robot(groupKey, {
        msgtype: 'markdown',
        markdown: { content: truncateUtf8(renderCardAsMarkdown(message.card), LIMITS.robotMarkdownBytes) },
      });
    case 'image':
      return robotImage(groupKey, message.pngBase64);
  }
}

function renderToUser(
  message: Exclude<OutboundMessage, { kind: 'card_update' }>,
  userId: string,
  agentId: number,
  dedupeKey: string | undefined,
): RenderedRequest {
  checkUserId(userId);
  const tag = dedupeKey === undefined ? '' : invisibleTag(dedupeKey);
  switch (message.kind) {
    case 'text':
      return {
        api: WECOM_API.send,
        ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.send,
        body: appMessage(agentId, userId, 'text', {
          content: tagged(message.text, LIMITS.appTextBytes, tag),
        }),
      };
    case 'markdown':
      return {
        api: WECOM_API.send,
        ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.send,
        body: appMarkdown(agentId, userId, message.markdown, tag),
      };
    case 'card': {
      if (message.card.buttons.length === 0 || message.card.settled) {
        return {
          api: WECOM_API.send,
          ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.send,
          body: appMarkdown(agentId, userId, renderCardAsMarkdown(message.card), tag),
        };
      }
      const card = renderTemplateCard(message.cardId, message.card);
      return {
        api: WECOM_API.send,
        ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.send,
        body: appMessage(agentId, userId, 'template_card', card),
      };
    }
    case 'image':
      // 90236 image messages need a media_id from the media upload API, which this adapter does not use.
      throw new WecomRenderError('image_to_user', '企业微信应用消息发送图片需要先上传素材，暂不支持发给个人');
  }
}

function renderCardUpdate(message: Extract<OutboundMessage, { kind: 'card_update' }>, agentId: number) {
  checkCardId(message.cardId);
  if (!message.updateToken) {
    // 94888: every update consumes a response_code (from the send answer or a click callback).
    throw new WecomRenderError('no_update_token', '企业微信更新卡片需要 response_code（updateToken）');
  }
  const userids = [...new Set(message.userIds)];
  userids.forEach(checkUserId);
  if (userids.length === 0) throw new WecomRenderError('no_recipients', '更新卡片的成员列表为空');
  if (userids.length > LIMITS.users) {
    throw new WecomRenderError('too_many_recipients', `更新卡片最多 ${LIMITS.users} 个成员`);
  }
  const base = { userids, agentid: agentId, response_code: message.updateToken };
  if (message.card.settled) {
    // 94888 "更新按钮为不可点击状态": greys every button out with this text.
    const replaceName = truncateChars(message.card.settled, LIMITS.buttonTextChars);
    return {
      api: WECOM_API.updateCard,
      ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.updateCard,
      body: JSON.stringify({ ...base, button: { replace_name: replaceName } }),
    };
  }
  if (message.card.buttons.length === 0) {
    throw new WecomRenderError(
      'update_without_buttons',
      '整卡更新需要至少一个按钮；要让按钮失效，请设置 settled',
    );
  }
  const card = renderTemplateCard(message.cardId, message.card);
  return {
    api: WECOM_API.updateCard,
    ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.updateCard,
    body: JSON.stringify({ ...base, template_card: card }),
  };
}

/** The WeCom request for `message`. Throws `WecomRenderError` for messages WeCom cannot carry. */
export function renderWecomMessage(message: OutboundMessage, options: WecomRenderOptions): RenderedRequest {
  if (message.kind === 'card_update') return renderCardUpdate(message, options.agentId);
  if (message.to.kind === 'group') return renderToGroup(message, message.to.groupKey);
  return renderToUser(message, message.to.userId, options.agentId, options.dedupeKey);
}
