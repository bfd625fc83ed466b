import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import { activities, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import { toFieldIssues, zhErrorMap } from '../http/zod-issues';
import type { Clock } from '../lib/clock';
import { notFound, validationFailed } from '../lib/errors';
import { toScoringInput } from './lead-record';
import { scoreLead } from './scoring';
import { type ActorType, appendEvents } from './timeline';

/** How far ahead of our clock a reported activity may be (the reporter's clock may run fast). */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
/** Behaviour scoring reads at most this many recent activities per lead. */
const SCORING_WINDOW = 500;

export const activityInputSchema = z.strictObject({
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_.]{0,63}$/, '应为小写字母、数字、下划线组成的活动类型，例如 pricing_page_view'),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  data: z.record(z.string().max(64), z.unknown()).optional(),
});

const ACTIVITY_LABELS = { type: '活动类型', occurredAt: '发生时间', data: '附加数据' };

export interface RecordActivityResult {
  leadId: number;
  activityId: number;
  score: number;
  grade: string;
  previousGrade: string;
}

/**
 * Records a behaviour event and re-scores the lead in one transaction (PRODUCT.md 3). A grade change
 * is a timeline event; the assignment issue turns a promotion into a notification to the owner.
 */
export async function recordActivity(
  deps: { db: Db; org: OrgConfig; clock: Clock },
  input: {
    leadId: number;
    body: unknown;
    actor: { type: ActorType; id: string | null };
    sourceId: string | null;
  },
): Promise<RecordActivityResult> {
  const parsed = activityInputSchema.safeParse(input.body, { error: zhErrorMap });
  if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error.issues, ACTIVITY_LABELS));
  const now = deps.clock.now();
  const occurredAt = parsed.data.occurredAt ? new Date(parsed.data.occurredAt) : now;
  if (occurredAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw validationFailed([{ path: 'occurredAt', message: '发生时间：不能晚于当前时间' }]);
  }
  const scoredTypes = [...new Set(deps.org.scoring.behaviour.map((rule) => rule.activity))];

  return withTransaction(deps.db, async (tx) => {
    const [lead] = await tx.select().from(leads).where(eq(leads.id, input.leadId)).for('update');
    if (!lead) throw notFound(`线索 ${input.leadId} 不存在`);
    const [inserted] = await tx
      .insert(activities)
      .values({
        leadId: lead.id,
        type: parsed.data.type,
        sourceId: input.sourceId,
        occurredAt,
        data: parsed.data.data ?? {},
        createdAt: now,
      })
      .$returningId();

    const recent =
      scoredTypes.length === 0
        ? []
        : await tx
            .select({ type: activities.type, occurredAt: activities.occurredAt })
            .from(activities)
            .where(and(eq(activities.leadId, lead.id), inArray(activities.type, scoredTypes)))
            .orderBy(desc(activities.occurredAt))
            .limit(SCORING_WINDOW);
    const result = scoreLead(toScoringInput(lead, lead.sourceId), recent, deps.org.scoring, now);

    await tx
      .update(leads)
      .set({
        score: result.score,
        fitScore: result.fitScore,
        behaviourScore: result.behaviourScore,
        grade: result.grade,
        version: sql`${leads.version} + 1`,
        updatedAt: now,
      })
      .where(eq(leads.id, lead.id));
    const events = [
      {
        leadId: lead.id,
        type: 'activity.recorded',
        actor: input.actor,
        data: {
          activityId: inserted!.id,
          activity: parsed.data.type,
          occurredAt: occurredAt.toISOString(),
          score: result.score,
        },
      },
    ];
    if (result.grade !== lead.grade) {
      events.push({
        leadId: lead.id,
        type: 'lead.grade_changed',
        actor: input.actor,
        data: { from: lead.grade, to: result.grade, score: result.score, reason: 'activity' } as never,
      });
    }
    await appendEvents(tx, events, now);
    return {
      leadId: lead.id,
      activityId: inserted!.id,
      score: result.score,
      grade: result.grade,
      previousGrade: lead.grade,
    };
  });
}
