import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { STAGES, type Stage } from '../leads/stages';
import { CHAIN, cohortWhere, type FigureScope, num, ratio, selectRows, stageHistoryOf } from './figures-sql';
import type { FunnelStage } from './figures-types';

/** The cohort by source: leads, won, won amount. Channels are made of these (channel-figures.ts). */
export interface SourceCount {
  sourceId: string;
  leads: number;
  won: number;
  wonAmount: number;
}

export interface CohortSummary {
  newLeads: number;
  bySource: SourceCount[];
  /** The funnel without `avgDays` (that one counts stage exits in the period, not the cohort). */
  funnel: Omit<FunnelStage, 'avgDays'>[];
}

interface CohortRow {
  source_id: string;
  stage: string;
  stages_reached: number | string;
  leads: number | string;
  won_amount: number | string | null;
}

/**
 * One pass over the cohort's lead rows (index `leads_team_created_idx`, or `leads_created_idx` for
 * every team; a cohort's rows lie together, ids follow creation): leads grouped by source, current
 * stage and the stages their stage changes named (`stages_reached`, a report rollup). At most
 * sources × 7 × 128 rows come back, a few dozen in practice, whatever the cohort's size; the funnel
 * and the channel counts are sums over them.
 */
export async function computeCohortSummary(db: Db, scope: FigureScope): Promise<CohortSummary> {
  const rows = await selectRows<CohortRow>(
    db,
    sql`
      SELECT l.source_id, l.stage, l.stages_reached, COUNT(*) AS leads,
        SUM(CASE WHEN l.stage = 'won' THEN COALESCE(l.won_amount, 0) ELSE 0 END) AS won_amount
      FROM leads l
      WHERE ${cohortWhere(scope)}
      GROUP BY l.source_id, l.stage, l.stages_reached`,
  );

  const bySource = new Map<string, SourceCount>();
  const current = new Map<string, number>();
  const reachedRank = new Array<number>(CHAIN.length).fill(0);
  let lost = 0;
  let nurture = 0;
  let newLeads = 0;
  for (const row of rows) {
    const leads = num(row.leads);
    newLeads += leads;
    const source = bySource.get(row.source_id) ?? { sourceId: row.source_id, leads: 0, won: 0, wonAmount: 0 };
    source.leads += leads;
    if (row.stage === 'won') source.won += leads;
    source.wonAmount += num(row.won_amount);
    bySource.set(row.source_id, source);
    current.set(row.stage, (current.get(row.stage) ?? 0) + leads);
    // Every lead has been `new`; a lead that reached rank r has been in every chain stage up to r.
    const history = stageHistoryOf(row.stage, row.stages_reached);
    for (let r = 0; r <= history.maxRank; r++) reachedRank[r]! += leads;
    if (history.wasLost) lost += leads;
    if (history.wasNurture) nurture += leads;
  }

  const funnel = STAGES.map((stage: Stage) => {
    const rank = CHAIN.indexOf(stage);
    const reached = rank >= 0 ? reachedRank[rank]! : stage === 'lost' ? lost : nurture;
    const previous = rank > 0 ? reachedRank[rank - 1]! : 0;
    return {
      stage,
      reached,
      current: current.get(stage) ?? 0,
      conversion: rank > 0 ? ratio(reached, previous) : null,
    };
  });
  return {
    newLeads,
    bySource: [...bySource.values()].sort((a, b) => a.sourceId.localeCompare(b.sourceId)),
    funnel,
  };
}

/** Just the cohort's size (the SLA report needs no stage history). */
export async function countCohort(db: Db, scope: FigureScope): Promise<number> {
  const [row] = await selectRows<{ n: number | string }>(
    db,
    sql`SELECT COUNT(*) AS n FROM leads l WHERE ${cohortWhere(scope)}`,
  );
  return num(row?.n);
}
