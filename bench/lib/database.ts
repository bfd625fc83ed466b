import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createDatabase, type Database } from '../../src/db/client';
import { ensureDatabase, runMigrations } from '../../src/db/migrate';
import { registerCleanup } from './cleanup';

export interface BenchDatabase extends Database {
  /** `mysql://…/<name>`, for the server child's DATABASE_URL. */
  url: string;
  name: string;
  /** `SELECT VERSION()` of the server, for the machine line. */
  version: string;
  /** Closes this pool and drops the database; safe to call twice. */
  drop(): Promise<void>;
}

/** The MySQL server benchmarks use: `BENCH_DATABASE_URL` (its database part is ignored) or local root. */
export function benchServerUrl(): string {
  const parsed = new URL(process.env.BENCH_DATABASE_URL || 'mysql://root@127.0.0.1:3306/');
  parsed.pathname = '/';
  return parsed.toString();
}

/** A fresh, uniquely named database migrated exactly as production does (src/db/migrate.ts). */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const serverUrl = benchServerUrl();
  const name = `lrbench_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const url = new URL(name, serverUrl).toString();
  await ensureDatabase(serverUrl, name);
  let dropped: Promise<void> | undefined;
  const drop = () => {
    dropped ??= (async () => {
      unregister();
      await database.close().catch(() => undefined);
      const connection = await mysql.createConnection({ uri: serverUrl });
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    })();
    return dropped;
  };
  const database = createDatabase(url, { poolSize: 4 });
  const unregister = registerCleanup(drop);
  try {
    await runMigrations(database.db, database.pool);
    const [rows] = await database.pool.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
    return { ...database, url, name, version: String(rows[0]?.version ?? 'unknown'), drop };
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
}

/**
 * A database kept between runs (`BENCH_DIGEST_KEEP=1`): `lrbench_<label>_keep_<key>`, created when
 * missing, otherwise opened as it is; migrations added since it was made are applied, as production
 * applies them to its data. `drop()` only closes the pool; `remove()` drops it (a stale one).
 */
export async function openKeptBenchDatabase(
  label: string,
  key: string,
): Promise<BenchDatabase & { created: boolean; remove(): Promise<void> }> {
  const serverUrl = benchServerUrl();
  const name = `lrbench_${label}_keep_${key}`.replace(/[^a-z0-9_]/gi, '_');
  const url = new URL(name, serverUrl).toString();
  const created = await ensureDatabase(serverUrl, name);
  const database = createDatabase(url, { poolSize: 4 });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= database.close().catch(() => undefined);
    return closed;
  };
  const remove = async () => {
    await close();
    const connection = await mysql.createConnection({ uri: serverUrl });
    try {
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await connection.end();
    }
  };
  try {
    await runMigrations(database.db, database.pool, 3_600);
    const [rows] = await database.pool.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
    return {
      ...database,
      url,
      name,
      version: String(rows[0]?.version ?? 'unknown'),
      drop: close,
      created,
      remove,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
