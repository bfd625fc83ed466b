import { type Env, parseEnv } from './config/env';
import { loadOrgConfig } from './config/load-org-config';
import type { OrgConfig } from './config/org-types';
import { createDatabase, type Database, parseDatabaseUrl } from './db/client';
import { ensureDatabase, runMigrations } from './db/migrate';
import { type Clock, createSystemClock } from './lib/clock';
import { createLogging, type Logging } from './lib/logger';

/** What the server and every CLI command share: env, org config, logging, clock and the database. */
export interface Runtime {
  env: Env;
  org: OrgConfig;
  logging: Logging;
  clock: Clock;
  database: Database;
}

export interface RuntimeOptions {
  env?: Env;
  logging?: Logging;
  clock?: Clock;
  /** Create the database if missing and apply migrations (the server and `migrate` do). */
  migrate?: boolean;
}

export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? parseEnv(process.env);
  const logging = options.logging ?? createLogging({ level: env.LOG_LEVEL });
  const org = loadOrgConfig(env.LEADRELAY_CONFIG, process.env);
  const { serverUrl, database: name } = parseDatabaseUrl(env.DATABASE_URL);
  if (options.migrate) {
    try {
      if (await ensureDatabase(serverUrl, name)) logging.logger.info({ database: name }, 'database created');
    } catch (error) {
      throw new Error(describeConnectionError(env.DATABASE_URL, error));
    }
  }
  const database = createDatabase(env.DATABASE_URL, { poolSize: env.DATABASE_POOL_SIZE });
  if (options.migrate) {
    await runMigrations(database.db, database.pool);
    logging.logger.info('migrations applied');
  }
  return { env, org, logging, clock: options.clock ?? createSystemClock(), database };
}

/** A connection failure explained for the admin, without the password. */
export function describeConnectionError(url: string, error: unknown): string {
  const safe = new URL(url);
  if (safe.password) safe.password = '***';
  const code = (error as { code?: string }).code ?? (error as Error).message;
  return (
    `无法连接 MySQL（${safe.toString()}）：${code}。` +
    '请确认 MySQL 8.0+ 或 MariaDB 10.6+ 正在运行且 DATABASE_URL 正确；' +
    '本机可用 `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd` 启动 MariaDB，' +
    '或用 `docker compose up -d mysql`。'
  );
}
