import type { OrgConfig } from '../config/org-types';
import { type BusinessCalendar, createBusinessCalendar } from './business-calendar';

type CalendarSource = Pick<OrgConfig, 'timezone' | 'teams' | 'calendars'>;

/**
 * The business calendar of a team, read in the calendar's timezone, else the team's, else the org's;
 * undefined when the team names no calendar. Build it once per config load and keep it: it is
 * immutable, and building it reads the holiday lists. SLA code then asks
 * `clockFor(policy.clock, calendarForTeam(config, teamId))`.
 */
export function calendarForTeam(config: CalendarSource, teamId: string): BusinessCalendar | undefined {
  const team = config.teams.find((t) => t.id === teamId);
  if (!team) throw new Error(`团队 "${teamId}" 不存在`);
  if (team.calendar === undefined) return undefined;
  const calendar = config.calendars?.[team.calendar];
  // checkCalendars rejects a dangling reference, so this is a config that skipped the checks.
  if (!calendar) throw new Error(`团队 "${teamId}" 的日历 "${team.calendar}" 未在 calendars 中定义`);
  return createBusinessCalendar(calendar, team.timezone ?? config.timezone);
}
