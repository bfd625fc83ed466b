import { and, eq, inArray, or } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { privacyOf } from '../config/sections/privacy';
import { insertSql, runBatch, runReadThenBatch, type Statement } from '../db/batch';
import { idempotencyKeys, leadEvents, leadIdentities, leads } from '../db/schema';
import { ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, mysqlErrno } from '../db/transaction';
import { describeError } from '../lib/error-text';
import type { FieldIssue } from '../lib/errors';
import { scheduleTimersStatement, type TimerSpec } from '../timers/schedule';
import {
  type IntakeBody,
  type IntakeDeps,
  type IntakeOutcome,
  type IntakeRequest,
  idempotencyKeyReused,
  idempotencyRow,
  intakePrepared,
} from './intake';
import { keyOf, type ManyOutcome, type PreparedSubmission, planBatch } from './intake-many-plan';
import {
  type IdentityKey,
  identityKeys,
  type NewLeadRow,
  newLeadRecords,
  scoreSubmission,
} from './intake-records';
import { eventRows, type LeadEvent } from './timeline';
import type { NormalisedLead } from './types';

/**
 * Natural batching of `POST /api/v1/leads` (bench/intake): concurrent submissions share one
 * transaction instead of one each, because under load the per-transaction costs (round trips, the
 * COMMIT's log flush, one INSERT per table per lead) dominate the request.
 *
 * No timer: a submission that finds a writer free is written at once (after the current turn of the
 * event loop, so requests read in the same turn go together), alone through `intakePrepared`, the
 * one-lead path. Submissions that arrive while `maxConcurrent` batches are being written queue up and
 * go, up to `maxBatch` at a time, as soon as one finishes. At low load every request is alone and
 * pays nothing; under load batches grow by themselves.
 *
 * A batch of people not seen before is written as `intakeLead` writes one lead, optimistically, in
 * one round trip (the same rows as multi-row INSERTs); if a key is taken (the person is known, an
 * Idempotency-Key was used) the primary keys refuse it, it rolls back and is planned. Batches with
 * one person twice, or following a batch that met known people, are planned straight away, as
 * `leadrelay import` plans one (intake-many-plan.ts): in order, as if its submissions had arrived
 * one after another, so two submissions of one person in one batch give one 201 and one 200 with
 * the same id; the keys, rows, events, `lead.assign` timers and retention dates are the one-lead
 * path's (intake-records.ts). Idempotency-Keys are decided in the same transaction: a stored answer is
 * replayed, a key used with another body is a 409, a key repeated within the batch answers as the
 * first submission did. A racing writer (another instance, a batch in parallel) is caught by the
 * primary keys and the batch is planned again; if it still fails, or fails otherwise, every
 * submission of it runs alone through the one-lead path, so one bad submission fails only itself.
 * Validation happens before a submission joins (intake.ts `submitLead`): a refused payload is
 * refused and kept alone.
 */

export interface IntakeCoalescerOptions {
  /** Most submissions one transaction takes. */
  maxBatch: number;
  /** Transactions being written at once (each holds a batch-pool connection). */
  maxConcurrent: number;
}

export const DEFAULT_COALESCER_OPTIONS: IntakeCoalescerOptions = { maxBatch: 64, maxConcurrent: 2 };

export interface IntakeCoalescerCounters {
  /** Transactions written with more than one submission. */
  batches: number;
  /** Submissions written in those. */
  batched: number;
  /** Of those batches, the ones planned on what the database holds (the others were all new). */
  planned: number;
  /** Submissions written alone (found a writer free, or the batch failed). */
  alone: number;
  /** Batches that failed and were run one submission at a time. */
  fallbacks: number;
}

export interface IntakeCoalescer {
  /** Writes a checked submission (`prepareSubmission`), sharing a transaction when others wait. */
  submit(
    request: IntakeRequest,
    prepared: { lead: NormalisedLead; warnings: FieldIssue[] },
  ): Promise<IntakeOutcome>;
  /** Resolves once every submission handed in so far is answered (graceful stop). */
  drain(): Promise<void>;
  readonly counters: Readonly<IntakeCoalescerCounters>;
}

interface Waiting {
  request: IntakeRequest;
  prepared: { lead: NormalisedLead; warnings: FieldIssue[] };
  resolve(outcome: IntakeOutcome): void;
  reject(error: unknown): void;
  /** The lead id reserved for it by an attempt that rolled back: the next attempt uses it again. */
  leadId?: number;
  /** Its dedupe keys (`identityKeys`), worked out once. */
  keys?: IdentityKey[];
}

