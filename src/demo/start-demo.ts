/**
 * The whole product on one machine, without WeCom credentials: the WeCom emulator and the real
 * server wired to each other over loopback (the server calls the emulator as its WeCom API, the
 * emulator signs and sends member callbacks to the server), a fresh database, one API key per lead
 * source, and a stream of realistic leads. `npm run demo` (demo/main.ts) and the browser test use it.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { parseEnv } from '../config/env';
import { loadOrgConfig } from '../config/load-org-config';
import type { OrgConfig } from '../config/org-types';
import { createEmulator, type Emulator } from '../emulator/create-emulator';
import { createLogging } from '../lib/logger';
import { openRuntime } from '../runtime';
import { type RunningServer, startServer } from '../server';
import { createApiKey } from '../sources/api-keys';
import { type Autopilot, startAutopilot } from './autopilot';
import { type Feeder, startLeadFeeder } from './lead-feeder';
import { createRandom } from './lead-generator';

export interface DemoOptions {
  /** The MySQL server, e.g. `mysql://root@127.0.0.1:3306/` (its database part is ignored). */
  serverUrl: string;
  /** Dropped and created afresh on every run: the emulator's chats live in memory only. */
  database: string;
  orgFile: string;
  port: number;
  host: string;
  emulatorPort: number;
  emulatorHost: string;
  /** Mean time between two leads; 0 = feed no leads. */
  leadIntervalMs: number;
  maxLeads: number;
  autopilot: boolean;
  seed: number;
  adminKey: string;
  logLevel: string;
  log: (line: string) => void;
}

export interface RunningDemo {
  pageUrl: string;
  apiUrl: string;
  adminKey: string;
  /** Source id → API key. */
  sourceKeys: ReadonlyMap<string, string>;
  org: OrgConfig;
  emulator: Emulator;
  server: RunningServer;
  stop(): Promise<void>;
}

/** Thrown when MySQL cannot be reached; main.ts explains how to start one. */
export class DatabaseUnreachableError extends Error {
  constructor(
    readonly serverUrl: string,
    readonly code: string,
  ) {
    super(`MySQL unreachable at ${serverUrl}: ${code}`);
    this.name = 'DatabaseUnreachableError';
  }
}

/** A demo database name is one identifier with `demo` in it, so the demo never drops a real database. */
export function checkDemoDatabaseName(name: string): void {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name) || !/demo/i.test(name)) {
    throw new Error(
      `演示数据库名 "${name}" 不合法：只能用字母、数字和下划线，且须包含 "demo"（演示每次启动都会删除并重建它）。\n` +
        `Demo database name "${name}" refused: letters, digits and underscores only, and it must contain ` +
        '"demo" (the demo drops and recreates it on every start).',
    );
  }
}

async function recreateDatabase(serverUrl: string, name: string): Promise<void> {
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: 5000 });
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new DatabaseUnreachableError(serverUrl, code);
  }
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
}

/** Emulator members from the org config, titled with their team and role, and the teams' group robots. */
export function emulatorDirectory(org: OrgConfig) {
  const role = (id: string) => {
    const titles: string[] = [];
    for (const team of org.teams) {
      if (team.director === id) titles.push(`${team.name} · 总监`);
      else if (team.supervisor === id) titles.push(`${team.name} · 主管`);
      else if (team.members.includes(id)) titles.push(`${team.name} · 销售`);
    }
    return [...new Set(titles)].join('，') || '成员';
  };
  const members = org.members
    .filter((m) => m.active !== false && m.platforms.wecom)
    .map((m) => ({ userid: m.platforms.wecom!, name: m.name, title: role(m.id) }));
  const groupRobots = org.teams.flatMap((t) =>
    t.digest?.robot?.wecom ? [{ key: t.digest.robot.wecom, name: `${t.name}销售群` }] : [],
  );
  return { members, groupRobots };
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  checkDemoDatabaseName(options.database);
  const org = loadOrgConfig(options.orgFile, process.env);
  await recreateDatabase(options.serverUrl, options.database);

  // A WeCom app that exists only here: fresh credentials on every run.
  const wecom = {
    corpId: `ww${randomBytes(8).toString('hex')}`,
    secret: randomBytes(24).toString('base64url'),
    agentId: 1000002,
    token: randomBytes(12).toString('hex'),
    aesKey: randomBytes(32).toString('base64').slice(0, 43),
  };
  const { members, groupRobots } = emulatorDirectory(org);
  const emulator = createEmulator({
    wecom: {
      corpId: wecom.corpId,
      corpSecret: wecom.secret,
      agentId: wecom.agentId,
      token: wecom.token,
      encodingAesKey: wecom.aesKey,
      members,
      groupRobots,
    },
  });
  // Listening on every interface (in a container) still means calling and showing it on loopback.
  const emulatorUrl = (await emulator.start(options.emulatorPort, options.emulatorHost))
    .replace('//0.0.0.0:', '//127.0.0.1:')
    .replace('//[::]:', '//[::1]:');
  let server: RunningServer | undefined;
  try {
    const env = parseEnv({
      DATABASE_URL: new URL(options.database, options.serverUrl).toString(),
      LEADRELAY_CONFIG: options.orgFile,
      PORT: String(options.port),
      HOST: options.host,
      ADMIN_API_KEY: options.adminKey,
      LOG_LEVEL: options.logLevel,
      SHUTDOWN_GRACE_MS: '3000',
      WECOM_CORP_ID: wecom.corpId,
      WECOM_AGENT_ID: String(wecom.agentId),
      WECOM_SECRET: wecom.secret,
      WECOM_TOKEN: wecom.token,
      WECOM_ENCODING_AES_KEY: wecom.aesKey,
      WECOM_API_BASE: emulatorUrl,
      // The one non-WeCom host the API base may name (config/outbound-urls.ts).
      EMULATOR_URL: emulatorUrl,
    });
    const runtime = await openRuntime({
      env,
      logging: createLogging({ level: env.LOG_LEVEL }),
      migrate: true,
    });
    server = await startServer(runtime, { port: env.PORT, host: env.HOST });
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  const running = server;
  emulator.control.setCallbackUrl(`${running.url}/callbacks/wecom`);

  const sourceKeys = new Map<string, string>();
  for (const source of org.sources) {
    const { key } = await createApiKey(running.deps.db, {
      sourceId: source.id,
      now: new Date(),
      label: 'demo',
    });
    sourceKeys.set(source.id, key);
  }

  const random = createRandom(options.seed);
  const names = new Map(members.map((m) => [m.userid, m.name]));
  const autopilot: Autopilot | undefined = options.autopilot
    ? startAutopilot({ emulator, names, random: createRandom(options.seed + 1), log: options.log })
    : undefined;
  const feeder: Feeder | undefined =
    options.leadIntervalMs > 0
      ? startLeadFeeder({
          apiUrl: running.url,
          keys: sourceKeys,
          sourceNames: new Map(org.sources.map((s) => [s.id, s.name])),
          intervalMs: options.leadIntervalMs,
          maxLeads: options.maxLeads,
          random,
          log: options.log,
        })
      : undefined;

  let stopping: Promise<void> | undefined;
  return {
    pageUrl: `${emulatorUrl}/`,
    apiUrl: running.url,
    adminKey: options.adminKey,
    sourceKeys,
    org,
    emulator,
    server: running,
    stop() {
      stopping ??= (async () => {
        autopilot?.stop();
        await feeder?.stop();
        // The server first: its outbox may still be talking to the emulator.
        await running.stop();
        await emulator.stop();
      })();
      return stopping;
    },
  };
}
