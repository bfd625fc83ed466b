import path from 'node:path';
import { parseEnv } from '../../src/config/env';
import { loadOrgConfig } from '../../src/config/load-org-config';
import { createManualClock, type ManualClock } from '../../src/lib/clock';
import { createLogging, type Logging } from '../../src/lib/logger';
import { assembleRuntime } from '../../src/runtime';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server';
import { createApiKey } from '../../src/sources/api-keys';
import { createTestDatabase, type TestDatabase } from './test-db';

export const FIXTURE_ORG = path.resolve(__dirname, '../fixtures/org.test.jsonc');
export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface TestApp {
  url: string;
  database: TestDatabase;
  clock: ManualClock;
  server: RunningServer;
  /** Issues a real API key for a source, as `leadrelay keys create` does. */
  createKey(sourceId: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real server (same wiring as main.ts) on a fresh database, listening on a loopback port, with a
 * manual clock. Tests talk to it over real HTTP.
 */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    orgFile?: string;
    clock?: ManualClock;
    /** The server's logging (default: at LOG_LEVEL, to stdout); the PII scan passes a memory stream. */
    logging?: Logging;
    /** Server options; `port` defaults to 0 (any free port). */
    server?: Partial<Omit<ServerOptions, 'host'>>;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const env = parseEnv({
    DATABASE_URL: database.url,
    LEADRELAY_CONFIG: options.orgFile ?? FIXTURE_ORG,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    API_KEY_CACHE_SECONDS: '0',
    SHUTDOWN_GRACE_MS: '2000',
    NODE_ENV: 'test',
    ...options.env,
  });
  const clock = options.clock ?? createManualClock('2026-11-21T01:00:00.000Z');
  const logging = options.logging ?? createLogging({ level: env.LOG_LEVEL });
  const org = loadOrgConfig(env.LEADRELAY_CONFIG, {});
  const server = await startServer(assembleRuntime({ env, org, logging, clock, database }), {
    port: 0,
    host: '127.0.0.1',
    ...options.server,
  });
  return {
    url: server.url,
    database,
    clock,
    server,
    createKey: async (sourceId) => (await createApiKey(database.db, { sourceId, now: clock.now() })).key,
    close: async () => {
      await server.stop();
      await database.drop().catch(() => undefined);
    },
  };
}
