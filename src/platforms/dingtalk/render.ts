/**
 * Renders a neutral `OutboundMessage` to the exact DingTalk request body. Pure and deterministic (no
 * clock, no randomness, keys in a fixed order): the outbox freezes the first rendering and every retry
 * sends the same bytes. Config read here (robot code, card template, which group has which robot) is
 * static for a deployment.
 *
 * What goes where (PLATFORMS.md "DingTalk"):
 * - text / markdown to a member: `POST /v1.0/robot/oToMessages/batchSend` with msgKey `sampleText` /
 *   `sampleMarkdown` and `msgParam` a JSON string, one member per request.
 * - text / markdown to a team group: the team's custom robot (`oapi …/robot/send`, signed at send time
 *   by the client, so the secret never sits in the outbox) when it has one, else the app robot in the
 *   team group (`POST /v1.0/robot/groupMessages/send`).
 * - a card with buttons: `POST /v1.0/card/instances/createAndDeliver` with our card id as
 *   `outTrackId`, the configured template, `cardData.cardParamMap` (string values, the variables listed
 *   in docs/dingtalk-card.md), to one member (`dtv1.card//IM_ROBOT.<userId>`) or to the team group
 *   (`dtv1.card//IM_GROUP.<openConversationId>`; DingTalk group cards call back). Without a template, or
 *   for a card without buttons or already settled, the card goes as markdown instead.
 * - card updates: `PUT /v1.0/card/instances` by `outTrackId` (DingTalk needs no per-update token),
 *   replacing the variables by key. Without a template the new state goes to the members as markdown.
 */
import { createHash } from 'node:crypto';
import type { CardModel } from '../../cards/types';
import type { OutboundMessage, RenderedRequest } from '../types';

export const DINGTALK_API = {
  batchSend: 'robot/oToMessages/batchSend',
  groupSend: 'robot/groupMessages/send',
  createCard: 'card/instances/createAndDeliver',
  updateCard: 'card/instances:update',
  customRobot: 'robot/send',
} as const;
export type DingtalkApi = (typeof DINGTALK_API)[keyof typeof DINGTALK_API];

/**
 * `RenderedRequest.ambiguousRetryWindowMs` per API: robot messages have no duplicate check, so an
 * ambiguous one is never resent (maybe_sent); a card is created under our `outTrackId`, which DingTalk
 * keeps unique (a resend cannot make a second card), and an update by key is idempotent.
 */
export const AMBIGUOUS_RETRY_WINDOW_MS = {
  message: 0,
  card: Number.POSITIVE_INFINITY,
  update: Number.POSITIVE_INFINITY,
} as const;

export const LIMITS = {
  /** Our cap for text and markdown (DingTalk documents no exact byte limit for robot messages). */
  textBytes: 4096,
  markdownBytes: 4096,
  /** sampleMarkdown.title is what the notification and the chat list show. */
  titleChars: 30,
  /** The card template has six rows and six button slots (docs/dingtalk-card.md). */
  rows: 6,
  buttons: 6,
  /** userIds of one batchSend (the API takes at most 20). */
  users: 20,
} as const;

export const TRUNCATION_NOTE = '\n…（已截断）';

export type DingtalkRenderErrorCode =
  | 'bad_user_id'
  | 'bad_card_id'
  | 'empty_title'
  | 'no_recipients'
  | 'too_many_recipients'
  | 'unknown_group'
  | 'image_unsupported';

export class DingtalkRenderError extends Error {
  constructor(
    readonly code: DingtalkRenderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DingtalkRenderError';
  }
}

/** What the adapter knows about a team group (`groupKey` is the team id). */
export interface DingtalkGroup {
  /** The team group's openConversationId (teams[].dingtalk), for cards and app robot messages. */
  openConversationId?: string;
  /** Whether the team has a custom robot (teams[].digest.robot.dingtalk); its secrets stay in config. */
  customRobot: boolean;
}

