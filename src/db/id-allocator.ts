import type mysql from 'mysql2/promise';

export interface IdAllocator {
  next(): Promise<number>;
}

/**
 * Hands out ids from blocks reserved in `id_blocks` (hi/lo). One UPDATE reserves `blockSize` ids for
 * this instance: `LAST_INSERT_ID(expr)` makes the new high-water mark come back in the OK packet, so
 * no second query is needed and no two instances ever get the same id. Ids are unique and increase
 * per instance; across instances and restarts they interleave and leave gaps, which nothing relies on.
 */
export function createIdAllocator(pool: mysql.Pool, name: string, blockSize = 100): IdAllocator {
  let nextId = 0;
  let end = 0;
  let refilling: Promise<void> | undefined;

  async function refill(): Promise<void> {
    const [result] = await pool.query<mysql.ResultSetHeader>(
      'UPDATE id_blocks SET next_id = LAST_INSERT_ID(next_id + ?) WHERE name = ?',
      [blockSize, name],
    );
    if (result.affectedRows !== 1) throw new Error(`id_blocks 中没有 ${name}（迁移未执行？）`);
    end = Number(result.insertId);
    nextId = end - blockSize;
  }

  return {
    async next() {
      while (nextId >= end) {
        refilling ??= refill().finally(() => {
          refilling = undefined;
        });
        await refilling;
      }
      return nextId++;
    },
  };
}
