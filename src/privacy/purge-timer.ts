import type { OrgConfig } from '../config/org-types';
import { privacyOf } from '../config/sections/privacy';
import type { Db } from '../db/client';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { fromLocal, toLocal } from '../routing/local-time';
import { scheduleTimers, type TimerSpec } from '../timers/schedule';
import type { TimerHandlers } from '../timers/worker';
import { purgeExpiredLeads } from './purge';

/**
 * The daily retention purge as a timer row (ARCHITECTURE.md "Time is data"): one row per local date,
 * `privacy:purge:2026-11-22`, so any number of instances schedule it once and one of them runs it; a
 * day missed while no instance was up is simply due at start (caught up once). Each run schedules the
 * next day's, and a continuation when more expired leads wait than one run takes.
 */
export const PURGE_TIMER_KIND = 'privacy.purge';
/** Leads per run: each is its own short transaction; a run stays well inside the timer lease. */
const LEADS_PER_RUN = 100;

type PurgeDeps = { db: Db; org: Pick<OrgConfig, 'privacy' | 'timezone'>; clock: Clock; logger: Logger };

const pad = (n: number) => String(n).padStart(2, '0');

/** The next purge strictly after `now`: today's `privacy.purgeAt` in the org timezone, or tomorrow's. */
export function nextPurge(
  org: Pick<OrgConfig, 'privacy' | 'timezone'>,
  now: Date,
): { at: Date; date: string } {
  const [hour, minute] = privacyOf(org).purgeAt.split(':').map(Number) as [number, number];
  const local = toLocal(org.timezone, now);
  for (let days = 0; days < 3; days++) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
    const ymd = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() };
    const at = fromLocal(org.timezone, { ...ymd, hour, minute, second: 0 });
    if (at.getTime() > now.getTime()) return { at, date: `${ymd.year}-${pad(ymd.month)}-${pad(ymd.day)}` };
  }
  throw new Error('no purge time within three days');
}

export function purgeTimer(org: Pick<OrgConfig, 'privacy' | 'timezone'>, now: Date): TimerSpec {
  const next = nextPurge(org, now);
  return {
    effectKey: `privacy:purge:${next.date}`,
    kind: PURGE_TIMER_KIND,
    dueAt: next.at,
    payload: { date: next.date },
  };
}

/** Makes sure the next purge is scheduled (server start; harmless when it already is). */
export async function schedulePurge(deps: PurgeDeps): Promise<void> {
  await scheduleTimers(deps.db, [purgeTimer(deps.org, deps.clock.now())]);
}

export function privacyTimerHandlers(deps: PurgeDeps): TimerHandlers {
  return {
    [PURGE_TIMER_KIND]: async (timer) => {
      const result = await purgeExpiredLeads(
        { db: deps.db, org: deps.org, logger: deps.logger, now: () => deps.clock.now() },
        { limit: LEADS_PER_RUN },
      );
      const follow = [purgeTimer(deps.org, deps.clock.now())];
      const date = typeof timer.payload.date === 'string' ? timer.payload.date : 'run';
      if (result.more) {
        follow.push({
          effectKey: `privacy:purge:${date}:more:${result.leadIds.at(-1) ?? 0}`,
          kind: PURGE_TIMER_KIND,
          dueAt: { inMs: 1_000 },
          payload: { date },
        });
      }
      await scheduleTimers(deps.db, follow);
    },
  };
}
