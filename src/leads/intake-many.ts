import { runReadThenBatch } from '../db/batch';
import { ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, mysqlErrno } from '../db/transaction';
import { AppError, type FieldIssue } from '../lib/errors';
import { type IntakeDeps, intakeLead, prepareSubmission } from './intake';
import {
  type BatchPlan,
  borrowedStillHold,
  DRY_RUN_ID_BASE,
  type DryRun,
  type ManyOutcome,
  type ManyRequest,
  type PreparedSubmission,
  planBatch,
  rejectedInput,
} from './intake-many-plan';
import { identityKeys, scoreSubmission } from './intake-records';
import { storeRejectedPayload } from './rejected-payloads';

export type { BatchPlan, DryRun, ManyOutcome, ManyRequest, PreparedSubmission } from './intake-many-plan';

/**
 * Bulk intake (`leadrelay import`): many submissions per transaction, with the rules of the one-lead
 * path (`intakeLead`): the same zod schema and normalisation (`prepareSubmission`), the same keys,
 * scores, rows, events and `lead.assign` timers (intake-records.ts), the same refusals kept in
 * `rejected_payloads`.
 *
 * A batch is planned in memory as if its submissions arrived one after another (intake-many-plan.ts):
 * inside one transaction the identities of all its keys are read at once, the leads they name are
 * locked (`FOR UPDATE`), then each submission in order either creates a lead or merges into the lead
 * holding one of its keys, which may be a lead created earlier in the same batch. What the plan
 * decided is written with the COMMIT in one round trip (multi-row INSERTs). As in `intakeLead`,
 * concurrency is decided by the primary key of `lead_identities`, not by the read: if another writer
 * took one of the keys in the meantime, the INSERT fails, the batch rolls back and is planned again.
 *
 * Two batches can be in flight: the next one is planned while the previous one is written, taking
 * the previous plan's keys and leads as given (`after`). It writes only once the previous batch has
 * committed, and only if that batch committed the very plan it took and the leads it took from it
 * still have the planned versions; otherwise it rolls back and is planned again from the database.
 */

const MAX_ATTEMPTS = 3;
const RETRYABLE = new Set([ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT]);

export function startDryRun(): DryRun {
  return { owners: new Map(), nextId: DRY_RUN_ID_BASE };
}

export function prepareMany(
  deps: Pick<IntakeDeps, 'org' | 'clock'>,
  requests: readonly ManyRequest[],
): PreparedSubmission[] {
  const now = deps.clock.now();
  return requests.map((request) => {
    try {
      const { lead, warnings } = prepareSubmission(request.body);
      const keys = identityKeys(lead, request.sourceId);
      const fit = scoreSubmission(lead, request.sourceId, deps.org.scoring, now);
      return { ok: true, request, lead, warnings, keys, fit };
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 422) throw error;
      const issues = (error.details.issues as FieldIssue[] | undefined) ?? [
        { path: '', message: error.message },
      ];
      return { ok: false, request, code: error.code, message: error.message, issues };
    }
  });
}

/** A batch on its way into the database. */
export interface InFlightBatch {
  /** The batch's first plan, once made (null if it failed before): what the next batch builds on. */
  planned: Promise<BatchPlan | null>;
  /** Whether that first plan is what committed. */
  firstPlanCommitted: Promise<boolean>;
  /** One outcome per submission, in order, once the batch has committed. */
  outcomes: Promise<ManyOutcome[]>;
}

/** Thrown inside a batch's transaction when the plan it built on did not commit as planned. */
class StalePlan extends Error {}

/**
 * Starts writing prepared submissions (retried when a racing writer took a key, or on a deadlock;
 * after three refusals one at a time through `intakeLead`). `after`: the batch before this one, still
 * in flight. `dryRun`: the same reads and the same plan, nothing written, no id reserved; a dry run
 * waits for `after` to finish instead of planning alongside it.
 */
