import { eq, sql } from 'drizzle-orm';
import type { MemberConfig } from '../config/org-types';
import type { BantFields } from '../conversation/command';
import { leadNotes, leads } from '../db/schema';
import { ER_DUP_ENTRY, mysqlErrno, withTransaction } from '../db/transaction';
import type { AssignDeps } from './assign-lead';
import { writableLead } from './lead-access';
import type { LeadRow } from './lead-record';
import { type AfterWrite, applyStageChange, satisfyFollowUp } from './stage-change';
import { appendEvents } from './timeline';

/** Which lead columns a BANT line fills, and how long each may be. */
const BANT_COLUMNS = {
  budgetText: { column: 'budgetText', max: 64 },
  authority: { column: 'authority', max: 128 },
  need: { column: 'need', max: 2000 },
  timeline: { column: 'purchaseTimeline', max: 128 },
} as const;

export type NoteOutcome =
  | {
      kind: 'recorded';
      lead: LeadRow;
      noteId: number;
      /** BANT fields the note set, by name: budget, authority, need, timeline. */
      filled: (keyof BantFields)[];
      /** The stage the note moved the lead to (new → contacted), if any. */
      stageChangedTo?: 'contacted';
    }
  | { kind: 'duplicate'; lead: LeadRow }
  | { kind: 'unclaimed'; lead: LeadRow }
  | { kind: 'not_authorised'; lead: LeadRow }
  | { kind: 'not_found' };

export interface NoteInput {
  leadId: number;
  member: MemberConfig;
  text: string;
  fields: BantFields;
  /** Where the note came from: the platform and its message id (unique: a re-delivery records nothing). */
  source: { platform: string; messageId: string };
}

/**
 * A follow-up note (PRODUCT.md 8): the note row, the BANT fields it carries on the lead, the timeline
 * event, and the follow-up it counts as (satisfyFollowUp), in one transaction. The first note on a new
 * lead moves it to contacted when `stages.autoContactOnNote` says so. Only the owner, or the team's
 * supervisor or director, may write one; an unclaimed lead must be claimed first.
 */
export async function addNote(
  deps: AssignDeps,
  input: NoteInput,
  after?: AfterWrite<NoteOutcome>,
): Promise<NoteOutcome> {
  return withTransaction(deps.db, async (tx) => {
    const outcome = await (async (): Promise<NoteOutcome> => {
      const [lead] = await tx
        .select()
        .from(leads)
        .where(writableLead(deps, input.member, input.leadId))
        .for('update');
      if (!lead) {
        const [other] = await tx.select().from(leads).where(eq(leads.id, input.leadId));
        return other ? { kind: 'not_authorised', lead: other } : { kind: 'not_found' };
      }
      if (!lead.ownerId) return { kind: 'unclaimed', lead };
      const now = deps.clock.now();
      const fields = noteFields(input.fields);
      let noteId: number;
      try {
        const [inserted] = await tx.insert(leadNotes).values({
          leadId: lead.id,
          memberId: input.member.id,
          text: input.text,
          fields,
          platform: input.source.platform,
          sourceMessageId: input.source.messageId,
          createdAt: now,
        });
        noteId = inserted.insertId;
      } catch (error) {
        // The unique source message id: this message was recorded before (delivered again). Only
        // this statement failed; the transaction has written nothing and goes on to the reply.
        if (mysqlErrno(error) === ER_DUP_ENTRY) return { kind: 'duplicate', lead };
        throw error;
      }

      const patch = bantPatch(input.fields);
      const filled = Object.keys(fields) as (keyof BantFields)[];
      await tx
        .update(leads)
        .set({ ...patch, version: sql`${leads.version} + 1`, updatedAt: now })
        .where(eq(leads.id, lead.id));
      let current: LeadRow = { ...lead, ...patch, version: lead.version + 1, updatedAt: now };
      await appendEvents(
        tx,
        [
          {
            leadId: lead.id,
            type: 'lead.note_added',
            actor: { type: 'member', id: input.member.id },
            data: { noteId, text: input.text.slice(0, 500), fields },
          },
        ],
        now,
      );
      let stageChangedTo: 'contacted' | undefined;
      if (lead.stage === 'new' && deps.org.stages.autoContactOnNote) {
        current = await applyStageChange(tx, deps, current, {
          to: 'contacted',
          member: input.member,
          via: 'note',
        });
        stageChangedTo = 'contacted';
      }
      await satisfyFollowUp(tx, deps, current);
      return {
        kind: 'recorded',
        lead: current,
        noteId,
        filled,
        ...(stageChangedTo ? { stageChangedTo } : {}),
      };
    })();
    await after?.(tx, outcome);
    return outcome;
  });
}

/** The BANT values worth storing with the note (empty ones dropped). */
function noteFields(fields: BantFields): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (fields.budgetText) out.budget = fields.budget ?? fields.budgetText;
  if (fields.authority) out.authority = fields.authority;
  if (fields.need) out.need = fields.need;
  if (fields.timeline) out.timeline = fields.timeline;
  return out;
}

/** Lead columns from BANT lines: a later note overwrites an earlier value (the rep knows better now). */
function bantPatch(fields: BantFields): Partial<LeadRow> {
  const patch: Record<string, unknown> = {};
  for (const [key, { column, max }] of Object.entries(BANT_COLUMNS)) {
    const value = fields[key as keyof BantFields];
    if (typeof value === 'string' && value.trim()) patch[column] = value.trim().slice(0, max);
  }
  if (fields.budgetText) patch.budget = fields.budget ?? null;
  return patch as Partial<LeadRow>;
}
