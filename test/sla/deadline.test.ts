import { parseOrgConfig } from '../../src/config/load-org-config';
import { createDirectory } from '../../src/config/members';
import { createManualClock } from '../../src/lib/clock';
import { createAssignmentWiring } from '../../src/sla/assignment-wiring';

/**
 * Business-hours SLA clocks as the assignment action places them: the team's calendar (office hours
 * with a lunch break, weekends off, the State Council's 2026 holidays and 调休 days) decides when a
 * "1 hour" claim window ends. Asia/Shanghai is UTC+8, so 09:30 local is 01:30Z.
 */
const org = parseOrgConfig(
  JSON.stringify({
    members: [
      { id: 'sup', name: '主管', platforms: { wecom: 'Sup' } },
      { id: 'rep', name: '销售', platforms: { wecom: 'Rep' } },
    ],
    teams: [
      { id: 'east', name: '华东', supervisor: 'sup', members: ['rep'], calendar: 'office' },
      { id: 'west', name: '西区', supervisor: 'sup', members: ['rep'] },
    ],
    sources: [],
    calendars: {
      office: {
        workingHours: [
          { days: [1, 2, 3, 4, 5], from: '09:00', to: '12:00' },
          { days: [1, 2, 3, 4, 5], from: '13:30', to: '18:00' },
        ],
        holidaysPreset: 'cn',
      },
    },
  }),
  'deadline-test.json',
  {},
);

function deadlineFrom(
  localStart: string,
  ms: number,
  teamId = 'east',
  clock: 'wall' | 'business' = 'business',
) {
  const manual = createManualClock(`${localStart}+08:00`);
  const wiring = createAssignmentWiring({ org, directory: createDirectory(org), clock: manual });
  return wiring.deadline(teamId, clock, ms);
}

const HOUR = 3_600_000;

describe('business-hours deadlines', () => {
  it('carries the rest of a claim window over the weekend: Friday 17:30 + 1 h → Monday 09:30', () => {
    expect(deadlineFrom('2026-11-20T17:30:00', HOUR)).toEqual(new Date('2026-11-23T01:30:00Z'));
  });

  it('skips the lunch break: 11:30 + 1 h → 14:00', () => {
    expect(deadlineFrom('2026-11-24T11:30:00', HOUR)).toEqual(new Date('2026-11-24T06:00:00Z'));
  });

  it('works the 调休 Saturday after National Day: Friday 2026-10-09 17:30 + 1 h → Saturday 10-10 09:30', () => {
    expect(deadlineFrom('2026-10-09T17:30:00', HOUR)).toEqual(new Date('2026-10-10T01:30:00Z'));
  });

  it('skips the National Day holiday: 2026-09-30 17:30 + 1 h → 2026-10-08 09:30', () => {
    expect(deadlineFrom('2026-09-30T17:30:00', HOUR)).toEqual(new Date('2026-10-08T01:30:00Z'));
  });

  it('counts wall time from the database clock for wall-clock policies and teams without a calendar', () => {
    expect(deadlineFrom('2026-11-20T17:30:00', HOUR, 'east', 'wall')).toEqual({ inMs: HOUR });
    expect(deadlineFrom('2026-11-20T17:30:00', HOUR, 'west', 'business')).toEqual({ inMs: HOUR });
  });
});
