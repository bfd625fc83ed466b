import { getTableColumns, inArray, sql } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { privacyOf, retainUntil } from '../config/sections/privacy';
import { insertSql, type Statement } from '../db/batch';
import { leadEvents, leadIdentities, leads } from '../db/schema';
import { AppError, type FieldIssue } from '../lib/errors';
import { scheduleTimersStatement, type TimerSpec } from '../timers/schedule';
import type { IntakeDeps } from './intake';
import {
  type IdentityKey,
  type IdentityMatch,
  type MergeTarget,
  mergeDuplicate,
  type NewLeadRow,
  newLeadRecords,
} from './intake-records';
import { type RejectedPayloadInput, storeRejectedPayloadsStatement } from './rejected-payloads';
import type { LeadScore } from './scoring';
import { eventRows, type LeadEvent } from './timeline';
import type { NormalisedLead } from './types';

/**
 * The planning half of bulk intake (intake-many.ts): one batch decided in memory as if its
 * submissions arrived one after another, and the statements that write the decision.
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

/** A lead as a plan holds it: the row it read or built, changed by the batch's merges. */
type PlanRow = MergeTarget & { version: number };

/**
 * What a batch decided, for the next batch, planned while this one is written: the keys it gives to
 * leads and the leads it creates or changes, each with the version it will have once committed.
 */
export interface BatchPlan {
  owners: Map<string, number>;
  leads: Map<number, PlanRow>;
}

type Target =
  | { isNew: true; row: NewLeadRow & { version: number } }
  | { isNew: false; row: PlanRow; changed: Set<string>; merges: number; fromOverlay: boolean };

/**
 * Keys compare as the database compares them: `lead_identities.value` is utf8mb4_unicode_ci, so
 * `ABC-1` and `abc-1 ` are one key there (case-insensitive, trailing spaces ignored). Folding the
 * same way here keeps the plan from creating two leads the primary key then refuses. Anything the
 * collation equates beyond this is caught by that refusal (see `commitMany`).
 */
export const keyOf = (k: IdentityKey) => `${k.kind}\u0000${k.value.toLowerCase().replace(/ +$/, '')}`;

export function rejectedInput(p: PreparedSubmission & { ok: false }, now: Date): RejectedPayloadInput {
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

export interface PlannedBatch {
  statements: Statement[];
  outcomes: ManyOutcome[];
  plan: BatchPlan;
  /** Leads taken from the previous batch's plan, with the version they must have when it committed. */
  borrowed: Map<number, number>;
}

/**
 * Plans one batch inside its transaction. `overlay` is the plan of the batch still being written
 * before this one: its keys and leads count as if committed (they are checked once it has).
 */
export async function planBatch(
  db: MySql2Database,
  deps: IntakeDeps,
  prepared: readonly PreparedSubmission[],
  ids: (number | undefined)[],
  context: { dryRun: DryRun | null; overlay: BatchPlan | null },
): Promise<PlannedBatch> {
  const { dryRun, overlay } = context;
  const now = deps.clock.now();
  const found = await readOwners(db, prepared);
  // A dry run keeps the keys its earlier batches created; the rest comes from the database.
  const owners = dryRun?.owners ?? found;
  if (dryRun) for (const [key, leadId] of found) if (!owners.has(key)) owners.set(key, leadId);
  if (overlay) for (const [key, leadId] of overlay.owners) owners.set(key, leadId);

  const targets = new Map<number, Target>();
  const borrowed = new Map<number, number>();
  const fromDatabase = new Set<number>();
  for (const p of prepared) {
    if (!p.ok) continue;
    for (const key of p.keys) {
      const leadId = owners.get(keyOf(key));
      if (leadId === undefined || leadId >= DRY_RUN_ID_BASE || targets.has(leadId)) continue;
      const planned = overlay?.leads.get(leadId);
      if (planned) {
        // As the previous batch leaves it; tags and custom are replaced by merges, never mutated.
        targets.set(leadId, {
          isNew: false,
          row: { ...planned },
          changed: new Set(),
          merges: 0,
          fromOverlay: true,
        });
        borrowed.set(leadId, planned.version);
      } else fromDatabase.add(leadId);
    }
  }
  if (fromDatabase.size > 0) {
    const query = db
      .select()
      .from(leads)
      .where(inArray(leads.id, [...fromDatabase]));
    for (const row of dryRun ? await query : await query.for('update')) {
      targets.set(row.id, { isNew: false, row, changed: new Set(), merges: 0, fromOverlay: false });
    }
  }

  const outcomes: ManyOutcome[] = [];
  const created: (NewLeadRow & { version: number })[] = [];
  const newOwners = new Map<string, number>();
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
      const records = newLeadRecords({
        leadId,
        lead: p.lead,
        keys: p.keys,
        fit: p.fit,
        sourceId,
        now,
        note,
        retentionDays: privacyOf(deps.org).retentionDays,
      });
      const row = Object.assign(records.row, { version: 1 });
      targets.set(leadId, { isNew: true, row });
      created.push(row);
      identities.push(...records.identities);
      events.push(...records.events);
      timers.push(records.timer);
      for (const key of p.keys) {
        owners.set(keyOf(key), leadId);
        newOwners.set(keyOf(key), leadId);
      }
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
      target.row,
      { lead: p.lead, keys: p.keys, matches, sourceId, now, note },
      deps.org.scoring,
    );
    // The next submission of the batch sees the lead as this merge left it.
    Object.assign(target.row, merge.set);
    target.row.version++;
    if (!target.isNew) {
      for (const field of Object.keys(merge.set)) target.changed.add(field);
      target.merges++;
    }
    for (const key of merge.fresh) {
      owners.set(keyOf(key), leadId);
      newOwners.set(keyOf(key), leadId);
      identities.push({ ...key, leadId, createdAt: now });
    }
    events.push(...merge.events);
    outcomes.push({ status: 'merged', id: leadId, warnings: p.warnings });
  }

  const plan: BatchPlan = { owners: newOwners, leads: new Map() };
  for (const [leadId, target] of targets) {
    if (target.isNew || target.merges > 0) plan.leads.set(leadId, target.row);
  }
  if (dryRun) return { statements: [], outcomes, plan, borrowed };

  const statements: Statement[] = [];
  // Identities first: a key a racing writer took fails the batch before the large INSERTs run.
  if (identities.length > 0) statements.push(insertSql(leadIdentities, identities));
  if (created.length > 0) statements.push(insertSql(leads, created));
  for (const target of targets.values()) {
    if (target.isNew || target.merges === 0) continue;
    statements.push(
      updateLeadStatement(target.row, target.changed, target.merges, now, retainUntil(deps.org, now)),
    );
  }
  if (events.length > 0) statements.push(insertSql(leadEvents, eventRows(events, now)));
  if (timers.length > 0) statements.push(scheduleTimersStatement(timers));
  if (rejected.length > 0) statements.push(storeRejectedPayloadsStatement(rejected));
  return { statements, outcomes, plan, borrowed };
}

