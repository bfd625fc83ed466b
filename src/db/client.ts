import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { schemaTables } from './schema';

export type Db = MySql2Database<typeof schemaTables>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything queries can run on: the pool-backed db or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  pool: mysql.Pool;
  close(): Promise<void>;
}

/** Splits `mysql://user:pass@host:port/name` into the server part and the database name. */
export function parseDatabaseUrl(url: string): { serverUrl: string; database: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new Error(`DATABASE_URL 中的数据库名 "${database}" 无效（只允许字母、数字、_ 和 $）`);
  }
  parsed.pathname = '/';
  return { serverUrl: parsed.toString(), database };
}

export function createPool(url: string, connectionLimit: number): mysql.Pool {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit,
    // Dates travel as UTC both ways; the session time zone makes NOW(3) UTC too.
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    enableKeepAlive: true,
    waitForConnections: true,
  });
  pool.pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'");
  });
  return pool;
}

export function createDatabase(url: string, options: { poolSize?: number } = {}): Database {
  const pool = createPool(url, options.poolSize ?? 10);
  const db = drizzle(pool, { schema: schemaTables, mode: 'default' });
  return { db, pool, close: () => pool.end() };
}
