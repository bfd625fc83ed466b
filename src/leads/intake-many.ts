import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { insertStatement, runReadThenBatch, type Statement } from '../db/batch';
import { leadEvents, leadIdentities, leads } from '../db/schema';
import { ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, mysqlErrno } from '../db/transaction';
import { AppError, type FieldIssue } from '../lib/errors';
import { scheduleTimersStatement, type TimerSpec } from '../timers/schedule';
import { type IntakeDeps, intakeLead, prepareSubmission } from './intake';
import {
  type IdentityKey,
  type IdentityMatch,
  identityKeys,
  type MergeTarget,
  mergeDuplicate,
  type NewLeadRow,
  newLeadRecords,
  scoreSubmission,
} from './intake-records';
import type { LeadRow } from './lead-record';
import {
  type RejectedPayloadInput,
  storeRejectedPayload,
  storeRejectedPayloadsStatement,
} from './rejected-payloads';
import type { LeadScore } from './scoring';
import { eventRows, type LeadEvent } from './timeline';
import type { NormalisedLead } from './types';

/**
 * Bulk intake (`leadrelay import`): many submissions per transaction, with the rules of the one-lead
 * path (`intakeLead`): the same zod schema and normalisation (`prepareSubmission`), the same keys,
 * scores, rows, events and `lead.assign` timers (intake-records.ts), the same refusals kept in
 * `rejected_payloads`.
 *
 * A batch is planned in memory as if its submissions arrived one after another: inside one
 * transaction the identities of all its keys are read at once, the leads they name are locked
 * (`FOR UPDATE`), then each submission in order either creates a lead or merges into the lead holding
 * one of its keys, which may be a lead created earlier in the same batch. What the plan decided is
 * written with the COMMIT in one round trip (multi-row INSERTs). As in `intakeLead`, concurrency is
 * decided by the primary key of `lead_identities`, not by the read: if another instance took one of
 * the keys in the meantime, the INSERT fails, the batch rolls back and is planned again.
 */

export interface ManyRequest {
  sourceId: string;
  /** The submission, shaped like a `POST /api/v1/leads` body. */
  body: unknown;
  /** The bytes kept in `rejected_payloads` when it is refused (default: `body` as JSON). */
  raw?: Buffer;
  /** Stored with a refused payload where the API stores the `X-Request-Id`. */
  requestId?: string | null;
  /** Added to the data of the timeline event (`lead.created` or `lead.duplicate`), e.g. the file row. */
  note?: Record<string, unknown>;
}

export type ManyOutcome =
  | { status: 'created'; id: number; score: number; grade: string; warnings: FieldIssue[] }
  | { status: 'merged'; id: number; warnings: FieldIssue[] }
  | { status: 'rejected'; code: string; issues: FieldIssue[] };

/** A submission validated, normalised and scored: the CPU half of intake, done before any query. */
export type PreparedSubmission =
  | {
      ok: true;
      request: ManyRequest;
      lead: NormalisedLead;
      warnings: FieldIssue[];
      keys: IdentityKey[];
      fit: LeadScore;
    }
  | { ok: false; request: ManyRequest; code: string; message: string; issues: FieldIssue[] };

/** In a dry run no id is reserved: leads that would be created get placeholder ids from here up. */
export const DRY_RUN_ID_BASE = 2 ** 52;

/**
 * What a dry run has "written" so far. Nothing reaches the database, so a dry run over several
 * batches carries the keys of the leads its earlier batches would have created: a row matching one
 * is counted as a merge, as the real import would count it. Only keys are kept (not the leads), so a
 * dry run of a large file stays small.
 */
export interface DryRun {
  owners: Map<string, number>;
  nextId: number;
}

export function startDryRun(): DryRun {
  return { owners: new Map(), nextId: DRY_RUN_ID_BASE };
}
const MAX_ATTEMPTS = 3;
const RETRYABLE = new Set([ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT]);

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

/**
 * Writes prepared submissions in one transaction (retried when a racing writer took a key, or on a
 * deadlock) and answers one outcome per submission, in order. `dryRun`: the same reads and the same
 * plan, nothing written (no id reserved either).
 */
