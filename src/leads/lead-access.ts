import { and, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import { leads } from '../db/schema';
import type { LeadDeps } from './lead-deps';
import type { LeadRow } from './lead-record';

/**
 * Who may write to a lead (RELIABILITY.md "Authorization"; issue 5): its owner, and the supervisor or
 * director of its team. Team membership lives in the config, so the rights become a condition in the
 * locking statement (`owner_id = ? OR team_id IN (…)`), with no gap between check and write.
 */
export function managedTeamIds(deps: Pick<LeadDeps, 'org'>, memberId: string): string[] {
  return deps.org.teams.filter((t) => t.supervisor === memberId || t.director === memberId).map((t) => t.id);
}

/**
 * `WHERE` condition: the member may write to the lead. A departed member (`active: false`) may write
 * to none, not even a lead still owned by them: the chat and card entry points refuse them first,
 * and this keeps every other caller of the domain actions (CLI, API, a future entry point) just as
 * safe (found by the authorization matrix, test/abuse/authorization-matrix.test.ts).
 */
export function writableBy(deps: Pick<LeadDeps, 'org'>, member: MemberConfig): SQL {
  if (!member.active) return sql`FALSE`;
  const managed = managedTeamIds(deps, member.id);
  return or(eq(leads.ownerId, member.id), managed.length > 0 ? inArray(leads.teamId, managed) : sql`FALSE`)!;
}

export function canWrite(deps: Pick<LeadDeps, 'org'>, member: MemberConfig, lead: LeadRow): boolean {
  return (
    member.active &&
    (lead.ownerId === member.id || (!!lead.teamId && managedTeamIds(deps, member.id).includes(lead.teamId)))
  );
}

/** The lead's owner or manager may act: the condition with the lead id, for a locking SELECT. */
export function writableLead(deps: Pick<LeadDeps, 'org'>, member: MemberConfig, leadId: number): SQL {
  return and(eq(leads.id, leadId), writableBy(deps, member))!;
}

/** The names of the people who may write to this lead, for a polite refusal: 负责人张伟、主管王芳. */
export function whoMayWrite(deps: Pick<LeadDeps, 'directory'>, lead: LeadRow, language: 'zh' | 'en'): string {
  const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
  const owner = lead.ownerId ? deps.directory.member(lead.ownerId) : undefined;
  const supervisor = team ? deps.directory.member(team.supervisor) : undefined;
  const director = team?.director ? deps.directory.member(team.director) : undefined;
  const parts =
    language === 'en'
      ? [
          owner && `the owner ${owner.name}`,
          supervisor && `supervisor ${supervisor.name}`,
          director && `director ${director.name}`,
        ]
      : [
          owner && `负责人${owner.name}`,
          supervisor && `主管${supervisor.name}`,
          director && `总监${director.name}`,
        ];
  const names = parts.filter((p): p is string => !!p);
  if (names.length === 0) return language === 'en' ? 'its team' : '所属团队';
  return names.join(language === 'en' ? ', ' : '、');
}
