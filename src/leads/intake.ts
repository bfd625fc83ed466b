import { createHash } from 'node:crypto';
import { and, eq, gt, or, sql } from 'drizzle-orm';
import type { Pool } from 'mysql2/promise';
import { privacyOf, retainUntil } from '../config/sections/privacy';
import { insertStatement, runBatch, type Statement } from '../db/batch';
import type { Tx } from '../db/client';
import type { IdAllocator } from '../db/id-allocator';
import { idempotencyKeys, leadEvents, leadIdentities, leads } from '../db/schema';
import {
  ER_DUP_ENTRY,
  ER_LOCK_DEADLOCK,
  ER_LOCK_WAIT_TIMEOUT,
  mysqlErrno,
  withTransaction,
} from '../db/transaction';
import { MalformedBodyError, parseJsonBody } from '../http/read-body';
import { AppError, conflict, type FieldIssue, validationFailed } from '../lib/errors';
import { scheduleTimersStatement } from '../timers/schedule';
import type { IntakeCoalescer } from './intake-coalescer';
import {
  type IdentityKey,
  type IdentityMatch,
  identityKeys,
  mergeDuplicate,
  newLeadRecords,
  scoreSubmission,
} from './intake-records';
import { parseLeadInput } from './intake-schema';
import type { LeadDeps } from './lead-deps';
import { normaliseLead } from './normalise';
import { storeRejectedPayload } from './rejected-payloads';
import type { LeadScore } from './scoring';
import { appendEvents, eventRows } from './timeline';
import type { NormalisedLead } from './types';

// The batched entry point (`leadrelay import`) applies these same rules to many submissions per
// transaction; see intake-many.ts.
export {
  commitMany,
  intakeMany,
  type ManyOutcome,
  type ManyRequest,
  type PreparedSubmission,
  prepareMany,
} from './intake-many';

/** Intake needs, besides the lead domain's deps, the lead id blocks and the batch pool. */
export interface IntakeDeps extends LeadDeps {
  leadIds: IdAllocator;
  batchPool: Pool;
  /**
   * The server's coalescer: concurrent API submissions share a transaction (intake-coalescer.ts).
   * Absent (the CLI, the import), each submission is its own transaction.
   */
  intakeCoalescer?: IntakeCoalescer;
}

export interface IntakeRequest {
  sourceId: string;
  /** The parsed JSON body. */
  body: unknown;
  /** `Idempotency-Key` header and the SHA-256 of the raw body. */
  idempotency?: { key: string; requestHash: string };
  /** Added to the data of the timeline event (`lead.created` or `lead.duplicate`); an import names its file row. */
  note?: Record<string, unknown>;
}

export type IntakeBody =
  | { id: number; status: 'created'; score: number; grade: string; warnings?: FieldIssue[] }
  | { id: number; status: 'merged'; warnings?: FieldIssue[] };

