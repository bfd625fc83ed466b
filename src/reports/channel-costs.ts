import { sql } from 'drizzle-orm';
import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import { parseDbTime } from '../db/columns';
import { channelCosts } from '../db/schema';
import type { SourceCount } from './figures-cohort';
import { type FigureScope, num, ratio, round2, selectRows } from './figures-sql';
import type { ChannelFigures, ReportPeriod } from './figures-types';

/**
 * Channel costs (PRODUCT.md 10–11): amounts the admin enters for a channel over a span of days, and
 * the channel rows of a report built from the cohort's sources and those costs.
 */

export interface ChannelCostInput {
  channel: string;
  /** Inclusive start and exclusive end: local midnights (report-period.ts). */
  periodStart: Date;
  periodEnd: Date;
  /** Yuan. */
  amount: number;
  note: string | null;
}

export async function recordChannelCost(db: Db, input: ChannelCostInput, now: Date): Promise<number> {
  const [result] = await db.insert(channelCosts).values({ ...input, createdAt: now });
  return result.insertId;
}

/**
 * What each channel cost during the period: every entry overlapping it, prorated by the overlapping
 * share of the entry's span (entries and periods run between local midnights, so this is a share of
 * days). The table holds one row per entry, a few per channel and month: read all that overlap.
 */
export async function costsInPeriod(db: Db, period: ReportPeriod): Promise<Map<string, number>> {
  const rows = await selectRows<{
    channel: string;
    period_start: string | Date;
    period_end: string | Date;
    amount: number | string;
  }>(
    db,
    sql`SELECT channel, period_start, period_end, amount FROM channel_costs
        WHERE period_start < ${period.to} AND period_end > ${period.from}`,
  );
  const costs = new Map<string, number>();
  for (const row of rows) {
    const start = parseDbTime(row.period_start).getTime();
    const end = parseDbTime(row.period_end).getTime();
    if (end <= start) continue;
    const overlap = Math.min(end, period.to.getTime()) - Math.max(start, period.from.getTime());
    costs.set(row.channel, (costs.get(row.channel) ?? 0) + (num(row.amount) * overlap) / (end - start));
  }
  return costs;
}

/** Cohort leads of every team by source, for sharing a channel's cost out among teams. */
async function leadsBySource(
  db: Db,
  period: ReportPeriod,
  sourceIds: string[],
): Promise<Map<string, number>> {
  if (sourceIds.length === 0) return new Map();
  // `leads_source_created_idx` (source_id, created_at) answers this from the index alone.
  const rows = await selectRows<{ source_id: string; n: number | string }>(
    db,
    sql`SELECT source_id, COUNT(*) AS n FROM leads
        WHERE source_id IN (${sql.join(
          sourceIds.map((s) => sql`${s}`),
          sql`, `,
        )}) AND created_at >= ${period.from} AND created_at < ${period.to}
        GROUP BY source_id`,
  );
  return new Map(rows.map((r) => [r.source_id, num(r.n)]));
}

/** The channel a source reports under; a source no longer in the config reports under its own id. */
export function channelOf(org: OrgConfig, sourceId: string): string {
  return org.sources.find((s) => s.id === sourceId)?.channel ?? sourceId;
}

/**
 * Channel rows from the cohort's sources. For the whole organisation a channel's cost is what was
 * entered for it; for one team it is that cost shared by the team's part of the channel's cohort
 * leads (costs are entered per channel, not per team), so the teams' shares add up to the cost.
 * Rows: channels with cohort leads, and for the whole organisation also channels with a cost; most
 * leads first.
 */
export async function computeChannels(
  deps: { db: Db; org: OrgConfig },
  scope: FigureScope,
  bySource: readonly SourceCount[],
): Promise<ChannelFigures[]> {
  const totals = new Map<string, { leads: number; won: number; wonAmount: number }>();
  for (const s of bySource) {
    const channel = channelOf(deps.org, s.sourceId);
    const t = totals.get(channel) ?? { leads: 0, won: 0, wonAmount: 0 };
    t.leads += s.leads;
    t.won += s.won;
    t.wonAmount += s.wonAmount;
    totals.set(channel, t);
  }
  const entered = await costsInPeriod(deps.db, scope.period);
  const costs = new Map<string, number>();
  if (scope.teamId === null) {
    for (const [channel, cost] of entered) {
      costs.set(channel, cost);
      if (!totals.has(channel)) totals.set(channel, { leads: 0, won: 0, wonAmount: 0 });
    }
  } else if (entered.size > 0) {
    const sources = deps.org.sources.filter((s) => entered.has(s.channel) && totals.has(s.channel));
    const all = await leadsBySource(
      deps.db,
      scope.period,
      sources.map((s) => s.id),
    );
    for (const [channel, t] of totals) {
      const cost = entered.get(channel);
      if (cost === undefined) continue;
      const channelLeads = sources
        .filter((s) => s.channel === channel)
        .reduce((n, s) => n + (all.get(s.id) ?? 0), 0);
      costs.set(channel, channelLeads > 0 ? (cost * t.leads) / channelLeads : 0);
    }
  }
  return [...totals]
    .map(([channel, t]): ChannelFigures => {
      const raw = costs.get(channel);
      const cost = raw === undefined ? null : round2(raw);
      return {
        channel,
        leads: t.leads,
        won: t.won,
        wonAmount: t.wonAmount,
        cost,
        costPerLead: cost === null || t.leads === 0 ? null : round2(cost / t.leads),
        costPerWon: cost === null || t.won === 0 ? null : round2(cost / t.won),
        roi: cost === null ? null : ratio(t.wonAmount - cost, cost),
      };
    })
    .sort((a, b) => b.leads - a.leads || a.channel.localeCompare(b.channel));
}
