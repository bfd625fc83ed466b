import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Stage } from '../leads/stages';
import {
  CHAIN,
  type FigureScope,
  num,
  OPEN_STAGES,
  round2,
  round4,
  selectRows,
  stageHistoryOf,
  teamAnd,
} from './figures-sql';
import type { Figures } from './figures-types';

/** Win rates come from the leads closed in this many days before the period's end. */
export const WIN_RATE_HISTORY_DAYS = 90;

type Forecast = NonNullable<Figures['forecast']>;

/**
 * The weighted pipeline (PRODUCT.md 10, weekly digest): every open lead of the team now (new,
 * contacted, qualified, opportunity, nurture), its budget weighted by its stage's win rate.
 *
 * The win rate of a stage is the share won among the team's leads closed (won or lost) in the
 * `WIN_RATE_HISTORY_DAYS` before the period's end that had been in that stage (a won lead has been in
 * every chain stage; nurture counts leads that were ever nurtured); 0 without such history.
 */
export async function computeForecast(db: Db, scope: FigureScope): Promise<Forecast> {
  // Side by side: both read a whole team's worth of rows (its open pipeline, 90 days of closings).
  const [open, rates] = await Promise.all([
    selectRows<{ stage: string; leads: number | string; amount: number | string | null }>(
      db,
      sql`
        SELECT l.stage, COUNT(*) AS leads, SUM(COALESCE(l.budget, 0)) AS amount
        FROM leads l
        WHERE l.stage IN (${sql.join(
          OPEN_STAGES.map((s) => sql`${s}`),
          sql`, `,
        )})${teamAnd(scope)}
        GROUP BY l.stage`,
    ),
    winRates(db, scope),
  ]);
  const byStage = OPEN_STAGES.map((stage) => {
    const row = open.find((r) => r.stage === stage);
    return { stage, leads: num(row?.leads), amount: num(row?.amount), winRate: rates.get(stage) ?? 0 };
  });
  return {
    openLeads: byStage.reduce((sum, s) => sum + s.leads, 0),
    weightedAmount: round2(byStage.reduce((sum, s) => sum + s.amount * s.winRate, 0)),
    byStage,
  };
}

async function winRates(db: Db, scope: FigureScope): Promise<Map<Stage, number>> {
  const to = scope.period.to;
  const from = new Date(to.getTime() - WIN_RATE_HISTORY_DAYS * 86_400_000);
  const closedInWindow = sql`l.stage IN ('won', 'lost') AND l.closed_at >= ${from} AND l.closed_at < ${to}${teamAnd(scope)}`;
  const rows = await selectRows<{ stage: string; stages_reached: number | string; n: number | string }>(
    db,
    sql`
      SELECT l.stage, l.stages_reached, COUNT(*) AS n
      FROM leads l
      WHERE ${closedInWindow}
      GROUP BY l.stage, l.stages_reached`,
  );
  const won = new Array<number>(CHAIN.length).fill(0);
  const closed = new Array<number>(CHAIN.length).fill(0);
  const nurture = { won: 0, closed: 0 };
  for (const row of rows) {
    const n = num(row.n);
    const isWon = row.stage === 'won';
    const history = stageHistoryOf(row.stage, row.stages_reached);
    for (let r = 0; r <= history.maxRank; r++) {
      closed[r]! += n;
      if (isWon) won[r]! += n;
    }
    if (history.wasNurture) {
      nurture.closed += n;
      if (isWon) nurture.won += n;
    }
  }
  const rates = new Map<Stage, number>();
  CHAIN.forEach((stage, r) => {
    rates.set(stage, closed[r] ? round4(won[r]! / closed[r]!) : 0);
  });
  rates.set('nurture', nurture.closed ? round4(nurture.won / nurture.closed) : 0);
  return rates;
}
