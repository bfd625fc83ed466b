/**
 * DingTalk as a `ChatPlatform` (platforms/types.ts): render (render.ts), send (client.ts), pacing.
 *
 * Pacing (RELIABILITY.md outbound rule 4; the excess waits, it is never dropped):
 * - the custom group robot: 20 messages a minute, documented, or DingTalk throttles it for ten minutes
 *   (errcode 130101) — `dingtalk:robot:<team>`;
 * - the app robot and cards into a team group: 20 a minute per group — `dingtalk:group:<team>`;
 * - robot messages and cards to one member: 20 a minute and 500 an hour per member —
 *   `dingtalk:user:<userId>`;
 * - card updates: 20 a minute per card — `dingtalk:card:<cardId>`.
 * DingTalk documents per-app QPS limits for its v1.0 APIs (answered with 403
 * Forbidden.AccessDenied.QpsLimit…, retried by the client) but no per-recipient numbers for robot
 * messages; the member and group numbers are ours, chosen like the documented custom robot limit so
 * a member's chat cannot be flooded.
 */
import type { DingtalkSettings } from '../../config/env';
import type { ChatPlatform, OutboundMessage, PacingRule, RenderedRequest, SendResult } from '../types';
import type { DingtalkClient } from './client';
import { DINGTALK_API, type DingtalkGroup, renderDingtalkMessage } from './render';

export const ROBOT_LIMITS: PacingRule['limits'] = [{ perSeconds: 60, max: 20 }];
export const GROUP_LIMITS: PacingRule['limits'] = [{ perSeconds: 60, max: 20 }];
export const MEMBER_LIMITS: PacingRule['limits'] = [
  { perSeconds: 60, max: 20 },
  { perSeconds: 3600, max: 500 },
];
export const CARD_UPDATE_LIMITS: PacingRule['limits'] = [{ perSeconds: 60, max: 20 }];

export interface DingtalkTeamGroup {
  openConversationId?: string;
  /** The custom robot (teams[].digest.robot.dingtalk), read at send time: it never sits in the outbox. */
  robot?: { accessToken: string; secret: string };
}

export interface DingtalkPlatformOptions {
  settings: Pick<DingtalkSettings, 'robotCode' | 'cardTemplateId' | 'mode' | 'callbackRouteKey'>;
  client: DingtalkClient;
  /** The team group of a `groupKey` (a team id), or undefined when the team has none. */
  resolveGroup: (groupKey: string) => DingtalkTeamGroup | undefined;
}

const permanent = (code: string, message: string): SendResult => ({
  ok: false,
  outcome: 'permanent',
  code,
  message,
});

export function createDingtalkPlatform(options: DingtalkPlatformOptions): ChatPlatform {
  const { settings, client, resolveGroup } = options;
  const group = (groupKey: string): DingtalkGroup | undefined => {
    const found = resolveGroup(groupKey);
    if (!found) return undefined;
    return {
      ...(found.openConversationId ? { openConversationId: found.openConversationId } : {}),
      customRobot: !!found.robot,
    };
  };
  const renderOptions = {
    robotCode: settings.robotCode,
    cardTemplateId: settings.cardTemplateId,
    callback:
      settings.mode === 'stream'
        ? ({ type: 'STREAM' } as const)
        : ({ type: 'HTTP', routeKey: settings.callbackRouteKey } as const),
    group,
  };

  function pacing(message: OutboundMessage): PacingRule {
    if (message.kind === 'card_update') {
      if (settings.cardTemplateId)
        return { target: `dingtalk:card:${message.cardId}`, limits: CARD_UPDATE_LIMITS };
      const users = [...new Set(message.userIds)];
      return users.length === 1
        ? { target: `dingtalk:user:${users[0]}`, limits: MEMBER_LIMITS }
        : { target: `dingtalk:card:${message.cardId}`, limits: MEMBER_LIMITS };
    }
    if (message.to.kind === 'user')
      return { target: `dingtalk:user:${message.to.userId}`, limits: MEMBER_LIMITS };
    const key = message.to.groupKey;
    // Must agree with render.ts: text and markdown take the custom robot when there is one.
    const viaRobot = message.kind !== 'card' && !!resolveGroup(key)?.robot;
    return viaRobot
      ? { target: `dingtalk:robot:${key}`, limits: ROBOT_LIMITS }
      : { target: `dingtalk:group:${key}`, limits: GROUP_LIMITS };
  }

  return {
    name: 'dingtalk',
    render: (message: OutboundMessage, _options: { dedupeKey: string }): RenderedRequest =>
      renderDingtalkMessage(message, renderOptions),
    async send(request: RenderedRequest): Promise<SendResult> {
      if (request.api === DINGTALK_API.customRobot) {
        const robot = request.target === undefined ? undefined : resolveGroup(request.target)?.robot;
        if (!robot) {
          return permanent(
            'robot_missing',
            `团队 ${request.target ?? '（未指定）'} 没有配置钉钉自定义机器人（不会重试）`,
          );
        }
        return client.sendCustomRobot(robot, request.body);
      }
      return client.callApi(request.api, request.body);
    },
    pacing,
  };
}
