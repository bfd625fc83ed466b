/**
 * Normalises DingTalk callbacks to `InboundEvent`s. The same JSON arrives over HTTP and as the `data`
 * of a Stream frame, so both transports share these parsers.
 *
 * The robot callback's signature does not cover the body (PLATFORMS.md), so the body is untrusted
 * input: zod checks its shape, and the only identity taken from it is `senderStaffId` of a message
 * that passed the header signature (or arrived over our own authenticated Stream connection).
 * Dedupe keys (inbox unique, RELIABILITY.md inbound rule 5): robot messages by `msgId`; card clicks,
 * which carry no id of their own, by card + clicker + action, so a re-pushed Stream frame or a
 * repeated HTTP delivery of the same click maps to one event (a double click is one action).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InboundEvent } from '../types';
import { DINGTALK_UPDATE_TOKEN } from './client';

const MAX_EVENT_ID_LENGTH = 191;

function eventId(parts: string[]): string {
  const id = parts.join(':');
  return id.length <= MAX_EVENT_ID_LENGTH
    ? id
    : `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** 机器人接收消息: the fields we read; anything else DingTalk adds is allowed and ignored. */
export const robotMessageSchema = z.looseObject({
  msgId: z.string().min(1).max(128),
  msgtype: z.string().min(1).max(32),
  // Milliseconds; bounded so `new Date(createAt)` is always a valid date (8.64e15 is its limit).
  createAt: z.number().int().nonnegative().max(8_640_000_000_000_000),
  conversationType: z.enum(['1', '2']),
  conversationId: z.string().max(256).optional(),
  senderStaffId: z.string().max(128).optional(),
  senderNick: z.string().max(256).optional(),
  robotCode: z.string().max(128).optional(),
  text: z.looseObject({ content: z.string().max(20_000) }).optional(),
});
export type RobotMessage = z.infer<typeof robotMessageSchema>;

/** 卡片回传请求 (`/v1.0/card/instances/callback`): `content` is itself a JSON string. */
export const cardCallbackSchema = z.looseObject({
  outTrackId: z.string().min(1).max(128),
  userId: z.string().min(1).max(128),
  corpId: z.string().max(128).optional(),
  type: z.string().max(64).optional(),
  content: z.string().max(32_000),
});
export type CardCallback = z.infer<typeof cardCallbackSchema>;

const cardContentSchema = z.looseObject({
  cardPrivateData: z.looseObject({
    actionIds: z.array(z.string().max(128)).max(16).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
});

export function robotMessageEvent(message: RobotMessage, robotCode: string): InboundEvent {
  const at = new Date(message.createAt);
  const userId = message.senderStaffId ?? '';
  const ignored = (reason: string): InboundEvent => ({
    platform: 'dingtalk',
    kind: 'ignored',
    eventId: message.msgId,
    userId,
    at,
    reason,
  });
  if (message.robotCode && message.robotCode !== robotCode)
    return ignored(`发给其他机器人 ${message.robotCode}`);
  // External contacts and other orgs' users have no staff id: they are not our members.
  if (!userId) return ignored('消息没有 senderStaffId（非本企业成员）');
  if (message.msgtype !== 'text' || !message.text) return ignored(`不处理的消息类型 ${message.msgtype}`);
  return {
    platform: 'dingtalk',
    kind: 'text',
    eventId: message.msgId,
    userId,
    at,
    // In a group DingTalk leaves a space where the @robot mention was.
    text: message.text.content.trim(),
  };
}

/**
 * The action of a click: our template's buttons send 回传参数 `action` (docs/dingtalk-card.md);
 * a template whose button components are themselves named after our action ids works too
 * (`actionIds[0]`).
 */
export function cardCallbackEvent(callback: CardCallback, at: Date): InboundEvent {
  let content: unknown;
  try {
    content = JSON.parse(callback.content);
  } catch {
    content = undefined;
  }
  const parsed = cardContentSchema.safeParse(content);
  const ignored = (reason: string): InboundEvent => ({
    platform: 'dingtalk',
    kind: 'ignored',
    eventId: eventId(['card', callback.outTrackId, callback.userId, 'invalid']),
    userId: callback.userId,
    at,
    reason,
  });
  if (!parsed.success) return ignored('卡片回调的 content 不是 cardPrivateData JSON');
  const data = parsed.data.cardPrivateData;
  const param = data.params?.action;
  const actionId = typeof param === 'string' && param.length > 0 ? param : data.actionIds?.[0];
  if (!actionId || actionId.length > 128) return ignored('卡片回调没有 action');
  return {
    platform: 'dingtalk',
    kind: 'card_action',
    eventId: eventId(['card', callback.outTrackId, callback.userId, actionId]),
    userId: callback.userId,
    at,
    cardId: callback.outTrackId,
    actionId,
    updateToken: DINGTALK_UPDATE_TOKEN,
  };
}

/** An event subscription event (事件订阅): acknowledged and recorded, nothing acts on it yet. */
export function subscriptionEvent(plaintext: string, at: Date): InboundEvent {
  let type = '（未知）';
  try {
    const body = JSON.parse(plaintext) as { EventType?: unknown };
    if (typeof body.EventType === 'string') type = body.EventType.slice(0, 64);
  } catch {
    // not JSON: recorded as unreadable
  }
  return {
    platform: 'dingtalk',
    kind: 'ignored',
    eventId: `event:${createHash('sha256').update(plaintext, 'utf8').digest('hex')}`,
    userId: '',
    at,
    reason: `不处理的事件 ${type}`,
  };
}
