/**
 * WeCom as a `ChatPlatform` (platforms/types.ts): render (render.ts), send (client.ts), pacing.
 *
 * Pacing (RELIABILITY.md outbound rule 4; the excess waits, it is never dropped):
 * - app messages to a member: 30 per minute and 1000 per hour per member per app (90236 / 90454:
 *   "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发": WeCom drops the excess
 *   silently, so this limit is the only protection);
 * - group robot: 20 per minute per robot (91770);
 * - card updates (94888): WeCom documents no per-member limit for update_template_card. We apply the
 *   member limits conservatively: an update for one member shares that member's budget; an update for
 *   several members is paced per card (`wecom:card:<cardId>`) with the same numbers, since one pacing
 *   rule has one target. The number of updates per card is bounded anyway: each consumes a
 *   single-use response_code.
 */
import type { WecomSettings } from '../../config/env';
import type { ChatPlatform, OutboundMessage, PacingRule, RenderedRequest, SendResult } from '../types';
import type { WecomClient } from './client';
import { renderWecomMessage, WECOM_API } from './render';

export interface WecomPlatformOptions {
  settings: Pick<WecomSettings, 'agentId'>;
  client: WecomClient;
  /**
   * The robot webhook key of a group (a secret), looked up at send time so it never sits in the
   * outbox. Undefined when the group has no robot (any more).
   */
  resolveRobotKey: (groupKey: string) => string | undefined;
}

/**
 * How much later than its claim a send may reach WeCom: the send deadline (WECOM_TIMEOUT_MS, 5 s by
 * default) and then some, since a request the platform holds may still be processed after we gave up.
 */
export const SEND_LATENESS_MARGIN_SECONDS = 15;

/**
 * 90454: per member per app, counted over the window plus the lateness margin. WeCom counts the
 * messages it processed in the last minute; we count the sends we claimed. A send claimed early in our
 * window but processed late (a slow answer) lands in WeCom's window together with sends claimed a
 * minute after it, and the 31st is dropped without a word (found by `npm run test:chaos` with a slow
 * emulator). Counting over 60 s + the margin makes our window cover every send WeCom can still count.
 */
export const MEMBER_LIMITS: PacingRule['limits'] = [
  { perSeconds: 60 + SEND_LATENESS_MARGIN_SECONDS, max: 30 },
  { perSeconds: 3600 + SEND_LATENESS_MARGIN_SECONDS, max: 1000 },
];
/** 91770: per robot. */
export const ROBOT_LIMITS: PacingRule['limits'] = [{ perSeconds: 60, max: 20 }];

const permanent = (code: string, message: string): SendResult => ({
  ok: false,
  outcome: 'permanent',
  code,
  message,
});

export function wecomPacing(message: OutboundMessage): PacingRule {
  if (message.kind === 'card_update') {
    const users = [...new Set(message.userIds)];
    if (users.length === 1) return { target: `wecom:user:${users[0]}`, limits: MEMBER_LIMITS };
    return { target: `wecom:card:${message.cardId}`, limits: MEMBER_LIMITS };
  }
  if (message.to.kind === 'group')
    return { target: `wecom:robot:${message.to.groupKey}`, limits: ROBOT_LIMITS };
  return { target: `wecom:user:${message.to.userId}`, limits: MEMBER_LIMITS };
}

export function createWecomPlatform(options: WecomPlatformOptions): ChatPlatform {
  const { settings, client, resolveRobotKey } = options;
  return {
    name: 'wecom',
    // The dedupe key is not put into the body as a field (an unknown JSON field might be refused by
    // WeCom): the card id makes every card unique, and text and markdown to a member carry an
    // invisible tag derived from the key, so WeCom's duplicate check (90236) never drops a second,
    // different message with the same words (render.ts `invisibleTag`).
    render: (message: OutboundMessage, options: { dedupeKey: string }): RenderedRequest =>
      renderWecomMessage(message, { agentId: settings.agentId, dedupeKey: options.dedupeKey }),
    async send(request: RenderedRequest): Promise<SendResult> {
      switch (request.api) {
        case WECOM_API.send:
          return client.sendMessage(request.body);
        case WECOM_API.updateCard:
          return client.updateTemplateCard(request.body);
        case WECOM_API.robot: {
          const key = request.target === undefined ? undefined : resolveRobotKey(request.target);
          if (!key) {
            return permanent(
              'robot_key_missing',
              `群 ${request.target ?? '（未指定）'} 没有配置群机器人 key（不会重试）`,
            );
          }
          return client.sendGroupRobot(key, request.body);
        }
        default:
          return permanent('unknown_api', `未知的企业微信接口 ${request.api}（不会重试）`);
      }
    },
    pacing: wecomPacing,
  };
}
