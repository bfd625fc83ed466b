import mysql from 'mysql2/promise';
import type { TestDatabase } from '../helpers/test-db';

/**
 * Every row of every table of the database, as text: the check that a person's data is gone looks
 * everywhere, not only where the code under test thinks it put it. Binary columns (refused
 * submissions' bodies) are read as UTF-8.
 */
export async function dumpDatabase(database: TestDatabase): Promise<Map<string, string>> {
  const connection = await mysql.createConnection({ uri: database.url });
  try {
    const [tables] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    );
    const out = new Map<string, string>();
    for (const { name } of tables) {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${name}\``);
      out.set(
        name as string,
        JSON.stringify(rows, (_key, value) =>
          value && typeof value === 'object' && value.type === 'Buffer' && Array.isArray(value.data)
            ? Buffer.from(value.data).toString('utf8')
            : value,
        ),
      );
    }
    return out;
  } finally {
    await connection.end();
  }
}

/** `table → strings found` for every table holding any of `secrets`. */
export async function findInDatabase(
  database: TestDatabase,
  secrets: string[],
): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const [table, text] of await dumpDatabase(database)) {
    const hits = secrets.filter((s) => text.includes(s));
    if (hits.length > 0) found[table] = hits;
  }
  return found;
}
