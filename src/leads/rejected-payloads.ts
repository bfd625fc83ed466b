import { and, desc, eq, sql } from 'drizzle-orm';
import { insertStatement, type Statement } from '../db/batch';
import type { Db } from '../db/client';
import { rejectedPayloads } from '../db/schema';
import { parseJsonBody } from '../http/read-body';
import { AppError, type FieldIssue } from '../lib/errors';
import { type IntakeDeps, intakeLead } from './intake';

/**
 * Refused intake payloads are kept byte-for-byte (RELIABILITY.md "Inbound" 8: nothing is lost).
 * An admin fixes the payload (`leadrelay intake edit`) or the config (a new source, a scoring rule)
 * and replays it through the very same intake action.
 */
export interface RejectedPayloadInput {
  sourceId: string;
  reasonCode: string;
  issues: FieldIssue[];
  contentType: string | null;
  idempotencyKey: string | null;
  requestId: string | null;
  body: Buffer;
  now: Date;
}

function rejectedPayloadValues(input: RejectedPayloadInput) {
  return {
    sourceId: input.sourceId,
    reasonCode: input.reasonCode,
    issues: input.issues,
    contentType: input.contentType,
    idempotencyKey: input.idempotencyKey,
    requestId: input.requestId,
    body: input.body,
    receivedAt: input.now,
    updatedAt: input.now,
  };
}

export async function storeRejectedPayload(db: Db, input: RejectedPayloadInput): Promise<number> {
  const [row] = await db.insert(rejectedPayloads).values(rejectedPayloadValues(input)).$returningId();
  return row!.id;
}

/** The same rows as one INSERT for a batched transaction (bulk intake, db/batch.ts). */
export function storeRejectedPayloadsStatement(inputs: RejectedPayloadInput[]): Statement {
  return insertStatement(rejectedPayloads, inputs.map(rejectedPayloadValues));
}

export async function listRejectedPayloads(db: Db, options: { status?: string; limit?: number } = {}) {
  return db
    .select({
      id: rejectedPayloads.id,
      sourceId: rejectedPayloads.sourceId,
      status: rejectedPayloads.status,
      reasonCode: rejectedPayloads.reasonCode,
      issues: rejectedPayloads.issues,
      replayCount: rejectedPayloads.replayCount,
      leadId: rejectedPayloads.leadId,
      receivedAt: rejectedPayloads.receivedAt,
    })
    .from(rejectedPayloads)
    .where(options.status ? eq(rejectedPayloads.status, options.status) : undefined)
    .orderBy(desc(rejectedPayloads.id))
    .limit(options.limit ?? 100);
}

export async function getRejectedPayload(db: Db, id: number) {
  const [row] = await db.select().from(rejectedPayloads).where(eq(rejectedPayloads.id, id));
  return row ?? null;
}

/** Replaces a pending payload's body with a corrected one (the original reason stays until replay). */
export async function replaceRejectedBody(db: Db, id: number, body: Buffer, now: Date): Promise<void> {
  const [result] = await db
    .update(rejectedPayloads)
    .set({ body, updatedAt: now })
    .where(and(eq(rejectedPayloads.id, id), eq(rejectedPayloads.status, 'pending')));
  if (result.affectedRows !== 1) throw new AppError(404, 'not_found', `没有待处理的被拒载荷 #${id}`);
}

export async function discardRejectedPayload(db: Db, id: number, now: Date): Promise<boolean> {
  const [result] = await db
    .update(rejectedPayloads)
    .set({ status: 'discarded', updatedAt: now })
    .where(and(eq(rejectedPayloads.id, id), eq(rejectedPayloads.status, 'pending')));
  return result.affectedRows === 1;
}

export type ReplayResult =
  | { id: number; outcome: 'created' | 'merged'; leadId: number }
  | { id: number; outcome: 'rejected'; reasonCode: string; issues: FieldIssue[] };

/**
 * Re-submits one pending payload through `intakeLead`. Success marks it replayed with the lead id;
 * another refusal records the new reasons, so the admin sees what is still wrong.
 */
export async function replayRejectedPayload(deps: IntakeDeps, id: number): Promise<ReplayResult> {
  const row = await getRejectedPayload(deps.db, id);
  if (row?.status !== 'pending') throw new AppError(404, 'not_found', `没有待处理的被拒载荷 #${id}`);
  const now = deps.clock.now();
  try {
    const body = parseJsonBody(row.body);
    const result = await intakeLead(deps, { sourceId: row.sourceId ?? '', body });
    await deps.db
      .update(rejectedPayloads)
      .set({
        status: 'replayed',
        leadId: result.body.id,
        replayCount: sql`${rejectedPayloads.replayCount} + 1`,
        updatedAt: now,
      })
      .where(eq(rejectedPayloads.id, id));
    return { id, outcome: result.body.status, leadId: result.body.id };
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    const issues = (error.details.issues as FieldIssue[] | undefined) ?? [
      { path: '', message: error.message },
    ];
    await deps.db
      .update(rejectedPayloads)
      .set({
        reasonCode: error.code,
        issues,
        replayCount: sql`${rejectedPayloads.replayCount} + 1`,
        updatedAt: now,
      })
      .where(eq(rejectedPayloads.id, id));
    return { id, outcome: 'rejected', reasonCode: error.code, issues };
  }
}

export async function replayAllPending(deps: IntakeDeps, limit = 1000): Promise<ReplayResult[]> {
  const pending = await listRejectedPayloads(deps.db, { status: 'pending', limit });
  const results: ReplayResult[] = [];
  // Oldest first, so a corrected earlier submission claims the lead before later duplicates merge.
  for (const row of pending.reverse()) results.push(await replayRejectedPayload(deps, row.id));
  return results;
}
