import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import { computeChannels } from './channel-costs';
import { computeCohortSummary, countCohort } from './figures-cohort';
import { computeForecast } from './figures-forecast';
import { computeLosses, computeSlaEvents, computeStageStays } from './figures-period';
import { computeResponses } from './figures-reps';
import type { FigureScope } from './figures-sql';
import type { Figures, FunnelStage, ReportPeriod } from './figures-types';

/**
 * The figures of a digest or a report (figures-types.ts has the definitions). Each part is a few
 * aggregate queries bounded by the period, on the report rollups the timeline keeps
 * (src/leads/timeline-rollups.ts): the cohort through `leads_team_created_idx`, period events through
 * `report_events`, closings through `leads_team_stage_closed_idx`, each from the index alone. Independent
 * queries run side by side on the pool. The reports API asks for one part at a time, so a report
 * costs only its own queries; the digest asks for all of them.
 */
export interface FigureDeps {
  db: Db;
  org: OrgConfig;
}

export interface FigureInput {
  teamId: string | null;
  period: ReportPeriod;
  /** Adds the forecast (weighted pipeline), as the weekly digest shows it. */
  weekly?: boolean;
}

type Head = Pick<Figures, 'teamId' | 'period'>;
export type FunnelReport = Head & Pick<Figures, 'newLeads' | 'funnel' | 'lossesByReason' | 'forecast'>;
export type ChannelReport = Head & Pick<Figures, 'newLeads' | 'channels'>;
export type RepReport = Head & Pick<Figures, 'reps'>;
export type SlaReport = Head &
  Pick<
    Figures,
    | 'newLeads'
    | 'claimed'
    | 'claimedWithinSla'
    | 'claimedWithinSlaShare'
    | 'overdueFollowUps'
    | 'recycled'
    | 'slaBreaches'
  >;

export async function computeFigures(deps: FigureDeps, input: FigureInput): Promise<Figures> {
  const scope = scopeOf(input);
  const [cohort, stays, lossesByReason, responses, sla, forecast] = await Promise.all([
    computeCohortSummary(deps.db, scope),
    computeStageStays(deps.db, scope),
    computeLosses(deps.db, scope),
    computeResponses(deps, scope),
    computeSlaEvents(deps.db, scope),
    input.weekly ? computeForecast(deps.db, scope) : undefined,
  ]);
  return {
    ...head(input),
    newLeads: cohort.newLeads,
    channels: await computeChannels(deps, scope, cohort.bySource),
    claimed: responses.claimed,
    claimedWithinSla: responses.claimedWithinSla,
    claimedWithinSlaShare: responses.claimedWithinSlaShare,
    reps: responses.reps,
    funnel: withStays(cohort.funnel, stays),
    lossesByReason,
    ...sla,
    ...(forecast ? { forecast } : {}),
  };
}

/** New leads, the funnel, losses by reason; with `weekly`, the forecast. */
export async function computeFunnelReport(deps: FigureDeps, input: FigureInput): Promise<FunnelReport> {
  const scope = scopeOf(input);
  const [cohort, stays, lossesByReason, forecast] = await Promise.all([
    computeCohortSummary(deps.db, scope),
    computeStageStays(deps.db, scope),
    computeLosses(deps.db, scope),
    input.weekly ? computeForecast(deps.db, scope) : undefined,
  ]);
  return {
    ...head(input),
    newLeads: cohort.newLeads,
    funnel: withStays(cohort.funnel, stays),
    lossesByReason,
    ...(forecast ? { forecast } : {}),
  };
}

export async function computeChannelReport(deps: FigureDeps, input: FigureInput): Promise<ChannelReport> {
  const scope = scopeOf(input);
  const cohort = await computeCohortSummary(deps.db, scope);
  return {
    ...head(input),
    newLeads: cohort.newLeads,
    channels: await computeChannels(deps, scope, cohort.bySource),
  };
}

export async function computeRepReport(deps: FigureDeps, input: FigureInput): Promise<RepReport> {
  const { reps } = await computeResponses(deps, scopeOf(input));
  return { ...head(input), reps };
}

export async function computeSlaReport(deps: FigureDeps, input: FigureInput): Promise<SlaReport> {
  const scope = scopeOf(input);
  const [newLeads, responses, sla] = await Promise.all([
    countCohort(deps.db, scope),
    computeResponses(deps, scope, { withClaimers: false }),
    computeSlaEvents(deps.db, scope),
  ]);
  return {
    ...head(input),
    newLeads,
    claimed: responses.claimed,
    claimedWithinSla: responses.claimedWithinSla,
    claimedWithinSlaShare: responses.claimedWithinSlaShare,
    ...sla,
  };
}

function withStays(funnel: Omit<FunnelStage, 'avgDays'>[], stays: Map<string, number>): FunnelStage[] {
  return funnel.map((s) => ({ ...s, avgDays: stays.get(s.stage) ?? null }));
}

function scopeOf(input: FigureInput): FigureScope {
  return { teamId: input.teamId, period: input.period };
}

function head(input: FigureInput): Head {
  return { teamId: input.teamId, period: input.period };
}
