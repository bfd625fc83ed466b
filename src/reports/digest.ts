import { CronExpressionParser } from 'cron-parser';
import { lt } from 'drizzle-orm';
import cron, { type ScheduledTask } from 'node-cron';
import type { TeamConfig, TeamDigestConfig } from '../config/org-types';
import { digestRuns, leads } from '../db/schema';
import { ER_DUP_ENTRY, mysqlErrno, withTransaction } from '../db/transaction';
import type { LeadDeps } from '../leads/lead-deps';
import { enqueueOutbox, type OutboxItem } from '../outbox/enqueue';
import { fromLocal, toLocal } from '../routing/local-time';
import { renderDigestMarkdown } from './digest-markdown';
import { computeFigures } from './figures';
import type { Figures, ReportPeriod } from './figures-types';
import { renderFunnelPng } from './funnel-chart';

export type DigestKind = 'daily' | 'weekly';

const DEFAULTS: TeamDigestConfig = { enabled: true, cron: '5 9 * * *', weeklyCron: '5 9 * * 1' };

export function digestConfig(team: TeamConfig): TeamDigestConfig {
  return { ...DEFAULTS, ...team.digest };
}

/** Whether the team has a group robot on any platform. */
function hasRobot(config: TeamDigestConfig): boolean {
  return !!config.robot?.wecom || !!config.robot?.dingtalk;
}