export async function commitMany(
  deps: IntakeDeps,
  prepared: readonly PreparedSubmission[],
  options: { dryRun?: DryRun | boolean } = {},
): Promise<ManyOutcome[]> {
  const dryRun = options.dryRun === true ? startDryRun() : options.dryRun || null;
  // Ids reserved in a failed attempt are reused by the next one (a row that merges instead leaves a gap).
  const ids: (number | undefined)[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await runReadThenBatch(deps.batchPool, (db) => planBatch(db, deps, prepared, ids, dryRun));
    } catch (error) {
      const errno = mysqlErrno(error) ?? -1;
      if (!RETRYABLE.has(errno)) throw error;
      // A key refused again and again is one the plan cannot see as taken (a collation equivalence
      // beyond `keyOf`), or a writer racing on the same people: the one-lead path resolves each
      // submission against the database itself.
      if (attempt >= MAX_ATTEMPTS) return commitOneByOne(deps, prepared);
    }
  }
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

function rejectedInput(p: PreparedSubmission & { ok: false }, now: Date): RejectedPayloadInput {
  return {
    sourceId: p.request.sourceId,
    reasonCode: p.code,
    issues: p.issues,
    contentType: 'application/json',
    idempotencyKey: null,
    requestId: p.request.requestId ?? null,
    body: p.request.raw ?? Buffer.from(JSON.stringify(p.request.body ?? null)),
    now,
  };
}

/** `prepareMany` then `commitMany`. */
export async function intakeMany(
  deps: IntakeDeps,
  requests: readonly ManyRequest[],
  options: { dryRun?: DryRun | boolean } = {},
): Promise<ManyOutcome[]> {
  return commitMany(deps, prepareMany(deps, requests), options);
}

type Target =
  | { isNew: true; row: NewLeadRow & { version: number } }
  | { isNew: false; row: LeadRow; changed: Set<string>; merges: number };

/**
 * Keys compare as the database compares them: `lead_identities.value` is utf8mb4_unicode_ci, so
 * `ABC-1` and `abc-1 ` are one key there (case-insensitive, trailing spaces ignored). Folding the
 * same way here keeps the plan from creating two leads the primary key then refuses. Anything the
 * collation equates beyond this is caught by that refusal (see `commitMany`).
 */
const keyOf = (k: IdentityKey) => `${k.kind}\u0000${k.value.toLowerCase().replace(/ +$/, '')}`;

