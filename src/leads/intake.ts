import { createHash } from 'node:crypto';
import { and, eq, gt, or, sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import { idempotencyKeys, leadIdentities, leads } from '../db/schema';
import { ER_DUP_ENTRY, withTransaction } from '../db/transaction';
import { MalformedBodyError, parseJsonBody } from '../http/read-body';
import { AppError, conflict, type FieldIssue, validationFailed } from '../lib/errors';
import { claimWindowMs, pickInitialAssignee } from '../routing/initial-assignee';
import { dedupeKeys } from './dedupe-keys';
import { parseLeadInput } from './intake-schema';
import { cardContext, queueCard } from './lead-cards';
import type { LeadDeps } from './lead-deps';
import { fromLeadRow, mergeSubmission, toScoringInput } from './lead-record';
import { normaliseLead } from './normalise';
import { storeRejectedPayload } from './rejected-payloads';
import { gradeFor, scoreLead } from './scoring';
import { appendEvents } from './timeline';
import type { NormalisedLead } from './types';

export type IntakeDeps = LeadDeps;

export interface IntakeRequest {
  sourceId: string;
  /** The parsed JSON body. */
  body: unknown;
  /** `Idempotency-Key` header and the SHA-256 of the raw body. */
  idempotency?: { key: string; requestHash: string };
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

/** A row of `lead_identities`: the dedupe keys plus the per-source external id. */
interface IdentityKey {
  kind: string;
  value: string;
}

/** A per-source external id is an identity too: a source re-sending its own record is the same lead. */
function identityKeys(lead: NormalisedLead, sourceId: string): IdentityKey[] {
  const keys: IdentityKey[] = [...dedupeKeys(lead)];
  if (lead.externalId) {
    const value = `${sourceId}:${lead.externalId}`;
    keys.push({
      kind: 'external_id',
      value: value.length <= 191 ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`,
    });
  }
  // One order everywhere, so concurrent inserts of overlapping keys lock in the same order.
  return keys.sort((a, b) => (a.kind + a.value < b.kind + b.value ? -1 : 1));
}

/**
 * The intake domain action (PRODUCT.md 1–3): one transaction that either creates the lead with its
 * identities and timeline, or merges the submission into the lead it duplicates. Concurrency is
 * decided by the primary key of `lead_identities`: a racing twin fails with a duplicate key, the
 * transaction re-runs, and the second attempt sees the winner and merges.
 */
export async function intakeLead(deps: IntakeDeps, request: IntakeRequest): Promise<IntakeOutcome> {
  const { lead, warnings } = prepareSubmission(request.body);
  const keys = identityKeys(lead, request.sourceId);
  const fit = scoreLead(toScoringInput(lead, request.sourceId), [], deps.org.scoring, deps.clock.now());

  return withTransaction(
    deps.db,
    async (tx) => {
      const now = deps.clock.now();
      if (request.idempotency) {
        const earlier = await findIdempotentAnswer(tx, request.sourceId, request.idempotency, now);
        if (earlier) return earlier;
      }
      const matches = await findMatches(tx, keys);
      const outcome =
        matches.length > 0
          ? await mergeIntoExisting(tx, deps, { lead, keys, matches, sourceId: request.sourceId, now })
          : await createLead(tx, deps, { lead, keys, fit, sourceId: request.sourceId, now });
      if (warnings.length > 0) outcome.body.warnings = warnings;
      if (request.idempotency) {
        await tx.insert(idempotencyKeys).values({
          sourceId: request.sourceId,
          idemKey: request.idempotency.key,
          requestHash: request.idempotency.requestHash,
          statusCode: outcome.status,
          response: outcome.body,
          leadId: outcome.body.id,
          createdAt: now,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
        });
      }
      return outcome;
    },
    { retryOn: [ER_DUP_ENTRY] },
  );
}

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
    throw conflict('idempotency_key_reused', 'Idempotency-Key 已用于另一个不同的请求体（24 小时内不可复用）');
  }
  return { status: row.statusCode as 200 | 201, body: row.response as unknown as IntakeBody, replayed: true };
}

async function findMatches(
  tx: Tx,
  keys: IdentityKey[],
): Promise<{ kind: string; value: string; leadId: number }[]> {
  if (keys.length === 0) return [];
  return tx
    .select({ kind: leadIdentities.kind, value: leadIdentities.value, leadId: leadIdentities.leadId })
    .from(leadIdentities)
    .where(or(...keys.map((k) => and(eq(leadIdentities.kind, k.kind), eq(leadIdentities.value, k.value)))));
}

async function createLead(
  tx: Tx,
  deps: IntakeDeps,
  input: {
    lead: NormalisedLead;
    keys: IdentityKey[];
    fit: ReturnType<typeof scoreLead>;
    sourceId: string;
    now: Date;
  },
): Promise<IntakeOutcome> {
  const { lead, fit, now } = input;
  const assignment = pickInitialAssignee(deps.org, deps.directory);
  const [inserted] = await tx
    .insert(leads)
    .values({
      ...lead,
      sourceId: input.sourceId,
      teamId: assignment?.team.id ?? null,
      assigneeId: assignment?.member.id ?? null,
      assignedAt: assignment ? now : null,
      score: fit.score,
      fitScore: fit.fitScore,
      behaviourScore: 0,
      grade: fit.grade,
      createdAt: now,
      updatedAt: now,
    })
    .$returningId();
  const leadId = inserted!.id;
  // A plain INSERT: if a concurrent submission took one of these keys, this fails and the whole
  // transaction re-runs as a merge.
  await tx.insert(leadIdentities).values(input.keys.map((k) => ({ ...k, leadId, createdAt: now })));
  await appendEvents(
    tx,
    [
      {
        leadId,
        type: 'lead.created',
        actor: { type: 'source', id: input.sourceId },
        data: { sourceId: input.sourceId, score: fit.score, grade: fit.grade, breakdown: fit.breakdown },
      },
      ...(assignment
        ? [
            {
              leadId,
              type: 'lead.assigned',
              actor: { type: 'system' as const, id: null },
              data: { teamId: assignment.team.id, memberId: assignment.member.id, rule: 'initial' },
            },
          ]
        : []),
    ],
    now,
  );
  if (assignment) {
    const windowMs = claimWindowMs(deps.org, fit.grade);
    const row = {
      ...lead,
      id: leadId,
      sourceId: input.sourceId,
      grade: fit.grade,
      score: fit.score,
    } as Parameters<typeof cardContext>[1];
    await queueCard(tx, deps, {
      lead: row,
      member: assignment.member,
      template: 'new-lead',
      context: cardContext(
        deps,
        row,
        {
          member: { name: assignment.member.name },
          minutes: windowMs / 60_000,
          deadline: new Date(now.getTime() + windowMs),
        },
        assignment.team,
      ),
      dedupeKey: `lead:${leadId}:card:new:${assignment.member.id}`,
    });
  }
  return {
    status: 201,
    body: { id: leadId, status: 'created', score: fit.score, grade: fit.grade },
    replayed: false,
  };
}

async function mergeIntoExisting(
  tx: Tx,
  deps: IntakeDeps,
  input: {
    lead: NormalisedLead;
    keys: IdentityKey[];
    matches: { kind: string; value: string; leadId: number }[];
    sourceId: string;
    now: Date;
  },
): Promise<IntakeOutcome> {
  const { now } = input;
  // Several leads can match (phone on one, e-mail on another): the oldest customer record wins.
  const leadId = Math.min(...input.matches.map((m) => m.leadId));
  const [existing] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update');
  if (!existing) throw new AppError(500, 'identity_orphaned', `线索 ${leadId} 的身份记录存在但线索不存在`);

  const { patch, filled } = mergeSubmission(existing, input.lead);
  const merged = { ...fromLeadRow(existing), ...patch } as NormalisedLead;
  const fit = scoreLead(toScoringInput(merged, existing.sourceId), [], deps.org.scoring, now);
  const score = fit.fitScore + existing.behaviourScore;
  const grade = gradeFor(score, deps.org.scoring.grades);

  await tx
    .update(leads)
    .set({
      ...patch,
      score,
      fitScore: fit.fitScore,
      grade,
      version: sql`${leads.version} + 1`,
      updatedAt: now,
    })
    .where(eq(leads.id, leadId));

  const known = new Set(input.matches.map((m) => `${m.kind}\u0000${m.value}`));
  const fresh = input.keys.filter((k) => !known.has(`${k.kind}\u0000${k.value}`));
  if (fresh.length > 0) {
    // New contact details now also identify this customer. A key another racing submission took in
    // the meantime stays with it (no-op update), which is why this is not a plain INSERT.
    await tx
      .insert(leadIdentities)
      .values(fresh.map((k) => ({ ...k, leadId, createdAt: now })))
      .onDuplicateKeyUpdate({ set: { leadId: sql`${leadIdentities.leadId}` } });
  }

  const otherLeads = [...new Set(input.matches.map((m) => m.leadId))].filter((id) => id !== leadId);
  const events = [
    {
      leadId,
      type: 'lead.duplicate',
      actor: { type: 'source' as const, id: input.sourceId },
      data: {
        sourceId: input.sourceId,
        matchedOn: [...new Set(input.matches.filter((m) => m.leadId === leadId).map((m) => m.kind))],
        filled,
        campaign: input.lead.campaign,
        keyword: input.lead.keyword,
        externalId: input.lead.externalId,
        ...(otherLeads.length > 0 ? { alsoMatched: otherLeads } : {}),
      },
    },
  ];
  if (grade !== existing.grade) {
    events.push({
      leadId,
      type: 'lead.grade_changed',
      actor: { type: 'source', id: input.sourceId },
      data: { from: existing.grade, to: grade, score, reason: 'duplicate_merged' } as never,
    });
  }
  await appendEvents(tx, events, now);
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
    return await intakeLead(deps, {
      sourceId: input.sourceId,
      body,
      ...(input.idempotencyKey
        ? { idempotency: { key: input.idempotencyKey, requestHash: hashRequestBody(input.raw) } }
        : {}),
    });
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
