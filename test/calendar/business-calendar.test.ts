import {
  type BusinessCalendar,
  clockFor,
  createBusinessCalendar,
  wallClock,
} from '../../src/calendar/business-calendar';
import { STANDARD_OFFICE_HOURS } from '../../src/calendar/cn-holidays';
import { calendarForTeam } from '../../src/calendar/team-clock';
import type { CalendarConfig } from '../../src/config/sections/calendars';

/**
 * Every expected instant below is worked out by hand in the comment next to it. The office day is
 * 09:00–12:00 + 13:30–18:00 = 3 h + 4.5 h = 7.5 h, Monday to Friday, Asia/Shanghai (UTC+8, no DST).
 * March 2026: Sunday the 1st, so Tue 3, Fri 6, Sat 7, Mon 9.
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 7.5 * HOUR; // one business day of the office calendar

/** A Shanghai wall time, `YYYY-MM-DD HH:MM[:SS.mmm]`. */
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}+08:00`);

const office: CalendarConfig = { workingHours: [...STANDARD_OFFICE_HOURS] };
const plain = createBusinessCalendar(office, 'Asia/Shanghai');
const china = createBusinessCalendar({ ...office, holidaysPreset: 'cn' }, 'Asia/Shanghai');

describe('working hours', () => {
  it.each([
    ['2026-03-03 08:59:59.999', false],
    ['2026-03-03 09:00', true], // start inclusive
    ['2026-03-03 11:59:59.999', true],
    ['2026-03-03 12:00', false], // end exclusive: lunch
    ['2026-03-03 13:29:59.999', false],
    ['2026-03-03 13:30', true],
    ['2026-03-03 17:59:59.999', true],
    ['2026-03-03 18:00', false],
    ['2026-03-03 23:30', false],
    ['2026-03-07 10:00', false], // Saturday
    ['2026-03-08 10:00', false], // Sunday
  ])('%s is working time: %s', (local, expected) => {
    expect(plain.isWorkingTime(sh(local))).toBe(expected);
  });

  it('finds the next working instant, or the instant itself', () => {
    expect(plain.nextWorkingTime(sh('2026-03-03 10:15'))).toEqual(sh('2026-03-03 10:15'));
    expect(plain.nextWorkingTime(sh('2026-03-03 07:00'))).toEqual(sh('2026-03-03 09:00'));
    expect(plain.nextWorkingTime(sh('2026-03-03 12:00'))).toEqual(sh('2026-03-03 13:30'));
    // Friday 18:00 → Monday 09:00.
    expect(plain.nextWorkingTime(sh('2026-03-06 18:00'))).toEqual(sh('2026-03-09 09:00'));
  });
});

describe('addBusinessTime', () => {
  it('skips the lunch break', () => {
    // 11:30–12:00 is 30 min, the other 30 min run 13:30–14:00.
    expect(plain.addBusinessTime(sh('2026-03-03 11:30'), HOUR)).toEqual(sh('2026-03-03 14:00'));
    // Using up the morning exactly ends at 12:00, not at 13:30.
    expect(plain.addBusinessTime(sh('2026-03-03 11:00'), HOUR)).toEqual(sh('2026-03-03 12:00'));
    // Starting in the break: the clock starts at 13:30.
    expect(plain.addBusinessTime(sh('2026-03-03 12:20'), 15 * MINUTE)).toEqual(sh('2026-03-03 13:45'));
  });

  it('skips the night', () => {
    // Tue 17:00–18:00 is 1 h; the second hour is Wed 09:00–10:00.
    expect(plain.addBusinessTime(sh('2026-03-03 17:00'), 2 * HOUR)).toEqual(sh('2026-03-04 10:00'));
  });

  it('skips the weekend', () => {
    // Fri 16:00–18:00 is 2 h; Mon 09:00 + 2 h = 11:00.
    expect(plain.addBusinessTime(sh('2026-03-06 16:00'), 4 * HOUR)).toEqual(sh('2026-03-09 11:00'));
    // Starting on Saturday: the clock starts Monday 09:00.
    expect(plain.addBusinessTime(sh('2026-03-07 10:00'), 30 * MINUTE)).toEqual(sh('2026-03-09 09:30'));
  });

  it('returns the start itself for 0, and a new Date', () => {
    const start = sh('2026-03-07 10:00');
    const result = plain.addBusinessTime(start, 0);
    expect(result).toEqual(start);
    expect(result).not.toBe(start);
  });

  it('adds whole business days', () => {
    // Tue 10:00 + 7.5 h = Wed 10:00; + 5 × 7.5 h = next Tue 10:00 (over the weekend).
    expect(plain.addBusinessTime(sh('2026-03-03 10:00'), DAY)).toEqual(sh('2026-03-04 10:00'));
    expect(plain.addBusinessTime(sh('2026-03-03 10:00'), 5 * DAY)).toEqual(sh('2026-03-10 10:00'));
  });

  it('counts backwards for a negative duration', () => {
    // Tue 14:00 − 1 h: 13:30–14:00 is 30 min, then 11:30–12:00.
    expect(plain.addBusinessTime(sh('2026-03-03 14:00'), -HOUR)).toEqual(sh('2026-03-03 11:30'));
    // Mon 10:00 − 2 h: Mon 09:00–10:00, then Fri 17:00–18:00.
    expect(plain.addBusinessTime(sh('2026-03-09 10:00'), -2 * HOUR)).toEqual(sh('2026-03-06 17:00'));
  });

  it('rejects a non-finite duration', () => {
    expect(() => plain.addBusinessTime(sh('2026-03-03 10:00'), Number.NaN)).toThrow(RangeError);
  });
});

describe('Chinese public holidays and 调休 (2026 State Council notice)', () => {
  it.each([
    ['2026-01-01 10:00', false], // 元旦, Thursday
    ['2026-01-04 10:00', true], // Sunday worked for 元旦
    ['2026-02-13 10:00', true], // Friday before the Spring Festival
    ['2026-02-14 10:00', true], // Saturday worked for 春节
    ['2026-02-16 10:00', false], // 春节, Monday
    ['2026-02-23 10:00', false], // 春节, last day, Monday
    ['2026-02-24 10:00', true], // back at work, Tuesday
    ['2026-02-28 10:00', true], // Saturday worked for 春节
    ['2026-02-21 10:00', false], // an ordinary-looking Saturday inside the holiday
    ['2026-09-20 10:00', true], // Sunday worked for 国庆节
    ['2026-09-25 10:00', false], // 中秋节, Friday
    ['2026-10-01 10:00', false], // 国庆节
    ['2026-10-08 10:00', true], // Thursday after 国庆节
    ['2026-10-10 10:00', true], // Saturday worked for 国庆节
    ['2026-10-10 12:30', false], // with the lunch break of a normal weekday
  ])('%s is working time: %s', (local, expected) => {
    expect(china.isWorkingTime(sh(local))).toBe(expected);
  });

  it('adds three business days across the Spring Festival, counting the 调休 Saturday', () => {
    // Fri 02-13 10:00–18:00 = 2 h + 4.5 h = 6.5 h (16 h left);
    // Sat 02-14 (调休) 7.5 h (8.5 h left); Sun 02-15 … Mon 02-23 off;
    // Tue 02-24 7.5 h (1 h left); Wed 02-25 09:00 + 1 h = 10:00.
    expect(china.addBusinessTime(sh('2026-02-13 10:00'), 3 * DAY)).toEqual(sh('2026-02-25 10:00'));
    // Without the holidays it is Wed 02-18 10:00 (Fri 6.5 h, Mon 7.5 h, Tue 7.5 h, Wed 1 h).
    expect(plain.addBusinessTime(sh('2026-02-13 10:00'), 3 * DAY)).toEqual(sh('2026-02-18 10:00'));
  });

  it('works the second 调休 Saturday of the Spring Festival', () => {
    // Fri 02-27 17:00–18:00 = 1 h; Sat 02-28 09:00 + 1 h = 10:00.
    expect(china.addBusinessTime(sh('2026-02-27 17:00'), 2 * HOUR)).toEqual(sh('2026-02-28 10:00'));
  });

  it('adds across the National Day week', () => {
    // Wed 09-30 16:00–18:00 = 2 h (6 h left); Thu 10-01 … Wed 10-07 off;
    // Thu 10-08 09:00–12:00 = 3 h (3 h left), 13:30 + 3 h = 16:30.
    expect(china.addBusinessTime(sh('2026-09-30 16:00'), 8 * HOUR)).toEqual(sh('2026-10-08 16:30'));
    // Fri 10-09 18:00 + 1 h: Sat 10-10 is worked, 09:00 + 1 h = 10:00.
    expect(china.addBusinessTime(sh('2026-10-09 18:00'), HOUR)).toEqual(sh('2026-10-10 10:00'));
  });

  it('works Sunday 09-20 before the Mid-Autumn Festival', () => {
    // Fri 09-18 17:00–18:00 = 1 h; Sat 09-19 off; Sun 09-20 (调休) 09:00 + 30 min = 09:30.
    expect(china.addBusinessTime(sh('2026-09-18 17:00'), 90 * MINUTE)).toEqual(sh('2026-09-20 09:30'));
  });

  it('crosses New Year into the 调休 Sunday', () => {
    // Wed 2025-12-31 17:00–18:00 = 1 h; Thu 01-01 … Sat 01-03 off; Sun 01-04 (调休) 09:00 + 1 h.
    expect(china.addBusinessTime(sh('2025-12-31 17:00'), 2 * HOUR)).toEqual(sh('2026-01-04 10:00'));
  });

  it('counts backwards across the Spring Festival', () => {
    // Wed 02-25 10:00 − 22.5 h: Wed 1 h (21.5 left), Tue 02-24 7.5 h (14 left), holidays,
    // Sat 02-14 7.5 h (6.5 left), Fri 02-13 13:30–18:00 4.5 h (2 left), 12:00 − 2 h = 10:00.
    expect(china.addBusinessTime(sh('2026-02-25 10:00'), -3 * DAY)).toEqual(sh('2026-02-13 10:00'));
  });

  it('finds the first working instant after the Spring Festival', () => {
    expect(china.nextWorkingTime(sh('2026-02-14 18:00'))).toEqual(sh('2026-02-24 09:00'));
  });

  it('lets explicit entries override the preset', () => {
    // The company gives the 调休 Saturday 10-10 off, and works Friday 09-25 (中秋节).
    const own = createBusinessCalendar(
      { ...office, holidaysPreset: 'cn', holidays: ['2026-10-10'], makeupWorkdays: ['2026-09-25'] },
      'Asia/Shanghai',
    );
    // Fri 10-09 18:00 + 1 h: Sat 10-10 off, Sun off, Mon 10-12 09:00 + 1 h.
    expect(own.addBusinessTime(sh('2026-10-09 18:00'), HOUR)).toEqual(sh('2026-10-12 10:00'));
    expect(own.isWorkingTime(sh('2026-09-25 10:00'))).toBe(true);
  });

  it('works a make-up day with the hours of makeupHours', () => {
    // Fridays end at 16:00 here; with makeupHours 5 the 调休 Saturday 02-14 does too.
    const config: CalendarConfig = {
      workingHours: [
        { days: [1, 2, 3, 4], from: '09:00', to: '18:00' },
        { days: [5], from: '09:00', to: '16:00' },
      ],
      holidaysPreset: 'cn',
      makeupHours: 5,
    };
    const short = createBusinessCalendar(config, 'Asia/Shanghai');
    expect(short.isWorkingTime(sh('2026-02-14 15:59'))).toBe(true);
    expect(short.isWorkingTime(sh('2026-02-14 16:00'))).toBe(false);
    // Default makeupHours 1: Monday's hours, so 17:00 is working time on the 调休 Saturday.
    const monday = createBusinessCalendar({ ...config, makeupHours: undefined }, 'Asia/Shanghai');
    expect(monday.isWorkingTime(sh('2026-02-14 17:00'))).toBe(true);
  });
});

describe('businessTimeBetween', () => {
  it('counts working time only', () => {
    // Fri 02-13 17:00–18:00 = 1 h, Sat 02-14 7.5 h, Tue 02-24 09:00–10:00 = 1 h.
    expect(china.businessTimeBetween(sh('2026-02-13 17:00'), sh('2026-02-24 10:00'))).toBe(9.5 * HOUR);
    expect(china.businessTimeBetween(sh('2026-02-24 10:00'), sh('2026-02-13 17:00'))).toBe(-9.5 * HOUR);
    expect(china.businessTimeBetween(sh('2026-02-15 10:00'), sh('2026-02-23 18:00'))).toBe(0);
    // 11:00–12:00 and 13:30–14:00.
    expect(plain.businessTimeBetween(sh('2026-03-03 11:00'), sh('2026-03-03 14:00'))).toBe(1.5 * HOUR);
  });

  it('is the inverse of addBusinessTime', () => {
    // Starts every 97 minutes through February and early March 2026 (lunch, nights, weekends, the
    // Spring Festival and both 调休 Saturdays), each with durations from a minute to three days.
    const durations = [MINUTE, 45 * MINUTE, 3 * HOUR, DAY, 3 * DAY];
    for (let t = sh('2026-02-01 00:00').getTime(); t < sh('2026-03-10 00:00').getTime(); t += 97 * MINUTE) {
      const start = new Date(t);
      for (const ms of durations) {
        const end = china.addBusinessTime(start, ms);
        expect(china.businessTimeBetween(start, end)).toBe(ms);
        // Back from the end lands on the first working instant at or after the start.
        expect(china.addBusinessTime(end, -ms)).toEqual(china.nextWorkingTime(start));
      }
    }
  });
});

describe('wall clock', () => {
  it('counts every millisecond', () => {
    // Fri 17:00 + 2 h is Fri 19:00, whatever the office hours.
    expect(wallClock.addBusinessTime(sh('2026-02-13 17:00'), 2 * HOUR)).toEqual(sh('2026-02-13 19:00'));
    expect(wallClock.addBusinessTime(sh('2026-02-13 17:00'), -HOUR)).toEqual(sh('2026-02-13 16:00'));
    expect(wallClock.businessTimeBetween(sh('2026-02-13 17:00'), sh('2026-02-24 10:00'))).toBe(
      10 * 24 * HOUR + 17 * HOUR,
    );
    expect(wallClock.isWorkingTime(sh('2026-02-16 03:00'))).toBe(true);
    expect(wallClock.nextWorkingTime(sh('2026-02-16 03:00'))).toEqual(sh('2026-02-16 03:00'));
    expect(wallClock.mode).toBe('wall');
  });

  it('is what clockFor gives for wall mode; business mode needs a calendar', () => {
    expect(clockFor('wall', china)).toBe(wallClock);
    expect(clockFor('business', china)).toBe(china);
    expect(china.mode).toBe('business');
    expect(() => clockFor('business')).toThrow('[calendar]');
  });
});

describe('other timezones', () => {
  const newYork = (utc: string) => new Date(utc);

  it('reads hours in the calendar timezone, which wins over the team timezone', () => {
    const berlin = createBusinessCalendar(
      { timezone: 'Europe/Berlin', workingHours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' }] },
      'Asia/Shanghai',
    );
    // Tue 2026-03-03: Berlin is UTC+1 (CET), so 09:00 is 08:00Z.
    expect(berlin.isWorkingTime(new Date('2026-03-03T07:59:59.999Z'))).toBe(false);
    expect(berlin.isWorkingTime(new Date('2026-03-03T08:00:00Z'))).toBe(true);
    // Tue 2026-06-02: summer time, UTC+2 (CEST), so 09:00 is 07:00Z and 17:00 is 15:00Z.
    expect(berlin.isWorkingTime(new Date('2026-06-02T07:00:00Z'))).toBe(true);
    expect(berlin.isWorkingTime(new Date('2026-06-02T15:00:00Z'))).toBe(false);
  });

  it('adds across a daylight saving change in New York', () => {
    const ny = createBusinessCalendar(
      { workingHours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' }] },
      'America/New_York',
    );
    // Fri 2026-03-06 16:00 EST (UTC−5) = 21:00Z; 1 h left on Friday. Clocks go forward on Sun 03-08.
    // Mon 2026-03-09 09:00 EDT (UTC−4) = 13:00Z, + 1 h = 14:00Z.
    expect(ny.addBusinessTime(newYork('2026-03-06T21:00:00Z'), 2 * HOUR)).toEqual(
      newYork('2026-03-09T14:00:00Z'),
    );
    // Mon 2026-11-02 09:00 EST = 14:00Z (clocks went back on Sun 11-01).
    expect(ny.nextWorkingTime(newYork('2026-10-31T12:00:00Z'))).toEqual(newYork('2026-11-02T14:00:00Z'));
  });

  it('counts real elapsed time on the nights the clocks change', () => {
    // Sundays 01:00–04:00 local. 2026-03-08: 02:00 → 03:00, so the range lasts 2 h (06:00Z–08:00Z).
    // 2026-11-01: 02:00 → 01:00, so it lasts 4 h (05:00Z, the first 01:00, to 09:00Z).
    const night = createBusinessCalendar(
      { workingHours: [{ days: [7], from: '01:00', to: '04:00' }] },
      'America/New_York',
    );
    expect(night.businessTimeBetween(new Date('2026-03-07T00:00Z'), new Date('2026-03-10T00:00Z'))).toBe(
      2 * HOUR,
    );
    expect(night.nextWorkingTime(new Date('2026-03-08T00:00Z'))).toEqual(new Date('2026-03-08T06:00Z'));
    expect(night.businessTimeBetween(new Date('2026-10-31T00:00Z'), new Date('2026-11-03T00:00Z'))).toBe(
      4 * HOUR,
    );
    expect(night.nextWorkingTime(new Date('2026-11-01T00:00Z'))).toEqual(new Date('2026-11-01T05:00Z'));
  });

  it('treats a 24:00 end as midnight', () => {
    const late = createBusinessCalendar(
      { workingHours: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '20:00', to: '24:00' }] },
      'Asia/Shanghai',
    );
    expect(late.isWorkingTime(sh('2026-03-03 23:59:59.999'))).toBe(true);
    expect(late.isWorkingTime(sh('2026-03-04 00:00'))).toBe(false);
    // Tue 23:00 + 2 h: 1 h to midnight, then Wed 20:00 + 1 h.
    expect(late.addBusinessTime(sh('2026-03-03 23:00'), 2 * HOUR)).toEqual(sh('2026-03-04 21:00'));
  });

  it('rejects an unknown timezone', () => {
    expect(() => createBusinessCalendar(office, 'Asia/Beijing')).toThrow('无效的时区 "Asia/Beijing"');
  });
});

describe('a team calendar from the org config', () => {
  const org = {
    timezone: 'Asia/Shanghai',
    teams: [
      {
        id: 'east',
        name: '华东',
        timezone: 'Asia/Shanghai',
        supervisor: 'a',
        members: ['b'],
        calendar: 'office',
      },
      {
        id: 'us',
        name: '北美',
        timezone: 'America/New_York',
        supervisor: 'a',
        members: ['b'],
        calendar: 'office',
      },
      { id: 'south', name: '华南', timezone: 'Asia/Shanghai', supervisor: 'a', members: ['b'] },
    ],
    calendars: { office: { ...office, holidaysPreset: 'cn' as const } },
  };

  it("reads the calendar in the team's timezone, and is absent without one", () => {
    const east = calendarForTeam(org, 'east') as BusinessCalendar;
    const us = calendarForTeam(org, 'us') as BusinessCalendar;
    // 2026-03-03 09:00 Shanghai = 01:00Z: working in Shanghai, 20:00 the evening before in New York.
    expect(east.isWorkingTime(new Date('2026-03-03T01:00:00Z'))).toBe(true);
    expect(us.isWorkingTime(new Date('2026-03-03T01:00:00Z'))).toBe(false);
    expect(calendarForTeam(org, 'south')).toBeUndefined();
    expect(() => calendarForTeam(org, 'west')).toThrow('团队 "west" 不存在');
  });
});