async function planBatch(
  db: MySql2Database,
  deps: IntakeDeps,
  prepared: readonly PreparedSubmission[],
  ids: (number | undefined)[],
  dryRun: DryRun | null,
): Promise<{ statements: Statement[]; result: ManyOutcome[] }> {
  const now = deps.clock.now();
  const found = await readOwners(db, prepared);
  // A dry run keeps the keys its earlier batches created; the rest comes from the database.
  const owners = dryRun?.owners ?? found;
  if (dryRun) for (const [key, leadId] of found) if (!owners.has(key)) owners.set(key, leadId);
  const targets = new Map<number, Target>();
  const existingIds = new Set<number>();
  for (const p of prepared) {
    if (!p.ok) continue;
    for (const key of p.keys) {
      const leadId = owners.get(keyOf(key));
      if (leadId !== undefined && leadId < DRY_RUN_ID_BASE) existingIds.add(leadId);
    }
  }
  if (existingIds.size > 0) {
    const query = db
      .select()
      .from(leads)
      .where(inArray(leads.id, [...existingIds]));
    for (const row of dryRun ? await query : await query.for('update')) {
      targets.set(row.id, { isNew: false, row, changed: new Set(), merges: 0 });
    }
  }

  const outcomes: ManyOutcome[] = [];
  const created: (NewLeadRow & { version: number })[] = [];
  const identities: { kind: string; value: string; leadId: number; createdAt: Date }[] = [];
  const events: LeadEvent[] = [];
  const timers: TimerSpec[] = [];
  const rejected: RejectedPayloadInput[] = [];

  for (const [index, p] of prepared.entries()) {
    const { sourceId, note } = p.request;
    if (!p.ok) {
      outcomes.push({ status: 'rejected', code: p.code, issues: p.issues });
      rejected.push(rejectedInput(p, now));
      continue;
    }
    const matches: IdentityMatch[] = [];
    for (const key of p.keys) {
      const leadId = owners.get(keyOf(key));
      if (leadId !== undefined) matches.push({ ...key, leadId });
    }

    if (matches.length === 0) {
      if (!dryRun) ids[index] ??= await deps.leadIds.next();
      const leadId = dryRun ? dryRun.nextId++ : ids[index]!;
      const records = newLeadRecords({ leadId, lead: p.lead, keys: p.keys, fit: p.fit, sourceId, now, note });
      const row = { ...records.row, version: 1 };
      targets.set(leadId, { isNew: true, row });
      created.push(row);
      identities.push(...records.identities);
      events.push(...records.events);
      timers.push(records.timer);
      for (const key of p.keys) owners.set(keyOf(key), leadId);
      outcomes.push({
        status: 'created',
        id: leadId,
        score: p.fit.score,
        grade: p.fit.grade,
        warnings: p.warnings,
      });
      continue;
    }

    // The oldest lead among the matches, as in `intakeLead`.
    const leadId = Math.min(...matches.map((m) => m.leadId));
    const target = targets.get(leadId);
    if (!target && dryRun && leadId >= DRY_RUN_ID_BASE) {
      // A lead an earlier batch of this dry run would have created: a merge, its fields not kept.
      for (const key of p.keys) if (!owners.has(keyOf(key))) owners.set(keyOf(key), leadId);
      outcomes.push({ status: 'merged', id: leadId, warnings: p.warnings });
      continue;
    }
    if (!target) throw new AppError(500, 'identity_orphaned', `线索 ${leadId} 的身份记录存在但线索不存在`);
    const merge = mergeDuplicate(
      target.row as MergeTarget,
      { lead: p.lead, keys: p.keys, matches, sourceId, now, note },
      deps.org.scoring,
    );
    // The next submission of the batch sees the lead as this merge left it.
    Object.assign(target.row, merge.set);
    if (target.isNew) target.row.version++;
    else {
      for (const field of Object.keys(merge.set)) target.changed.add(field);
      target.merges++;
    }
    for (const key of merge.fresh) {
      owners.set(keyOf(key), leadId);
      identities.push({ ...key, leadId, createdAt: now });
    }
    events.push(...merge.events);
    outcomes.push({ status: 'merged', id: leadId, warnings: p.warnings });
  }

  if (dryRun) return { statements: [], result: outcomes };
  const statements: Statement[] = [];
  // Identities first: a key a racing writer took fails the batch before the large INSERTs run.
  if (identities.length > 0) statements.push(insertStatement(leadIdentities, identities));
  if (created.length > 0) statements.push(insertStatement(leads, created));
  for (const target of targets.values()) {
    if (target.isNew || target.merges === 0) continue;
    const set: Record<string, unknown> = {};
    for (const field of target.changed) set[field] = target.row[field as keyof LeadRow];
    const update = db
      .update(leads)
      .set({ ...set, version: sql`${leads.version} + ${target.merges}`, updatedAt: now })
      .where(eq(leads.id, target.row.id))
      .toSQL();
    statements.push({ sql: update.sql, params: update.params });
  }
  if (events.length > 0) statements.push(insertStatement(leadEvents, eventRows(events, now)));
  if (timers.length > 0) statements.push(scheduleTimersStatement(timers));
  if (rejected.length > 0) statements.push(storeRejectedPayloadsStatement(rejected));
  return { statements, result: outcomes };
}

/** Who holds each key of the batch now: one indexed read of `lead_identities` per kind. */
async function readOwners(
  db: MySql2Database,
  prepared: readonly PreparedSubmission[],
): Promise<Map<string, number>> {
  const byKind = new Map<string, Set<string>>();
  for (const p of prepared) {
    if (!p.ok) continue;
    for (const key of p.keys) {
      const values = byKind.get(key.kind) ?? new Set<string>();
      byKind.set(key.kind, values);
      values.add(key.value);
    }
  }
  const owners = new Map<string, number>();
  if (byKind.size === 0) return owners;
  const rows = await db
    .select({ kind: leadIdentities.kind, value: leadIdentities.value, leadId: leadIdentities.leadId })
    .from(leadIdentities)
    .where(
      or(
        ...[...byKind].map(([kind, values]) =>
          and(eq(leadIdentities.kind, kind), inArray(leadIdentities.value, [...values])),
        ),
      ),
    );
  for (const row of rows) owners.set(keyOf(row), row.leadId);
  return owners;
}