const LEAD_COLUMNS = getTableColumns(leads);

/**
 * The merges' UPDATE of one lead: the fields they filled, the new score, and the version moved on by
 * the number of merges, as `intakeLead` does for each (built directly: drizzle's builder costs more
 * than the rest of a merge).
 */
function updateLeadStatement(
  row: PlanRow,
  changed: Set<string>,
  merges: number,
  now: Date,
  retain: Date,
): Statement {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const field of changed) {
    const column = LEAD_COLUMNS[field as keyof typeof LEAD_COLUMNS];
    const value = row[field as keyof PlanRow];
    sets.push(`\`${column.name}\` = ?`);
    params.push(value === null || value === undefined ? null : column.mapToDriverValue(value));
  }
  // The person submitted again: a full retention period from now, as intakeLead's merge does.
  sets.push('`version` = `version` + ?', '`updated_at` = ?', '`retain_until` = ?');
  params.push(
    merges,
    LEAD_COLUMNS.updatedAt.mapToDriverValue(now),
    LEAD_COLUMNS.retainUntil.mapToDriverValue(retain),
    row.id,
  );
  return { sql: `UPDATE \`leads\` SET ${sets.join(', ')} WHERE \`id\` = ?`, params };
}

/**
 * Once the previous batch committed: are the leads this plan took from its plan still as planned?
 * Locks them and compares versions (every change to a lead bumps it): a chat action that touched
 * one in between makes the plan stale.
 */
export async function borrowedStillHold(db: MySql2Database, borrowed: Map<number, number>): Promise<boolean> {
  if (borrowed.size === 0) return true;
  const rows = await db
    .select({ id: leads.id, version: leads.version })
    .from(leads)
    .where(inArray(leads.id, [...borrowed.keys()]))
    .for('update');
  return rows.length === borrowed.size && rows.every((r) => borrowed.get(r.id) === r.version);
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
  // Built as text, each value escaped once: drizzle's builder spent more on a batch's thousands of
  // IN values than the query itself.
  const where = [...byKind]
    .map(
      ([kind, values]) =>
        `(\`kind\` = ${mysql.escape(kind)} AND \`value\` IN (${[...values].map((v) => mysql.escape(v)).join(', ')}))`,
    )
    .join(' OR ');
  const [result] = await db.execute(
    sql.raw(`SELECT \`kind\`, \`value\`, \`lead_id\` AS \`leadId\` FROM \`lead_identities\` WHERE ${where}`),
  );
  const rows = result as unknown as { kind: string; value: string; leadId: number | string }[];
  for (const row of rows) owners.set(keyOf(row), Number(row.leadId));
  return owners;
}