export interface IntakeOutcome {
  status: 200 | 201;
  body: IntakeBody;
  /** True when the answer was replayed from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export function hashRequestBody(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/**
 * Parses, normalises and validates a submission; throws a 422 AppError carrying field issues.
 * Separate from the transaction so a refused payload costs no database round trip.
 */
export function prepareSubmission(body: unknown): { lead: NormalisedLead; warnings: FieldIssue[] } {
  const parsed = parseLeadInput(body);
  if (!parsed.ok) throw validationFailed(parsed.issues);
  const { lead, issues, warnings } = normaliseLead(parsed.input);
  if (issues.length > 0) throw validationFailed(issues);
  return { lead, warnings };
}

/**
 * The intake domain action (PRODUCT.md 1–3). A new lead is one transaction sent in one round trip:
 * the lead (its id reserved in advance), its identities, its timeline, its first card and the outbox
 * row that delivers it. If a unique key refuses it (the person is already a lead, a racing twin got
 * there first, or the Idempotency-Key was used), the batch rolls back and the submission is resolved
 * against what exists: the stored answer, or a merge into the existing lead. Concurrency is decided
 * by the primary key of `lead_identities`, never by a read-then-write.
 */
export async function intakeLead(deps: IntakeDeps, request: IntakeRequest): Promise<IntakeOutcome> {
  return intakePrepared(deps, request, prepareSubmission(request.body));
}

/** `intakeLead` for a submission `prepareSubmission` has already checked (the coalescer's path). */
export async function intakePrepared(
  deps: IntakeDeps,
  request: IntakeRequest,
  prepared: { lead: NormalisedLead; warnings: FieldIssue[] },
): Promise<IntakeOutcome> {
  const { lead, warnings } = prepared;
  const keys = identityKeys(lead, request.sourceId);
  const fit = scoreSubmission(lead, request.sourceId, deps.org.scoring, deps.clock.now());
  const withWarnings = (outcome: IntakeOutcome) => {
    if (warnings.length > 0) outcome.body.warnings = warnings;
    return outcome;
  };

  for (let attempt = 1; ; attempt++) {
    const leadId = await deps.leadIds.next();
    const created = buildNewLead({
      leadId,
      lead,
      keys,
      fit,
      request,
      warnings,
      now: deps.clock.now(),
      retentionDays: privacyOf(deps.org).retentionDays,
    });
    try {
      await runBatch(deps.batchPool, created.statements);
      return created.outcome;
    } catch (error) {
      const errno = mysqlErrno(error);
      const retryable =
        errno === ER_DUP_ENTRY || errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT;
      if (!retryable || attempt >= 5) throw error;
    }
    const resolved = await resolveAgainstExisting(deps, { lead, keys, request });
    if (resolved) return resolved.replayed ? resolved : withWarnings(resolved);
  }
}

/**
 * The rows of a new lead as one batch: nothing here touches the database, so the whole transaction
 * travels in one round trip (db/batch.ts).
 */
function buildNewLead(input: {
  leadId: number;
  lead: NormalisedLead;
  keys: IdentityKey[];
  fit: LeadScore;
  request: IntakeRequest;
  warnings: FieldIssue[];
  now: Date;
  retentionDays: number;
}): { statements: Statement[]; outcome: IntakeOutcome } {
  const { leadId, fit, now, request } = input;
  const records = newLeadRecords({
    ...input,
    sourceId: request.sourceId,
    note: request.note,
    retentionDays: input.retentionDays,
  });
  const statements: Statement[] = [
    insertStatement(leads, [records.row]),
    insertStatement(leadIdentities, records.identities),
    insertStatement(leadEvents, eventRows(records.events, now)),
    // The intake route wakes the timer worker once this commits (intake-records.ts).
    scheduleTimersStatement([records.timer]),
  ];

  const body: IntakeBody = { id: leadId, status: 'created', score: fit.score, grade: fit.grade };
  if (input.warnings.length > 0) body.warnings = input.warnings;
  const outcome: IntakeOutcome = { status: 201, body, replayed: false };
  if (request.idempotency)
    statements.push(insertStatement(idempotencyKeys, [idempotencyRow(request, outcome, now)]));
  return { statements, outcome };
}

/** The `idempotency_keys` row that answers later requests with this key (24 h). */
export function idempotencyRow(request: IntakeRequest, outcome: IntakeOutcome, now: Date) {
  return {
    sourceId: request.sourceId,
    idemKey: request.idempotency!.key,
    requestHash: request.idempotency!.requestHash,
    statusCode: outcome.status,
    response: outcome.body as unknown as Record<string, unknown>,
    leadId: outcome.body.id,
    createdAt: now,
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
  };
}

/**
 * After a unique key refused the new lead: the earlier answer for this Idempotency-Key, or a merge
 * into the lead the identities belong to. Null when neither exists any more (an expired key was
 * cleared, a racing twin rolled back): the caller tries to create again.
 */
async function resolveAgainstExisting(
  deps: IntakeDeps,
  input: { lead: NormalisedLead; keys: IdentityKey[]; request: IntakeRequest },
): Promise<IntakeOutcome | null> {
  const { request } = input;
  return withTransaction(
    deps.db,
    async (tx) => {
      const now = deps.clock.now();
      if (request.idempotency) {
        const earlier = await findIdempotentAnswer(tx, request.sourceId, request.idempotency, now);
        if (earlier) return earlier;
      }
      const matches = await findMatches(tx, input.keys);
      if (matches.length === 0) return null;
      const outcome = await mergeIntoExisting(tx, deps, {
        lead: input.lead,
        keys: input.keys,
        matches,
        sourceId: request.sourceId,
        now,
        note: request.note,
      });
      if (request.idempotency) await tx.insert(idempotencyKeys).values(idempotencyRow(request, outcome, now));
      return outcome;
    },
    { retryOn: [ER_DUP_ENTRY] },
  );
}

export const idempotencyKeyReused = () =>
  conflict('idempotency_key_reused', 'Idempotency-Key 已用于另一个不同的请求体（24 小时内不可复用）');

async function findIdempotentAnswer(
  tx: Tx,
  sourceId: string,
  idempotency: { key: string; requestHash: string },
  now: Date,
): Promise<IntakeOutcome | null> {
  const [row] = await tx
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.sourceId, sourceId),
        eq(idempotencyKeys.idemKey, idempotency.key),
        gt(idempotencyKeys.expiresAt, now),
      ),
    );
  if (!row) {
    // An expired record may still hold the key; clear it so this request can claim it.
    await tx
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.sourceId, sourceId), eq(idempotencyKeys.idemKey, idempotency.key)));
    return null;
  }
  if (row.requestHash !== idempotency.requestHash) {
    throw idempotencyKeyReused();
  }
  return { status: row.statusCode as 200 | 201, body: row.response as unknown as IntakeBody, replayed: true };
}

