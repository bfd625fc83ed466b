import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import type { Db } from './client';

/** drizzle/ sits at the package root, beside src/ and dist/. */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '../../drizzle');
const MIGRATIONS_TABLE = '__drizzle_migrations';
const LOCK_NAME = 'leadrelay_migrate';

/** Creates the database named in the URL if it does not exist (utf8mb4, valid on MySQL and MariaDB). */
export async function ensureDatabase(serverUrl: string, database: string): Promise<boolean> {
  const connection = await mysql.createConnection({ uri: serverUrl });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [database],
    );
    if (rows.length > 0) return false;
    await connection.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    return true;
  } finally {
    await connection.end();
  }
}

/**
 * Applies pending migrations. Several instances may start at once behind a load balancer, so the
 * work runs under a named lock (GET_LOCK works on MySQL and MariaDB); the others wait, then find
 * nothing to do. The lock is per connection, so it is taken on a dedicated pool connection.
 */
export async function runMigrations(db: Db, pool: mysql.Pool, timeoutSeconds = 120): Promise<void> {
  const connection = await pool.getConnection();
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [
      LOCK_NAME,
      timeoutSeconds,
    ]);
    if (rows[0]?.got !== 1)
      throw new Error(`等待迁移锁超时（${timeoutSeconds} 秒），是否有其他实例卡在迁移中？`);
    try {
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE });
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  } finally {
    connection.release();
  }
}

interface Journal {
  entries: { tag: string; when: number }[];
}

export function readJournal(folder = MIGRATIONS_FOLDER): Journal {
  return JSON.parse(readFileSync(path.join(folder, 'meta/_journal.json'), 'utf8')) as Journal;
}

/** How many of the shipped migrations the database has applied (for /readyz and the CLI). */
export async function migrationStatus(
  db: Db,
  journal: Journal,
): Promise<{ expected: number; applied: number; pending: number }> {
  const expected = journal.entries.length;
  const latest = Math.max(0, ...journal.entries.map((e) => e.when));
  let applied = 0;
  try {
    const [rows] = (await db.execute(
      sql`SELECT COUNT(*) AS n, COALESCE(MAX(created_at), 0) AS latest FROM ${sql.identifier(MIGRATIONS_TABLE)}`,
    )) as unknown as [{ n: number | string; latest: number | string }[]];
    applied = Number(rows[0]?.n ?? 0);
    if (Number(rows[0]?.latest ?? 0) < latest) applied = Math.min(applied, expected - 1);
  } catch (error) {
    // ER_NO_SUCH_TABLE: nothing applied yet.
    if ((error as { errno?: number }).errno !== 1146) throw error;
  }
  return { expected, applied, pending: Math.max(0, expected - applied) };
}
