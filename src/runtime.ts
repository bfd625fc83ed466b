import path from 'node:path';
import { type CardTemplates, loadCardTemplates } from './cards/load-cards';
import { dingtalkSettings, type Env, parseEnv, wecomSettings } from './config/env';
import { loadOrgConfig } from './config/load-org-config';
import { createDirectory, type Directory } from './config/members';
import type { OrgConfig } from './config/org-types';
import { createDatabase, type Database, parseDatabaseUrl } from './db/client';
import { createIdAllocator, type IdAllocator } from './db/id-allocator';
import { ensureDatabase, runMigrations } from './db/migrate';
import type { AssignDeps } from './leads/assign-lead';
import type { IntakeDeps } from './leads/intake';
import { type Clock, createSystemClock } from './lib/clock';
import { createLogging, type Logging } from './lib/logger';
import type { PlatformName } from './platforms/types';
import { createAssignmentWiring } from './sla/assignment-wiring';

/** What the server and every CLI command share: env, org config, logging, clock and the database. */
export interface Runtime {
  env: Env;
  org: OrgConfig;
  logging: Logging;
  clock: Clock;
  database: Database;
  directory: Directory;
  cards: CardTemplates;
  /** Lead ids, reserved in blocks (db/id-allocator.ts). */
  leadIds: IdAllocator;
}

/** cards/ sits at the package root, beside src/ and dist/. */
export const CARDS_DIR = path.resolve(__dirname, '../cards');

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
  // A broken card template stops start-up here, naming its file and JSON path.
  const cards = loadCardTemplates(CARDS_DIR);
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
  return assembleRuntime({ env, org, logging, clock: options.clock ?? createSystemClock(), database, cards });
}

/** The derived parts of a runtime (tests assemble theirs from a test database the same way). */
export function assembleRuntime(
  base: Pick<Runtime, 'env' | 'org' | 'logging' | 'clock' | 'database'> & { cards?: CardTemplates },
): Runtime {
  return {
    ...base,
    cards: base.cards ?? loadCardTemplates(CARDS_DIR),
    directory: createDirectory(base.org),
    leadIds: createIdAllocator(base.database.pool, 'leads'),
  };
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

/** The chat platforms this deployment has credentials for. */
export function enabledPlatformNames(env: Env): Set<PlatformName> {
  const names = new Set<PlatformName>();
  if (wecomSettings(env)) names.add('wecom');
  if (dingtalkSettings(env)) names.add('dingtalk');
  return names;
}

/** The dependencies of lead domain actions, as the server and the CLI build them. */
export function leadDepsOf(runtime: Runtime): IntakeDeps & AssignDeps {
  return {
    ...createAssignmentWiring({ org: runtime.org, directory: runtime.directory, clock: runtime.clock }),
    leadIds: runtime.leadIds,
    batchPool: runtime.database.batchPool,
    db: runtime.database.db,
    org: runtime.org,
    directory: runtime.directory,
    clock: runtime.clock,
    cards: runtime.cards,
    platforms: enabledPlatformNames(runtime.env),
    logger: runtime.logging.logger,
  };
}