async function findMatches(tx: Tx, keys: IdentityKey[]): Promise<IdentityMatch[]> {
  if (keys.length === 0) return [];
  return tx
    .select({ kind: leadIdentities.kind, value: leadIdentities.value, leadId: leadIdentities.leadId })
    .from(leadIdentities)
    .where(or(...keys.map((k) => and(eq(leadIdentities.kind, k.kind), eq(leadIdentities.value, k.value)))));
}

async function mergeIntoExisting(
  tx: Tx,
  deps: IntakeDeps,
  input: {
    lead: NormalisedLead;
    keys: IdentityKey[];
    matches: IdentityMatch[];
    sourceId: string;
    now: Date;
    note?: Record<string, unknown>;
  },
): Promise<IntakeOutcome> {
  const { now } = input;
  // Several leads can match (phone on one, e-mail on another): the oldest customer record wins.
  const leadId = Math.min(...input.matches.map((m) => m.leadId));
  const [existing] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
  if (!existing) throw new AppError(500, 'identity_orphaned', `线索 ${leadId} 的身份记录存在但线索不存在`);

  const merge = mergeDuplicate(existing, input, deps.org.scoring);
  await tx
    .update(leads)
    .set({
      ...merge.set,
      version: sql`${leads.version} + 1`,
      updatedAt: now,
      // The person submitted again: their data is kept for a full retention period from now.
      retainUntil: retainUntil(deps.org, now),
    })
    .where(eq(leads.id, leadId));
  if (merge.fresh.length > 0) {
    // New contact details now also identify this customer. A key another racing submission took in
    // the meantime stays with it (no-op update), which is why this is not a plain INSERT.
    await tx
      .insert(leadIdentities)
      .values(merge.fresh.map((k) => ({ ...k, leadId, createdAt: now })))
      .onDuplicateKeyUpdate({ set: { leadId: sql`${leadIdentities.leadId}` } });
  }
  await appendEvents(tx, merge.events, now);
  return { status: 200, body: { id: leadId, status: 'merged' }, replayed: false };
}

/**
 * The whole `POST /api/v1/leads` after authentication: parse, run the intake action, and keep any
 * refused payload for replay. The route only reads headers and presents the outcome.
 */
export async function submitLead(
  deps: IntakeDeps,
  input: {
    sourceId: string;
    raw: Buffer;
    contentType: string | null;
    idempotencyKey: string | null;
    requestId: string | null;
  },
): Promise<IntakeOutcome> {
  try {
    const body = parseJsonBody(input.raw);
    // Checked here, per request, so a refused payload is refused alone (and kept, below).
    const prepared = prepareSubmission(body);
    const request: IntakeRequest = {
      sourceId: input.sourceId,
      body,
      ...(input.idempotencyKey
        ? { idempotency: { key: input.idempotencyKey, requestHash: hashRequestBody(input.raw) } }
        : {}),
    };
    // A server shares transactions between concurrent submissions (intake-coalescer.ts).
    return await (deps.intakeCoalescer
      ? deps.intakeCoalescer.submit(request, prepared)
      : intakePrepared(deps, request, prepared));
  } catch (error) {
    // Malformed (400) and invalid (422) payloads from an authenticated source are kept for replay.
    if (error instanceof AppError && (error instanceof MalformedBodyError || error.status === 422)) {
      const issues = (error.details.issues as FieldIssue[] | undefined) ?? [
        { path: '', message: error.message },
      ];
      const rejectedId = await storeRejectedPayload(deps.db, {
        sourceId: input.sourceId,
        reasonCode: error.code,
        issues,
        contentType: input.contentType,
        idempotencyKey: input.idempotencyKey,
        requestId: input.requestId,
        body: input.raw,
        now: deps.clock.now(),
      });
      throw new AppError(error.status, error.code, error.message, { ...error.details, rejectedId });
    }
    throw error;
  }
}