/** What one coalescer remembers between batches. */
interface CoalescerState {
  counters: IntakeCoalescerCounters;
  /**
   * The last batch met people already known (merges, replayed keys): the next one reads before it
   * writes. Otherwise a batch is first written as all new, in one round trip, as `intakeLead` writes
   * one lead; a key that turns out taken rolls it back and it is planned.
   */
  expectKnown: boolean;
}

type Answer = { ok: true; outcome: IntakeOutcome } | { ok: false; error: unknown };

const MAX_ATTEMPTS = 3;
const RETRYABLE = new Set([ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT]);

export function createIntakeCoalescer(
  deps: IntakeDeps,
  options: Partial<IntakeCoalescerOptions> = {},
): IntakeCoalescer {
  const { maxBatch, maxConcurrent } = { ...DEFAULT_COALESCER_OPTIONS, ...options };
  if (!(maxBatch >= 1 && maxConcurrent >= 1))
    throw new Error('intake coalescer needs maxBatch, maxConcurrent ≥ 1');
  const counters: IntakeCoalescerCounters = { batches: 0, batched: 0, planned: 0, alone: 0, fallbacks: 0 };
  const state: CoalescerState = { counters, expectKnown: false };
  const queue: Waiting[] = [];
  let writing = 0;
  let scheduled = false;
  let idle: (() => void)[] = [];

  const startBatches = () => {
    scheduled = false;
    while (writing < maxConcurrent && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      writing++;
      void writeBatch(deps, batch, state).finally(() => {
        writing--;
        if (queue.length > 0) schedule();
        else if (writing === 0) {
          const waiting = idle;
          idle = [];
          for (const done of waiting) done();
        }
      });
    }
  };
  // setImmediate, not a timer: it runs right after the I/O callbacks of this turn, so the requests
  // whose bodies arrived together are written together, and a lone request waits for nothing.
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(startBatches);
  };

  return {
    submit(request, prepared) {
      return new Promise<IntakeOutcome>((resolve, reject) => {
        queue.push({ request, prepared, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (writing === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    counters,
  };
}

/** Writes one batch and settles each submission of it; never rejects. */
async function writeBatch(deps: IntakeDeps, batch: Waiting[], state: CoalescerState): Promise<void> {
  const { counters } = state;
  if (batch.length === 1) {
    counters.alone++;
    await writeAlone(deps, batch[0]!);
    return;
  }
  let answers: Answer[];
  try {
    answers = await commitBatch(deps, batch, state);
  } catch (error) {
    // Whatever failed (a value the database refuses, a key the plan cannot see as taken, a lost
    // connection), each submission now meets it alone: the others still get in.
    counters.fallbacks++;
    counters.alone += batch.length;
    deps.logger.warn(
      { err: describeError(error), submissions: batch.length },
      'intake: a shared transaction failed; writing its submissions one by one',
    );
    await Promise.all(batch.map((waiting) => writeAlone(deps, waiting)));
    return;
  }
  counters.batches++;
  counters.batched += batch.length;
  for (const [i, answer] of answers.entries()) {
    const waiting = batch[i]!;
    if (answer.ok) waiting.resolve(answer.outcome);
    else waiting.reject(answer.error);
  }
}

async function writeAlone(deps: IntakeDeps, waiting: Waiting): Promise<void> {
  try {
    waiting.resolve(await intakePrepared(deps, waiting.request, waiting.prepared));
  } catch (error) {
    waiting.reject(error);
  }
}

const keysOf = (waiting: Waiting): IdentityKey[] =>
  (waiting.keys ??= identityKeys(waiting.prepared.lead, waiting.request.sourceId));

/**
 * One transaction for the batch: written as all new when nothing says otherwise, else (or when a
 * key refused that) planned, and planned again when a unique key or a deadlock refused the plan.
 */
async function commitBatch(deps: IntakeDeps, batch: Waiting[], state: CoalescerState): Promise<Answer[]> {
  if (!state.expectKnown && !sharesKeys(batch)) {
    try {
      return await commitAllNew(deps, batch);
    } catch (error) {
      if (!RETRYABLE.has(mysqlErrno(error) ?? -1)) throw error;
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const answers = await runReadThenBatch(deps.batchPool, (db) => planCoalesced(db, deps, batch));
      state.counters.planned++;
      state.expectKnown = answers.some((a) => !a.ok || a.outcome.status !== 201 || a.outcome.replayed);
      return answers;
    } catch (error) {
      if (!RETRYABLE.has(mysqlErrno(error) ?? -1) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Two submissions of the batch name the same person or the same Idempotency-Key. */
function sharesKeys(batch: Waiting[]): boolean {
  const seen = new Set<string>();
  for (const waiting of batch) {
    const { idempotency, sourceId } = waiting.request;
    const names = keysOf(waiting).map(keyOf);
    if (idempotency) names.push(`idempotency\u0000${claimKey(sourceId, idempotency.key)}`);
    for (const name of names) {
      if (seen.has(name)) return true;
      seen.add(name);
    }
  }
  return false;
}

/**
 * Every submission a new lead, in one round trip: the rows `intakeLead` writes for one lead, as
 * multi-row INSERTs. Identities and Idempotency-Keys go first, so a person or a key already known
 * fails the batch (ER_DUP_ENTRY) before the larger rows are written.
 */
async function commitAllNew(deps: IntakeDeps, batch: Waiting[]): Promise<Answer[]> {
  const now = deps.clock.now();
  const retentionDays = privacyOf(deps.org).retentionDays;
  const rows: NewLeadRow[] = [];
  const identities: ReturnType<typeof newLeadRecords>['identities'] = [];
  const events: LeadEvent[] = [];
  const timers: TimerSpec[] = [];
  const idempotencyRows: ReturnType<typeof idempotencyRow>[] = [];
  const answers: Answer[] = [];
  for (const waiting of batch) {
    const { request, prepared } = waiting;
    const fit = scoreSubmission(prepared.lead, request.sourceId, deps.org.scoring, now);
    waiting.leadId ??= await deps.leadIds.next();
    const records = newLeadRecords({
      leadId: waiting.leadId,
      lead: prepared.lead,
      keys: keysOf(waiting),
      fit,
      sourceId: request.sourceId,
      now,
      retentionDays,
    });
    rows.push(records.row);
    identities.push(...records.identities);
    events.push(...records.events);
    timers.push(records.timer);
    const { answer } = outcomeOf({
      status: 'created',
      id: waiting.leadId,
      score: fit.score,
      grade: fit.grade,
      warnings: prepared.warnings,
    });
    if (request.idempotency) idempotencyRows.push(idempotencyRow(request, answer, now));
    answers.push({ ok: true, outcome: answer });
  }
  const statements: Statement[] = [insertSql(leadIdentities, identities)];
  if (idempotencyRows.length > 0) statements.push(insertSql(idempotencyKeys, idempotencyRows));
  statements.push(
    insertSql(leads, rows),
    insertSql(leadEvents, eventRows(events, now)),
    // The intake route wakes the timer worker once this commits.
    scheduleTimersStatement(timers),
  );
  await runBatch(deps.batchPool, statements);
  return answers;
}

/** An earlier answer for an Idempotency-Key: stored, or that of a submission earlier in the batch. */
type Claim = { hash: string; stored: IntakeOutcome } | { hash: string; index: number };

/**
 * Idempotency-Keys compare as the primary key of `idempotency_keys` does (utf8mb4_unicode_ci: case
 * does not matter). Anything else the collation equates is caught by that key on INSERT.
 */
const claimKey = (sourceId: string, key: string) => `${sourceId.toLowerCase()}\u0000${key.toLowerCase()}`;

/**
 * Plans the batch inside its transaction: Idempotency-Keys first (replays and conflicts write
 * nothing), then the rest as bulk intake plans a batch. Returns the statements that go with the
 * COMMIT and each submission's answer.
 */
async function planCoalesced(
  db: MySql2Database,
  deps: IntakeDeps,
  batch: Waiting[],
): Promise<{ statements: Statement[]; result: Answer[] }> {
  const now = deps.clock.now();
  const answers: Answer[] = new Array(batch.length);
  const stored = await readIdempotencyKeys(db, batch);
  const claims = new Map<string, Claim>();
  const expired: { sourceId: string; idemKey: string }[] = [];
  /** Indexes of the submissions that write a lead; followers answer as an earlier one of the batch. */
  const writers: number[] = [];
  const followers: { index: number; of: number }[] = [];

  for (const [index, { request }] of batch.entries()) {
    const idempotency = request.idempotency;
    if (!idempotency) {
      writers.push(index);
      continue;
    }
    const key = claimKey(request.sourceId, idempotency.key);
    let claim = claims.get(key);
    const row = stored.get(key);
    if (!claim && row && row.expiresAt > now) {
      claim = {
        hash: row.requestHash,
        stored: {
          status: row.statusCode as 200 | 201,
          body: row.response as unknown as IntakeBody,
          replayed: true,
        },
      };
      claims.set(key, claim);
    }
    if (claim) {
      if (claim.hash !== idempotency.requestHash)
        answers[index] = { ok: false, error: idempotencyKeyReused() };
      else if ('stored' in claim) answers[index] = { ok: true, outcome: claim.stored };
      else followers.push({ index, of: claim.index });
      continue;
    }
    // An expired record still holds the key: cleared in this transaction so this request claims it.
    if (row) expired.push({ sourceId: row.sourceId, idemKey: row.idemKey });
    claims.set(key, { hash: idempotency.requestHash, index });
    writers.push(index);
  }

  const statements: Statement[] = [];
  if (writers.length > 0) {
    const prepared: PreparedSubmission[] = writers.map((i) => {
      const { request, prepared: p } = batch[i]!;
      return {
        ok: true,
        request: { sourceId: request.sourceId, body: request.body },
        lead: p.lead,
        warnings: p.warnings,
        keys: keysOf(batch[i]!),
        fit: scoreSubmission(p.lead, request.sourceId, deps.org.scoring, now),
      };
    });
    const ids = writers.map((i) => batch[i]!.leadId);
    let planned: Awaited<ReturnType<typeof planBatch>>;
    try {
      planned = await planBatch(db, deps, prepared, ids, { dryRun: null, overlay: null });
    } finally {
      for (const [j, i] of writers.entries()) batch[i]!.leadId = ids[j];
    }
    /** What later requests with the same key get: the one-lead path stores a merge without warnings. */
    const storedOutcomes = new Map<number, IntakeOutcome>();
    const idempotencyRows: ReturnType<typeof idempotencyRow>[] = [];
    for (const [j, index] of writers.entries()) {
      const { answer, stored: remembered } = outcomeOf(planned.outcomes[j]!);
      answers[index] = { ok: true, outcome: answer };
      storedOutcomes.set(index, remembered);
      const { request } = batch[index]!;
      if (request.idempotency) idempotencyRows.push(idempotencyRow(request, remembered, now));
    }
    for (const { index, of } of followers) {
      answers[index] = { ok: true, outcome: { ...storedOutcomes.get(of)!, replayed: true } };
    }
    for (const { sourceId, idemKey } of expired) {
      statements.push({
        sql: 'DELETE FROM `idempotency_keys` WHERE `source_id` = ? AND `idem_key` = ? AND `expires_at` <= ?',
        params: [sourceId, idemKey, now],
      });
    }
    // Keys first: a key a racing request took fails the batch before the leads are written.
    if (idempotencyRows.length > 0) statements.push(insertSql(idempotencyKeys, idempotencyRows));
    statements.push(...planned.statements);
  }
  return { statements, result: answers };
}

/** The answer to the request, and the answer stored for its Idempotency-Key (as `intakeLead` does). */
function outcomeOf(outcome: ManyOutcome): { answer: IntakeOutcome; stored: IntakeOutcome } {
  if (outcome.status === 'created') {
    const body: IntakeBody = {
      id: outcome.id,
      status: 'created',
      score: outcome.score,
      grade: outcome.grade,
    };
    if (outcome.warnings.length > 0) body.warnings = outcome.warnings;
    const answer: IntakeOutcome = { status: 201, body, replayed: false };
    return { answer, stored: answer };
  }
  if (outcome.status === 'merged') {
    const stored: IntakeOutcome = {
      status: 200,
      body: { id: outcome.id, status: 'merged' },
      replayed: false,
    };
    if (outcome.warnings.length === 0) return { answer: stored, stored };
    return { answer: { ...stored, body: { ...stored.body, warnings: outcome.warnings } }, stored };
  }
  // Only checked submissions join a batch.
  throw new Error(`intake coalescer: a checked submission was refused (${outcome.code})`);
}

/** The records of the batch's Idempotency-Keys, expired ones included, by `claimKey`. */
async function readIdempotencyKeys(db: MySql2Database, batch: Waiting[]) {
  const bySource = new Map<string, Set<string>>();
  for (const { request } of batch) {
    if (!request.idempotency) continue;
    const keys = bySource.get(request.sourceId) ?? new Set<string>();
    bySource.set(request.sourceId, keys);
    keys.add(request.idempotency.key);
  }
  const found = new Map<string, typeof idempotencyKeys.$inferSelect>();
  if (bySource.size === 0) return found;
  const rows = await db
    .select()
    .from(idempotencyKeys)
    .where(
      or(
        ...[...bySource].map(([sourceId, keys]) =>
          and(eq(idempotencyKeys.sourceId, sourceId), inArray(idempotencyKeys.idemKey, [...keys])),
        ),
      ),
    );
  for (const row of rows) found.set(claimKey(row.sourceId, row.idemKey), row);
  return found;
}
