import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { withTransaction } from '../db/transaction';
import type { Logger } from '../lib/logger';
import { findPersonLeads, needlesOf, normaliseQuery, type PersonQuery } from './person';
import { type RemovalCounts, removeLeadData } from './remove-lead-data';

export interface EraseResult {
  leadIds: number[];
  counts: RemovalCounts;
  dryRun: boolean;
}

/** Thrown inside the transaction of a dry run, so everything it did is rolled back. */
class DryRun extends Error {
  constructor(readonly result: EraseResult) {
    super('dry run');
  }
}

/**
 * `leadrelay privacy erase` (PIPL art. 47, a deletion request): every lead of the person (found by
 * phone, e-mail or lead id; see findPersonLeads) and everything that refers to them, removed in one
 * transaction (remove-lead-data.ts). A dry run does the same work and rolls it back, so its counts
 * are exactly what a real run would remove. The log line carries ids and counts, never the query.
 */
export async function erasePerson(
  deps: { db: Db; logger: Logger; now: () => Date },
  query: PersonQuery,
  options: { dryRun?: boolean } = {},
): Promise<EraseResult> {
  const dryRun = options.dryRun ?? false;
  const normalised = normaliseQuery(query);
  try {
    const result = await withTransaction(deps.db, async (tx) => {
      // Locked, so a lead cannot gain a note or a message between finding it and removing it.
      const people = await findPersonLeads(tx, query);
      const found = people.map((l) => l.id);
      if (found.length > 0) await tx.execute(sqlLock(found));
      const counts = await removeLeadData(tx, {
        leads: people,
        needles: needlesOf(people, normalised),
        mode: 'erase',
        now: deps.now(),
      });
      const result: EraseResult = { leadIds: found, counts, dryRun };
      if (dryRun) throw new DryRun(result);
      return result;
    });
    deps.logger.info({ leadIds: result.leadIds, counts: result.counts }, 'privacy: person erased');
    return result;
  } catch (error) {
    if (error instanceof DryRun) return error.result;
    throw error;
  }
}

function sqlLock(ids: number[]) {
  return sql`SELECT id FROM leads WHERE id IN (${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )}) FOR UPDATE`;
}
