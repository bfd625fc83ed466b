/**
 * Normalises a decrypted WeCom callback (the flat field map from `parseWecomXml`) to an `InboundEvent`.
 *
 * Event ids are the inbox dedupe key (RELIABILITY.md inbound rule 5) and follow PLATFORMS.md: plain
 * messages by `MsgId` (90239), events by `FromUserName` + `CreateTime` (+ task id / event key). WeCom
 * retries a callback with the same MsgId/CreateTime (90238), so a retry maps to the same id.
 *
 * Identity comes only from the verified callback (RELIABILITY.md authorization rule 1): `FromUserName`
 * for messages and card clicks, `UserID` for external-contact events (whose FromUserName is `sys`).
 */
import { createHash } from 'node:crypto';
import type { InboundEvent } from '../types';

/** `inbox_events.event_id` is varchar(191); longer ids (button keys may be 1024 bytes) are hashed. */
const MAX_EVENT_ID_LENGTH = 191;

function eventId(parts: string[]): string {
  const id = parts.join(':');
  if (id.length <= MAX_EVENT_ID_LENGTH) return id;
  return `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** 90238: CreateTime is whole seconds since the epoch. */
function createdAt(createTime: string | undefined): Date | undefined {
  if (createTime === undefined || !/^\d{1,12}$/.test(createTime)) return undefined;
  return new Date(Number(createTime) * 1000);
}

const field = (fields: Record<string, string>, name: string): string => {
  // The map from parseWecomXml has a null prototype; a plain object from elsewhere must not leak
  // Object.prototype members as fields.
  return Object.hasOwn(fields, name) ? (fields[name] ?? '') : '';
};

/**
 * 92130 (客户联系 change_external_contact): `add_external_contact` (a member added a customer) and
 * `add_half_external_contact` (the customer added a member who has 免验证 on; WeCom counts the contact
 * as existing before the member confirms). Both mean a new customer contact.
 */
const CONTACT_ADDED_CHANGE_TYPES = new Set(['add_external_contact', 'add_half_external_contact']);

export function toInboundEvent(fields: Record<string, string>): InboundEvent {
  const from = field(fields, 'FromUserName');
  const createTime = field(fields, 'CreateTime');
  const msgType = field(fields, 'MsgType');
  const event = field(fields, 'Event');
  const at = createdAt(createTime);
  const msgId = field(fields, 'MsgId');

  const ignored = (reason: string, userId = from): InboundEvent => ({
    platform: 'wecom',
    kind: 'ignored',
    // Messages keep their MsgId so a retried delivery is still recognised as the same one.
    eventId: msgId ? eventId([msgId]) : eventId([userId, createTime, msgType, event]),
    userId,
    at: at ?? new Date(0),
    reason,
  });

  if (!at) return ignored('CreateTime 缺失或不是整数秒');

  if (msgType === 'text') {
    if (!from) return ignored('文本消息缺少 FromUserName');
    if (!msgId) return ignored('文本消息缺少 MsgId');
    return {
      platform: 'wecom',
      kind: 'text',
      // A 64-bit integer from WeCom; hashed like any id that would not fit the inbox key.
      eventId: eventId([msgId]),
      userId: from,
      at,
      text: field(fields, 'Content'),
    };
  }

  if (msgType !== 'event') return ignored(`不处理的消息类型 ${msgType || '（空）'}`);

  if (event === 'template_card_event') {
    // 90240: the clicker, the button key, the card's task_id and a fresh single-use response_code.
    const taskId = field(fields, 'TaskId');
    const eventKey = field(fields, 'EventKey');
    if (!from || !taskId || !eventKey) return ignored('卡片事件缺少 FromUserName、TaskId 或 EventKey');
    const responseCode = field(fields, 'ResponseCode');
    return {
      platform: 'wecom',
      kind: 'card_action',
      eventId: eventId([from, createTime, taskId, eventKey]),
      userId: from,
      at,
      cardId: taskId,
      actionId: eventKey,
      ...(responseCode ? { updateToken: responseCode } : {}),
    };
  }

  if (event === 'change_external_contact') {
    const changeType = field(fields, 'ChangeType');
    const member = field(fields, 'UserID');
    const external = field(fields, 'ExternalUserID');
    if (!CONTACT_ADDED_CHANGE_TYPES.has(changeType)) {
      return ignored(`不处理的客户联系变更 ${changeType || '（空）'}`, member || from);
    }
    if (!member || !external) return ignored('添加客户事件缺少 UserID 或 ExternalUserID', member || from);
    return {
      platform: 'wecom',
      kind: 'contact_added',
      // FromUserName is `sys` for every such event: the member and the customer make the id unique.
      eventId: eventId([member, createTime, changeType, external]),
      userId: member,
      at,
      externalContactId: external,
    };
  }

  return ignored(`不处理的事件 ${event || '（空）'}`);
}
