import type { PlatformName } from '../platforms/types';
import type { MemberConfig, OrgConfig, TeamConfig } from './org-types';

/**
 * Look-ups over the org config. Identity from a verified callback is a platform user id; everything
 * inside LeadRelay speaks member ids. WeCom userids are case-insensitive (WeCom normalises them), so
 * they are compared lower-cased; DingTalk staff ids exactly.
 */
export interface Directory {
  member(id: string): MemberConfig | undefined;
  team(id: string): TeamConfig | undefined;
  memberByPlatformUser(platform: PlatformName, userId: string): MemberConfig | undefined;
  teamsOf(memberId: string): TeamConfig[];
  /** The platform and user id a message to this member goes to, among the enabled platforms. */
  addressOf(
    member: MemberConfig,
    enabled: ReadonlySet<PlatformName>,
  ): { platform: PlatformName; userId: string } | null;
  /**
   * Where a card offered to a whole team can be posted once, in the team's group chat: only on a
   * platform whose group cards call back (DingTalk; WeCom group robots carry no buttons). Null when
   * the team has no such group on an enabled platform.
   */
  cardGroupOf(
    team: TeamConfig,
    enabled: ReadonlySet<PlatformName>,
  ): { platform: PlatformName; groupKey: string } | null;
  sourceName(sourceId: string): string;
}

export function createDirectory(org: OrgConfig): Directory {
  const members = new Map(org.members.map((m) => [m.id, m]));
  const teams = new Map(org.teams.map((t) => [t.id, t]));
  const byPlatform = new Map<string, MemberConfig>();
  for (const m of org.members) {
    if (m.platforms.wecom) byPlatform.set(`wecom:${m.platforms.wecom.toLowerCase()}`, m);
    if (m.platforms.dingtalk) byPlatform.set(`dingtalk:${m.platforms.dingtalk}`, m);
  }
  const sources = new Map(org.sources.map((s) => [s.id, s.name]));
  return {
    member: (id) => members.get(id),
    team: (id) => teams.get(id),
    memberByPlatformUser: (platform, userId) =>
      byPlatform.get(`${platform}:${platform === 'wecom' ? userId.toLowerCase() : userId}`),
    teamsOf: (memberId) =>
      org.teams.filter(
        (t) => t.members.includes(memberId) || t.supervisor === memberId || t.director === memberId,
      ),
    addressOf(member, enabled) {
      if (member.platforms.wecom && enabled.has('wecom'))
        return { platform: 'wecom', userId: member.platforms.wecom };
      if (member.platforms.dingtalk && enabled.has('dingtalk')) {
        return { platform: 'dingtalk', userId: member.platforms.dingtalk };
      }
      return null;
    },
    cardGroupOf: (team, enabled) =>
      team.dingtalk && enabled.has('dingtalk') ? { platform: 'dingtalk', groupKey: team.id } : null,
    sourceName: (sourceId) => sources.get(sourceId) ?? sourceId,
  };
}
