import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import { routingPositions } from '../db/schema';

/**
 * The persisted state of a team's smooth weighted round robin (`routing_positions`), read and written
 * only inside the assignment transaction. Locking every row of the team serialises assignments to
 * that team, which is what keeps the state exact under concurrency: two transactions can never start
 * from the same current weights.
 */

/**
 * Locks the team's rows (`SELECT … FOR UPDATE`, in primary-key order so lockers queue instead of
 * deadlocking) and returns member → current weight. Rows missing for configured members are created
 * at 0 first, so adding a member to a team keeps the team's sum of current weights at 0.
 */
export async function lockTeamPositions(
  tx: Tx,
  teamId: string,
  memberIds: readonly string[],
  now: Date,
): Promise<Map<string, number>> {
  const select = () =>
    tx
      .select({ memberId: routingPositions.memberId, current: routingPositions.currentWeight })
      .from(routingPositions)
      .where(eq(routingPositions.teamId, teamId))
      .orderBy(routingPositions.memberId)
      .for('update');
  let rows = await select();
  const known = new Set(rows.map((r) => r.memberId));
  const missing = memberIds.filter((id) => !known.has(id)).sort();
  if (missing.length > 0) {
    // A racing first assignment may insert the same rows: the duplicate waits for it and becomes a
    // no-op, and the second SELECT then reads the winner's committed values (READ COMMITTED).
    await tx
      .insert(routingPositions)
      .values(missing.map((memberId) => ({ teamId, memberId, currentWeight: 0, updatedAt: now })))
      .onDuplicateKeyUpdate({ set: { teamId: sql`${routingPositions.teamId}` } });
    rows = await select();
  }
  return new Map(rows.map((r) => [r.memberId, r.current]));
}

/** Writes the members' new current weights in one statement. */
export async function savePositions(
  tx: Tx,
  teamId: string,
  currents: ReadonlyMap<string, number>,
  now: Date,
): Promise<void> {
  if (currents.size === 0) return;
  const cases = sql.join(
    [...currents].map(([memberId, current]) => sql`WHEN ${memberId} THEN ${current}`),
    sql` `,
  );
  await tx
    .update(routingPositions)
    .set({ currentWeight: sql`CASE ${routingPositions.memberId} ${cases} END`, updatedAt: now })
    .where(
      and(eq(routingPositions.teamId, teamId), inArray(routingPositions.memberId, [...currents.keys()])),
    );
}