/** `2026-11-21` for a local date. */
function dateKey(d: { year: number; month: number; day: number }): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** The local date `days` after the given one (calendar arithmetic, DST-safe). */
function addDays(d: { year: number; month: number; day: number }, days: number) {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

function midnight(timeZone: string, d: { year: number; month: number; day: number }): Date {
  return fromLocal(timeZone, { ...d, hour: 0, minute: 0, second: 0 });
}

/**
 * The period a digest sent at `at` covers: the daily digest the local day before, the weekly one
 * the Monday-to-Sunday week before the week of `at`. `periodKey` is the local date of its start.
 */
export function digestPeriod(
  kind: DigestKind,
  timeZone: string,
  at: Date,
): { period: ReportPeriod; periodKey: string } {
  const local = toLocal(timeZone, at);
  const today = { year: local.year, month: local.month, day: local.day };
  if (kind === 'daily') {
    const start = addDays(today, -1);
    return {
      period: { from: midnight(timeZone, start), to: midnight(timeZone, today), timeZone },
      periodKey: dateKey(start),
    };
  }
  const weekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7; // Monday 0
  const thisMonday = addDays(today, -weekday);
  const start = addDays(thisMonday, -7);
  return {
    period: { from: midnight(timeZone, start), to: midnight(timeZone, thisMonday), timeZone },
    periodKey: dateKey(start),
  };
}

/**
 * A moment at which the digest covering the local `date` (`2026-11-21`) is sent: the next day for
 * the daily digest, a week later for the weekly one (whose period is the week containing `date`).
 */
export function sendTimeForDate(kind: DigestKind, timeZone: string, date: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const next = addDays({ year, month, day }, kind === 'daily' ? 1 : 7);
  return fromLocal(timeZone, { ...next, hour: 12, minute: 0, second: 0 });
}

export interface BuiltDigest {
  figures: Figures;
  markdown: string;
  png: Buffer;
  periodKey: string;
}

export async function buildDigest(
  deps: Pick<LeadDeps, 'db' | 'org'>,
  input: { team: TeamConfig; kind: DigestKind; period: ReportPeriod; periodKey: string; late?: boolean },
): Promise<BuiltDigest> {
  const figures = await computeFigures(
    { db: deps.db, org: deps.org },
    { teamId: input.team.id, period: input.period, weekly: input.kind === 'weekly' },
  );
  const markdown = renderDigestMarkdown({
    figures,
    teamName: input.team.name,
    channelNames: channelNames(deps.org.sources),
    kind: input.kind,
    ...(input.late ? { late: true } : {}),
  });
  const png = renderFunnelPng({ funnel: figures.funnel, title: '转化漏斗' });
  return { figures, markdown, png, periodKey: input.periodKey };
}

/** A channel as the team knows it: the names of its sources (`官网表单`, `百度推广/360 推广`). */
function channelNames(sources: readonly { channel: string; name: string }[]): Record<string, string> {
  const names: Record<string, string[]> = {};
  for (const s of sources) {
    names[s.channel] = [...(names[s.channel] ?? []), s.name];
  }
  return Object.fromEntries(Object.entries(names).map(([channel, list]) => [channel, list.join('/')]));
}

export type SendOutcome = 'sent' | 'already_sent' | 'no_robot' | 'disabled' | 'no_platform';

/**
 * Posts a team's digest once (PRODUCT.md 10): the `digest_runs` row (primary key team, kind, period)
 * and the outbox rows are written in one transaction, so across any number of instances the first
 * writer posts and every other sees the row and does nothing; a crash before commit leaves neither.
 * The text goes first, then the funnel image, through the team's group robot.
 */
export async function sendDigest(
  deps: LeadDeps,
  input: { team: TeamConfig; kind: DigestKind; at: Date; late?: boolean; instance?: string },
): Promise<SendOutcome> {
  const config = digestConfig(input.team);
  if (!config.enabled) return 'disabled';
  if (!hasRobot(config)) return 'no_robot';
  // A team may have a WeCom group, a DingTalk group or both: it gets the digest in each.
  const onWecom = !!config.robot?.wecom && deps.platforms.has('wecom');
  const onDingtalk = !!config.robot?.dingtalk && deps.platforms.has('dingtalk');
  if (!onWecom && !onDingtalk) return 'no_platform';
  const { period, periodKey } = digestPeriod(input.kind, input.team.timezone, input.at);
  const digest = await buildDigest(deps, {
    team: input.team,
    kind: input.kind,
    period,
    periodKey,
    late: !!input.late,
  });
  const key = `digest:${input.team.id}:${input.kind}:${periodKey}`;
  const to = { kind: 'group' as const, groupKey: input.team.id };
  const items: OutboxItem[] = [];
  if (onWecom) {
    items.push(
      {
        dedupeKey: `${key}:text`,
        platform: 'wecom',
        message: { kind: 'markdown', to, markdown: digest.markdown },
      },
      {
        dedupeKey: `${key}:chart`,
        platform: 'wecom',
        message: { kind: 'image', to, pngBase64: digest.png.toString('base64') },
      },
    );
  }
  if (onDingtalk) {
    // DingTalk custom robots post no images (only links to hosted ones): the text alone.
    items.push({
      dedupeKey: `${key}:dingtalk:text`,
      platform: 'dingtalk',
      message: { kind: 'markdown', to, markdown: digest.markdown },
    });
  }
  try {
    await withTransaction(deps.db, async (tx) => {
      const now = deps.clock.now();
      await tx.insert(digestRuns).values({
        teamId: input.team.id,
        kind: input.kind,
        periodKey,
        late: input.late ? 1 : 0,
        instance: input.instance ?? null,
        createdAt: now,
      });
      // One at a time, so the text's outbox id is lower than the chart's (sent in that order).
      for (const item of items) await enqueueOutbox(tx, [item], now);
    });
  } catch (error) {
    if (mysqlErrno(error) === ER_DUP_ENTRY) return 'already_sent';
    throw error;
  }
  deps.logger.info(
    { teamId: input.team.id, kind: input.kind, periodKey, late: !!input.late },
    'digest queued',
  );
  return 'sent';
}

async function hadLeadsBefore(deps: Pick<LeadDeps, 'db'>, at: Date): Promise<boolean> {
  const rows = await deps.db.select({ id: leads.id }).from(leads).where(lt(leads.createdAt, at)).limit(1);
  return rows.length > 0;
}

/** How long after its time a digest still counts as on time rather than late. */
const ON_TIME_MS = 5 * 60_000;

export interface DigestScheduler {
  /** Sends, marked late, any digest whose last scheduled time passed while no instance was up. */
  catchUp(): Promise<void>;
  stop(): void;
}

/**
 * Schedules every team's daily and weekly digest with node-cron in the team's timezone, and on start
 * catches up the last missed one of each (within a day for daily, a week for weekly). The send is
 * `sendDigest`, safe to run on every instance at once.
 */
export function startDigestScheduler(
  deps: LeadDeps,
  options: { instance: string; onQueued?: () => void },
): DigestScheduler {
  const tasks: ScheduledTask[] = [];
  const run = async (team: TeamConfig, kind: DigestKind, at: Date, late: boolean) => {
    try {
      const outcome = await sendDigest(deps, { team, kind, at, late, instance: options.instance });
      if (outcome === 'sent') options.onQueued?.();
    } catch (error) {
      deps.logger.error({ err: error, teamId: team.id, kind }, 'digest failed');
    }
  };
  for (const team of deps.org.teams) {
    const config = digestConfig(team);
    if (!config.enabled || !hasRobot(config)) continue;
    for (const [kind, expression] of [
      ['daily', config.cron],
      ['weekly', config.weeklyCron],
    ] as const) {
      tasks.push(
        cron.schedule(expression, () => run(team, kind, deps.clock.now(), false), {
          timezone: team.timezone,
          name: `digest:${team.id}:${kind}`,
        }),
      );
    }
  }
  return {
    async catchUp() {
      const now = deps.clock.now();
      for (const team of deps.org.teams) {
        const config = digestConfig(team);
        if (!config.enabled || !hasRobot(config)) continue;
        for (const [kind, expression, horizonMs] of [
          ['daily', config.cron, 24 * 3600_000],
          ['weekly', config.weeklyCron, 7 * 24 * 3600_000],
        ] as const) {
          const last = CronExpressionParser.parse(expression, { tz: team.timezone, currentDate: now })
            .prev()
            .toDate();
          if (now.getTime() - last.getTime() > horizonMs) continue;
          // Only a deployment that was in use then missed it: a fresh install (no lead before that
          // time) does not open with a 补发 digest of a day it never saw.
          if (!(await hadLeadsBefore(deps, last))) continue;
          await run(team, kind, last, now.getTime() - last.getTime() > ON_TIME_MS);
        }
      }
    },
    stop() {
      for (const task of tasks) void task.stop();
    },
  };
}