export function startCommit(
  deps: IntakeDeps,
  prepared: readonly PreparedSubmission[],
  options: { after?: InFlightBatch | null; dryRun?: DryRun | null } = {},
): InFlightBatch {
  const dryRun = options.dryRun ?? null;
  let after = options.after ?? null;
  let announce: (plan: BatchPlan | null) => void = () => undefined;
  const planned = new Promise<BatchPlan | null>((resolve) => {
    announce = resolve;
  });
  // The plan the next batch builds on: the first one made (a replanned batch does not re-announce).
  let announced: BatchPlan | null = null;

  const run = async (): Promise<{ outcomes: ManyOutcome[]; plan: BatchPlan | null }> => {
    if (dryRun && after) {
      await after.outcomes;
      after = null;
    }
    let overlay = after ? await after.planned : null;
    // A previous batch that failed before planning: this one fails with it.
    if (after && overlay === null) await after.outcomes;
    // Ids reserved in a failed attempt are reused by the next one (a row that merges leaves a gap).
    const ids: (number | undefined)[] = [];
    for (let attempt = 1; ; attempt++) {
      const previous = after;
      try {
        const result = await runReadThenBatch(deps.batchPool, async (db) => {
          const batch = await planBatch(db, deps, prepared, ids, { dryRun, overlay });
          if (announced === null) {
            announced = batch.plan;
            announce(batch.plan);
          }
          if (previous) {
            // Locks of the previous batch's own retry could wait for this transaction: give up at
            // once when its first plan failed, and plan again once it is done.
            if (!(await previous.firstPlanCommitted)) throw new StalePlan();
            if (!(await borrowedStillHold(db, batch.borrowed))) throw new StalePlan();
          }
          return { statements: batch.statements, result: { outcomes: batch.outcomes, plan: batch.plan } };
        });
        return result;
      } catch (error) {
        if (error instanceof StalePlan && previous) {
          await previous.outcomes;
          after = null;
          overlay = null;
          attempt--;
          continue;
        }
        if (!RETRYABLE.has(mysqlErrno(error) ?? -1)) throw error;
        // A key refused again and again is one the plan cannot see as taken (a collation
        // equivalence beyond `keyOf`), or a writer racing on the same people: the one-lead path
        // resolves each submission against the database itself.
        if (attempt >= MAX_ATTEMPTS) return { outcomes: await commitOneByOne(deps, prepared), plan: null };
      }
    }
  };

  const done = run();
  done.then(
    () => announce(null),
    () => announce(null),
  );
  const outcomes = done.then((r) => r.outcomes);
  const firstPlanCommitted = done.then(
    (r) => r.plan !== null && r.plan === announced,
    () => false,
  );
  // Awaited by the caller; marked handled so a failure is reported once, by the caller's await.
  outcomes.catch(() => undefined);
  return { planned, firstPlanCommitted, outcomes };
}

/** One batch, start to end: `startCommit` with nothing else in flight. */
export async function commitMany(
  deps: IntakeDeps,
  prepared: readonly PreparedSubmission[],
  options: { dryRun?: DryRun | boolean } = {},
): Promise<ManyOutcome[]> {
  const dryRun = options.dryRun === true ? startDryRun() : options.dryRun || null;
  return startCommit(deps, prepared, { dryRun }).outcomes;
}

/** `prepareMany` then `commitMany`. */
export async function intakeMany(
  deps: IntakeDeps,
  requests: readonly ManyRequest[],
  options: { dryRun?: DryRun | boolean } = {},
): Promise<ManyOutcome[]> {
  return commitMany(deps, prepareMany(deps, requests), options);
}

/** The fallback: every submission through `intakeLead` (and `storeRejectedPayload`), in order. */
async function commitOneByOne(
  deps: IntakeDeps,
  prepared: readonly PreparedSubmission[],
): Promise<ManyOutcome[]> {
  const outcomes: ManyOutcome[] = [];
  for (const p of prepared) {
    const { request } = p;
    if (!p.ok) {
      await storeRejectedPayload(deps.db, rejectedInput(p, deps.clock.now()));
      outcomes.push({ status: 'rejected', code: p.code, issues: p.issues });
      continue;
    }
    const { body } = await intakeLead(deps, {
      sourceId: request.sourceId,
      body: request.body,
      ...(request.note ? { note: request.note } : {}),
    });
    outcomes.push(
      body.status === 'created'
        ? { status: 'created', id: body.id, score: body.score, grade: body.grade, warnings: p.warnings }
        : { status: 'merged', id: body.id, warnings: p.warnings },
    );
  }
  return outcomes;
}
