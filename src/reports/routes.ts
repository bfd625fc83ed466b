import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { parseIsoDate } from '../calendar/civil-date';
import type { Env } from '../config/env';
import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import { assertAdmin } from '../http/auth';
import { assertJsonContentType, parseJsonBody, readRawBody } from '../http/read-body';
import { toFieldIssues, zhErrorMap } from '../http/zod-issues';
import type { Clock } from '../lib/clock';
import { type FieldIssue, notFound, validationFailed } from '../lib/errors';
import { recordChannelCost } from './channel-costs';
import {
  type AnyReport,
  channelTables,
  funnelTables,
  type ReportKind,
  repTables,
  slaTables,
  type Table,
  toCsv,
  toXlsx,
} from './export';
import {
  computeChannelReport,
  computeFunnelReport,
  computeRepReport,
  computeSlaReport,
  type FigureDeps,
  type FigureInput,
} from './figures';
import type { ReportPeriod } from './figures-types';
import { periodOfLocalDates } from './report-period';

export interface ReportRouteDeps {
  db: Db;
  org: OrgConfig;
  clock: Clock;
  env: Pick<Env, 'ADMIN_API_KEY'>;
}

/** A report reads at most this many days (a year and a leap day): bigger asks are refused, not slow. */
export const MAX_REPORT_DAYS = 366;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_HINT = '应为日期，格式 YYYY-MM-DD（如 2026-11-20）';
const date = () => z.string().regex(DATE, DATE_HINT);

export const querySchema = z.object({
  from: date(),
  to: date().optional(),
  team: z.string().min(1).max(64).optional(),
  format: z.enum(['json', 'csv', 'xlsx']).optional(),
  forecast: z.enum(['true', 'false', '1', '0']).optional(),
});
const QUERY_LABELS = { from: '开始日期', to: '结束日期', team: '团队', format: '格式', forecast: '预测' };

export const costBodySchema = z.strictObject({
  channel: z.string().min(1).max(64),
  from: date(),
  to: date(),
  amount: z.number().int().min(0).max(1_000_000_000_000),
  note: z.string().max(255).optional(),
});
const COST_LABELS = { channel: '渠道', from: '开始日期', to: '结束日期', amount: '金额（元）', note: '备注' };
const BODY_LIMIT = 4096;

/** A report: its figures, and the same figures as tables for CSV and XLSX. */
interface ReportSpec {
  compute(deps: FigureDeps, input: FigureInput): Promise<{ json: AnyReport; tables(): Table[] }>;
}

function spec<R extends AnyReport>(
  compute: (deps: FigureDeps, input: FigureInput) => Promise<R>,
  tables: (report: R) => Table[],
): ReportSpec {
  return {
    compute: async (deps, input) => {
      const report = await compute(deps, input);
      return { json: report, tables: () => tables(report) };
    },
  };
}

const REPORTS: Record<ReportKind, ReportSpec> = {
  funnel: spec(computeFunnelReport, funnelTables),
  channels: spec(computeChannelReport, channelTables),
  reps: spec(computeRepReport, repTables),
  sla: spec(computeSlaReport, slaTables),
};

/**
 * Reports (PRODUCT.md 11), admin key only:
 *
 *   GET  /api/v1/reports/{funnel,channels,reps,sla}?from=YYYY-MM-DD[&to=YYYY-MM-DD][&team=id][&format=json|csv|xlsx]
 *        (funnel also takes &forecast=true)
 *   POST /api/v1/channel-costs   {channel, from, to, amount, note?}
 *
 * Dates are local dates in the team's timezone (the org's without a team), both inclusive. Rejection
 * order: 404/405, 415, 401, 413, 400 body, 422, then 404 for an unknown team.
 */
