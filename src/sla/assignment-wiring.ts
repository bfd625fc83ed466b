import type { BusinessCalendar } from '../calendar/business-calendar';
import { calendarForTeam } from '../calendar/team-clock';
import type { Directory } from '../config/members';
import type { OrgConfig } from '../config/org-types';
import type { ChooseAssignee, ChooseAssignees } from '../leads/assign-lead';
import type { LeadRow } from '../leads/lead-record';
import type { Clock } from '../lib/clock';
import { chooseAssignee, chooseAssignees } from '../routing/choose-assignee';
import type { DeadlineFn } from './lead-timers';

/**
 * The routing decision and the SLA clock as the assignment action needs them, built once per config
 * load (calendars are immutable).
 *
 * A policy on business time for a team without a calendar counts wall time: a deployment that has
 * not described its working hours yet should still escalate, not stall.
 */
export function createAssignmentWiring(input: { org: OrgConfig; directory: Directory; clock: Clock }): {
  chooseAssignee: ChooseAssignee;
  chooseAssignees: ChooseAssignees;
  deadline: DeadlineFn;
} {
  const calendars = new Map<string, BusinessCalendar | undefined>(
    input.org.teams.map((t) => [t.id, calendarForTeam(input.org, t.id)]),
  );
  const routingDeps = {
    org: input.org,
    directory: input.directory,
    isWorkingTime: (teamId: string, at: Date) => calendars.get(teamId)?.isWorkingTime(at) ?? true,
  };
  const toRoute = (lead: LeadRow) => ({
    id: lead.id,
    province: lead.province,
    city: lead.city,
    industry: lead.industry,
    source: lead.sourceId,
    campaign: lead.campaign,
    grade: lead.grade,
    custom: lead.custom,
    companyKey: lead.companyKey,
  });
  const plain = (chosen: Awaited<ReturnType<typeof chooseAssignee>>) => ({
    teamId: chosen.teamId,
    memberId: chosen.memberId,
    reason: chosen.reason,
    ...(chosen.rule ? { rule: chosen.rule } : {}),
  });
  return {
    chooseAssignees: async (tx, batch, now) =>
      (await chooseAssignees(tx, routingDeps, batch.map(toRoute), now)).map(plain),
    chooseAssignee: async (tx, lead, options) => {
      const chosen = await chooseAssignee(
        tx,
        routingDeps,
        {
          id: lead.id,
          province: lead.province,
          city: lead.city,
          industry: lead.industry,
          source: lead.sourceId,
          campaign: lead.campaign,
          grade: lead.grade,
          custom: lead.custom,
          companyKey: lead.companyKey,
        },
        options.now,
        { excludeMemberIds: options.exclude },
      );
      return {
        teamId: chosen.teamId,
        memberId: chosen.memberId,
        reason: chosen.reason,
        ...(chosen.rule ? { rule: chosen.rule } : {}),
      };
    },
    deadline: (teamId, clock, ms) => {
      const calendar = teamId ? calendars.get(teamId) : undefined;
      if (clock === 'wall' || !calendar) return { inMs: ms };
      return calendar.addBusinessTime(input.clock.now(), ms);
    },
  };
}
