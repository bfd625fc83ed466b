import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createDatabase, type Database, parseDatabaseUrl } from '../../src/db/client';
import { ensureDatabase, runMigrations } from '../../src/db/migrate';

export interface TestDatabase extends Database {
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** The MySQL server tests use: `TEST_DATABASE_URL` (its database part is ignored) or local root. */
export function testServerUrl(): string {
  const raw = process.env.TEST_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/';
  const parsed = new URL(raw);
  parsed.pathname = '/';
  return parsed.toString();
}

/**
 * A fresh database for one test file, named after the jest run (`<run id>_<random>`), migrated
 * exactly as production does, and dropped by `drop()` (global-teardown drops any leftover).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const run = process.env.LEADRELAY_TEST_RUN ?? `lrtest_adhoc_${randomBytes(3).toString('hex')}`;
  const name = `${run}_${randomBytes(3).toString('hex')}`;
  const serverUrl = testServerUrl();
  const url = new URL(name, serverUrl).toString();
  parseDatabaseUrl(url);
  await ensureDatabase(serverUrl, name);
  const database = createDatabase(url, { poolSize: 20 });
  await runMigrations(database.db, database.pool);
  return {
    ...database,
    url,
    name,
    drop: async () => {
      // The app under test may have closed the pool already (graceful stop); drop on a fresh connection.
      await database.close().catch(() => undefined);
      const connection = await mysql.createConnection({ uri: serverUrl });
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}