export function reportRoutes(deps: ReportRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1' });

  for (const kind of Object.keys(REPORTS) as ReportKind[]) {
    router.get(`/reports/${kind}`, async (ctx) => {
      assertAdmin(ctx, deps.env.ADMIN_API_KEY);
      const query = parseReportQuery(deps.org, ctx.query);
      const report = await REPORTS[kind].compute(deps, {
        teamId: query.teamId,
        period: query.period,
        weekly: query.forecast,
      });
      await present(ctx, kind, query, report);
    });
  }

  router.post('/channel-costs', async (ctx) => {
    assertJsonContentType(ctx);
    assertAdmin(ctx, deps.env.ADMIN_API_KEY);
    const body = parseJsonBody(await readRawBody(ctx, BODY_LIMIT));
    const parsed = costBodySchema.safeParse(body, { error: zhErrorMap });
    if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error.issues, COST_LABELS));
    const { channel, from, to, amount, note } = parsed.data;
    const channels = [...new Set(deps.org.sources.map((s) => s.channel))];
    const issues: FieldIssue[] = [];
    if (!channels.includes(channel)) {
      issues.push({
        path: 'channel',
        message: `${COST_LABELS.channel}：应为以下之一：${channels.join('、')}`,
      });
    }
    const period = checkedPeriod(deps.org.timezone, from, to, COST_LABELS, issues);
    if (!period || issues.length > 0) throw validationFailed(issues);
    const id = await recordChannelCost(
      deps.db,
      { channel, periodStart: period.from, periodEnd: period.to, amount, note: note ?? null },
      deps.clock.now(),
    );
    ctx.status = 201;
    ctx.body = { id, channel, from, to, amount, note: note ?? null, ...presentPeriod(period, from, to) };
  });

  return router;
}

interface ReportQuery {
  teamId: string | null;
  period: ReportPeriod;
  from: string;
  to: string;
  format: 'json' | 'csv' | 'xlsx';
  /**
   * The funnel report with the forecast (the weekly digest's weighted pipeline). Asked for, not by
   * default: it reads every open lead and 90 days of closings, several times a day's funnel.
   */
  forecast: boolean;
}

function parseReportQuery(org: OrgConfig, raw: unknown): ReportQuery {
  const parsed = querySchema.safeParse(raw, { error: zhErrorMap });
  if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error.issues, QUERY_LABELS));
  const { from, team, format = 'json' } = parsed.data;
  const forecast = parsed.data.forecast === 'true' || parsed.data.forecast === '1';
  const to = parsed.data.to ?? from;
  const issues: FieldIssue[] = [];
  const teamConfig = team === undefined ? undefined : org.teams.find((t) => t.id === team);
  const period = checkedPeriod(teamConfig?.timezone ?? org.timezone, from, to, QUERY_LABELS, issues);
  if (!period) throw validationFailed(issues);
  if (team !== undefined && !teamConfig) throw notFound(`团队 "${team}" 不存在`);
  return { teamId: team ?? null, period, from, to, format, forecast };
}

/** The period of two local dates, or null with the problems added to `issues`. */
function checkedPeriod(
  timeZone: string,
  from: string,
  to: string,
  labels: { from: string; to: string },
  issues: FieldIssue[],
): ReportPeriod | null {
  const first = parseIsoDate(from);
  const last = parseIsoDate(to);
  if (first === null) issues.push({ path: 'from', message: `${labels.from}：不是有效的日期` });
  // A `to` that defaulted to `from` is not reported twice.
  if (last === null && to !== from) issues.push({ path: 'to', message: `${labels.to}：不是有效的日期` });
  if (first === null || last === null) return null;
  if (last < first) {
    issues.push({ path: 'to', message: `${labels.to}：不能早于${labels.from}（${from}）` });
    return null;
  }
  if (last - first + 1 > MAX_REPORT_DAYS) {
    issues.push({ path: 'to', message: `${labels.to}：区间最长 ${MAX_REPORT_DAYS} 天` });
    return null;
  }
  return periodOfLocalDates(timeZone, from, to);
}

function presentPeriod(period: ReportPeriod, from: string, to: string) {
  return {
    period: {
      from,
      to,
      timeZone: period.timeZone,
      start: period.from.toISOString(),
      end: period.to.toISOString(),
    },
  };
}

async function present(
  ctx: Context,
  kind: ReportKind,
  query: ReportQuery,
  report: { json: AnyReport; tables(): Table[] },
): Promise<void> {
  if (query.format === 'json') {
    ctx.body = { ...report.json, ...presentPeriod(query.period, query.from, query.to) };
    return;
  }
  const name = ['leadrelay', kind, query.teamId ?? 'all', query.from, query.to]
    .join('_')
    .replace(/[^\w.-]/g, '-');
  if (query.format === 'csv') {
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = toCsv(report.tables());
  } else {
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    ctx.body = await toXlsx(report.tables());
  }
  ctx.set('Content-Disposition', `attachment; filename="${name}.${query.format}"`);
}
