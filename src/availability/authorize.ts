import type { Directory } from '../config/members';
import type { MemberConfig } from '../config/org-types';
import { AppError, forbidden, notFound } from '../lib/errors';

/**
 * Who is changing a member's availability. Members come from a verified identity (a chat callback,
 * RELIABILITY.md "Authorization" 1); `admin` is the admin API key or the command line.
 */
export type AvailabilityActor = { kind: 'member'; memberId: string } | { kind: 'admin'; via: 'api' | 'cli' };

/** What `member_availability.set_by` records: a member id, or `admin:api` / `admin:cli`. */
export function actorLabel(actor: AvailabilityActor): string {
  // Member ids cannot contain ':', so an admin label never reads as a member.
  return actor.kind === 'admin' ? `admin:${actor.via}` : actor.memberId;
}

/**
 * The member whose availability may be changed by `actor`, or an error: 404 for an unknown member,
 * 409 for a departed one, 403 unless the actor is the member, the supervisor or director of a team
 * the member belongs to, or an admin. Team membership lives in the config, not in a table, so this
 * is a check in code before the write rather than a condition in the statement; the write that
 * follows touches only this member's row.
 */
export function authorizeAvailabilityChange(
  directory: Directory,
  actor: AvailabilityActor,
  memberId: string,
): MemberConfig {
  const member = directory.member(memberId);
  if (!member) throw notFound(`成员 "${memberId}" 不存在`);
  if (!member.active)
    throw new AppError(409, 'member_inactive', `成员 "${memberId}" 已停用，不能设置离开状态`);
  if (actor.kind === 'admin' || actor.memberId === memberId) return member;
  const self = directory.member(actor.memberId);
  if (!self?.active) throw forbidden('只有在职成员可以设置离开状态');
  const leads = directory
    .teamsOf(memberId)
    .some(
      (team) =>
        (team.members.includes(memberId) && team.supervisor === actor.memberId) ||
        team.director === actor.memberId,
    );
  if (!leads) throw forbidden(`只有 ${member.name} 本人或其主管、总监可以设置其离开状态`);
  return member;
}