export interface DingtalkRenderOptions {
  robotCode: string;
  /** The card template's id; null: cards go as markdown (no buttons). */
  cardTemplateId: string | null;
  /** `HTTP` with our registered route key, or `STREAM`. */
  callback: { type: 'HTTP'; routeKey: string } | { type: 'STREAM' };
  group(groupKey: string): DingtalkGroup | undefined;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Cuts to at most `maxBytes` UTF-8 bytes including the note, at a code point boundary. */
export function truncateUtf8(text: string, maxBytes: number, note: string = TRUNCATION_NOTE): string {
  if (byteLength(text) <= maxBytes) return text;
  const budget = maxBytes - byteLength(note);
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

export function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** DingTalk user ids are digits and letters; a comma or space would widen or break a batch. */
function checkUserId(userId: string): void {
  if (!/^[A-Za-z0-9_\-@.$]{1,64}$/.test(userId)) {
    throw new DingtalkRenderError(
      'bad_user_id',
      `钉钉 userId 不合法: ${JSON.stringify(userId.slice(0, 70))}`,
    );
  }
}

function checkCardId(cardId: string): void {
  if (!/^[0-9A-Za-z_\-@.]{1,128}$/.test(cardId)) {
    throw new DingtalkRenderError(
      'bad_card_id',
      `卡片 ID 不能作为 outTrackId: ${JSON.stringify(cardId.slice(0, 40))}`,
    );
  }
}

/**
 * The domain writes WeCom-flavoured markdown (`<font color>`, single newlines). DingTalk's robot
 * markdown has no `<font color="info">` names and joins lines separated by a single newline, so the
 * colour tags are dropped (their text kept) and every single newline becomes a hard break.
 */
export function toDingtalkMarkdown(markdown: string): string {
  return markdown
    .replace(/<font\b[^>]*>/gi, '')
    .replace(/<\/font>/gi, '')
    .replace(/([^\n])\n(?!\n)/g, '$1  \n');
}

/** A short title for sampleMarkdown: the first line without markdown marks. */
export function markdownTitle(markdown: string): string {
  const first = markdown
    .split('\n')
    .map((l) =>
      l
        .replace(/<[^>]*>/g, '')
        .replace(/[#>*`_[\]]/g, '')
        .trim(),
    )
    .find((l) => l.length > 0);
  return truncateChars(first ?? '消息', LIMITS.titleChars);
}

/** A read-only view of a card in DingTalk markdown. */
export function renderCardAsMarkdown(card: CardModel): string {
  const lines = [`#### ${card.title}`];
  if (card.description) lines.push(card.description);
  if (card.emphasis) {
    const label = card.emphasis.label ? ` ${card.emphasis.label}` : '';
    lines.push(`**${card.emphasis.value}**${label}`);
  }
  for (const field of card.fields) lines.push(`${field.label}：${field.value}`);
  if (card.quote) lines.push(...card.quote.split('\n').map((line) => `> ${line}`));
  if (card.settled) lines.push(`**${card.settled}**`);
  return lines.join('\n');
}

/**
 * The card template's variables (docs/dingtalk-card.md), all strings as `cardParamMap` requires, in a
 * fixed order. Empty slots are sent too, so an update by key clears what the previous state showed.
 */
export function cardParamMap(card: CardModel): Record<string, string> {
  const title = card.title.trim();
  if (title.length === 0) throw new DingtalkRenderError('empty_title', '卡片标题不能为空');
  const rows = card.fields.filter((f) => f.label.trim().length > 0).slice(0, LIMITS.rows);
  const open = !card.settled && card.buttons.length > 0;
  const buttons = open ? card.buttons.slice(0, LIMITS.buttons) : [];
  const params: Record<string, string> = {
    template: card.template,
    title,
    description: card.description ?? '',
    emphasis: card.emphasis?.value ?? '',
    emphasisLabel: card.emphasis?.label ?? '',
    fields: rows.map((f) => `**${f.label}**：${f.value}`).join('\n'),
    quote: card.quote ?? '',
    markdown: toDingtalkMarkdown(
      renderCardAsMarkdown({ ...card, title, settled: undefined }).replace(/^#### .*\n?/, ''),
    ),
  };
  for (let i = 0; i < LIMITS.rows; i++) {
    params[`field${i + 1}Label`] = rows[i]?.label ?? '';
    params[`field${i + 1}Value`] = rows[i]?.value ?? '';
  }
  params.buttonCount = String(buttons.length);
  for (let i = 0; i < LIMITS.buttons; i++) {
    const b = buttons[i];
    params[`button${i + 1}Text`] = b?.text ?? '';
    params[`button${i + 1}Action`] = b?.actionId ?? '';
    params[`button${i + 1}Style`] = b?.style ?? '';
    params[`button${i + 1}Visible`] = b ? 'true' : 'false';
  }
  params.settled = card.settled ?? '';
  params.settledVisible = card.settled ? 'true' : 'false';
  params.status = card.settled ? 'settled' : 'open';
  return params;
}

function batchSend(robotCode: string, userIds: string[], msgKey: string, msgParam: object): RenderedRequest {
  return {
    api: DINGTALK_API.batchSend,
    ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.message,
    body: JSON.stringify({ robotCode, userIds, msgKey, msgParam: JSON.stringify(msgParam) }),
  };
}

function markdownParam(markdown: string) {
  const text = truncateUtf8(toDingtalkMarkdown(markdown), LIMITS.markdownBytes);
  return { title: markdownTitle(markdown), text };
}

function textParam(text: string) {
  return { content: truncateUtf8(text, LIMITS.textBytes) };
}

function toUser(
  message: Exclude<OutboundMessage, { kind: 'card_update' }>,
  userId: string,
  o: DingtalkRenderOptions,
) {
  checkUserId(userId);
  switch (message.kind) {
    case 'text':
      return batchSend(o.robotCode, [userId], 'sampleText', textParam(message.text));
    case 'markdown':
      return batchSend(o.robotCode, [userId], 'sampleMarkdown', markdownParam(message.markdown));
    case 'card':
      if (!o.cardTemplateId || message.card.buttons.length === 0 || message.card.settled) {
        return batchSend(
          o.robotCode,
          [userId],
          'sampleMarkdown',
          markdownParam(renderCardAsMarkdown(message.card)),
        );
      }
      return createCard(message.cardId, message.card, `dtv1.card//IM_ROBOT.${userId}`, 'robot', o);
    case 'image':
      throw new DingtalkRenderError('image_unsupported', '钉钉机器人单聊消息不支持直接发送图片');
  }
}

function createCard(
  cardId: string,
  card: CardModel,
  openSpaceId: string,
  space: 'robot' | 'group',
  o: DingtalkRenderOptions,
): RenderedRequest {
  checkCardId(cardId);
  const spaceModels =
    space === 'robot'
      ? {
          imRobotOpenSpaceModel: { supportForward: false },
          imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: o.robotCode },
        }
      : {
          imGroupOpenSpaceModel: { supportForward: false },
          imGroupOpenDeliverModel: { robotCode: o.robotCode },
        };
  const body = {
    cardTemplateId: o.cardTemplateId,
    outTrackId: cardId,
    callbackType: o.callback.type,
    ...(o.callback.type === 'HTTP' ? { callbackRouteKey: o.callback.routeKey } : {}),
    cardData: { cardParamMap: cardParamMap(card) },
    openSpaceId,
    userIdType: 1,
    ...spaceModels,
  };
  return {
    api: DINGTALK_API.createCard,
    ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.card,
    body: JSON.stringify(body),
  };
}

function toGroup(
  message: Exclude<OutboundMessage, { kind: 'card_update' }>,
  groupKey: string,
  o: DingtalkRenderOptions,
) {
  const group = o.group(groupKey);
  if (!group || (!group.customRobot && !group.openConversationId)) {
    throw new DingtalkRenderError(
      'unknown_group',
      `团队 ${groupKey} 没有配置钉钉群（teams[].dingtalk）或自定义机器人`,
    );
  }
  const viaRobot = (body: object): RenderedRequest => ({
    api: DINGTALK_API.customRobot,
    body: JSON.stringify(body),
    target: groupKey,
    ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.message,
  });
  const viaApp = (msgKey: string, msgParam: object): RenderedRequest => ({
    api: DINGTALK_API.groupSend,
    ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.message,
    body: JSON.stringify({
      robotCode: o.robotCode,
      openConversationId: group.openConversationId,
      msgKey,
      msgParam: JSON.stringify(msgParam),
    }),
  });
  switch (message.kind) {
    case 'text':
      return group.customRobot
        ? viaRobot({ msgtype: 'text', text: textParam(message.text) })
        : viaApp('sampleText', textParam(message.text));
    case 'markdown':
      return group.customRobot
        ? viaRobot({ msgtype: 'markdown', markdown: markdownParam(message.markdown) })
        : viaApp('sampleMarkdown', markdownParam(message.markdown));
    case 'card': {
      const interactive = o.cardTemplateId && message.card.buttons.length > 0 && !message.card.settled;
      if (interactive && group.openConversationId) {
        return createCard(
          message.cardId,
          message.card,
          `dtv1.card//IM_GROUP.${group.openConversationId}`,
          'group',
          o,
        );
      }
      const markdown = markdownParam(renderCardAsMarkdown(message.card));
      return group.openConversationId
        ? viaApp('sampleMarkdown', markdown)
        : viaRobot({ msgtype: 'markdown', markdown });
    }
    case 'image':
      // Custom robots post images only as links inside markdown; we do not host images.
      throw new DingtalkRenderError('image_unsupported', '钉钉自定义机器人不支持直接发送图片');
  }
}

function renderCardUpdate(
  message: Extract<OutboundMessage, { kind: 'card_update' }>,
  o: DingtalkRenderOptions,
) {
  checkCardId(message.cardId);
  if (o.cardTemplateId) {
    return {
      api: DINGTALK_API.updateCard,
      ambiguousRetryWindowMs: AMBIGUOUS_RETRY_WINDOW_MS.update,
      body: JSON.stringify({
        outTrackId: message.cardId,
        cardData: { cardParamMap: cardParamMap(message.card) },
        cardUpdateOptions: { updateCardDataByKey: true },
      }),
    };
  }
  // No card to update: tell the members the new state.
  const userIds = [...new Set(message.userIds)];
  userIds.forEach(checkUserId);
  if (userIds.length === 0) throw new DingtalkRenderError('no_recipients', '更新卡片的成员列表为空');
  if (userIds.length > LIMITS.users) {
    throw new DingtalkRenderError('too_many_recipients', `一次最多发给 ${LIMITS.users} 个成员`);
  }
  return batchSend(o.robotCode, userIds, 'sampleMarkdown', markdownParam(renderCardAsMarkdown(message.card)));
}

/** The DingTalk request for `message`. Throws `DingtalkRenderError` for messages DingTalk cannot carry. */
export function renderDingtalkMessage(
  message: OutboundMessage,
  options: DingtalkRenderOptions,
): RenderedRequest {
  if (message.kind === 'card_update') return renderCardUpdate(message, options);
  if (message.to.kind === 'group') return toGroup(message, message.to.groupKey, options);
  return toUser(message, message.to.userId, options);
}

/** A short, non-reversible name for a robot token in logs. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12);
}
