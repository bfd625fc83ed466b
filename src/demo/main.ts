/**
 * `npm run demo`: LeadRelay against the bundled WeCom emulator, with the demo org
 * (config/demo.jsonc), its own database, and leads arriving every few seconds. Prints the page to
 * open; Ctrl-C (SIGINT) or SIGTERM stops everything cleanly.
 *
 * Environment (all optional): DATABASE_URL (only its server part; default root@127.0.0.1:3306),
 * DEMO_DATABASE (default leadrelay_demo, recreated on every start), PORT (3000), HOST (127.0.0.1),
 * EMULATOR_PORT (3100), EMULATOR_HOST (127.0.0.1), DEMO_LEAD_INTERVAL_MS (6000), DEMO_MAX_LEADS
 * (300), DEMO_AUTOPILOT (1: simulated colleagues act too; 0: only you), DEMO_SEED, DEMO_CONFIG,
 * ADMIN_API_KEY, LOG_LEVEL (warn).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EnvError } from '../config/env';
import { formatConfigError } from '../config/load-org-config';
import { ConfigError } from '../lib/errors';
import { DatabaseUnreachableError, type RunningDemo, startDemo } from './start-demo';

const ROOT = path.resolve(__dirname, '../..');

function intFrom(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new EnvError([`${name}: 应为不小于 ${min} 的整数 / must be an integer ≥ ${min}（当前 "${raw}"）`]);
  }
  return value;
}

function serverUrlFrom(databaseUrl: string | undefined): string {
  const url = new URL(databaseUrl || 'mysql://root@127.0.0.1:3306/');
  if (url.protocol !== 'mysql:') throw new EnvError(['DATABASE_URL: 必须是 mysql:// 开头的连接串']);
  url.pathname = '/';
  return url.toString();
}

/** How to get a MySQL, in Chinese and English, without a stack trace. */
export function unreachableMessage(serverUrl: string, code: string): string {
  const safe = new URL(serverUrl);
  if (safe.password) safe.password = '***';
  const compose = ['compose.yaml', 'compose.yml', 'docker-compose.yml'].some((f) =>
    existsSync(path.join(ROOT, f)),
  );
  const docker = compose
    ? 'docker compose up -d mysql'
    : 'docker run -d --name leadrelay-mysql -p 3306:3306 -e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 mariadb:10.11';
  return [
    `无法连接 MySQL（${safe.toString()}）：${code}`,
    '演示需要一个 MySQL 8.0+ 或 MariaDB 10.6+。启动一个：',
    '  本机已装 MariaDB：start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    `  或用 Docker：     ${docker}`,
    '或者用 DATABASE_URL 指向可用的服务器，然后重新运行 npm run demo。',
    '',
    `Cannot connect to MySQL at ${safe.toString()}: ${code}`,
    'The demo needs MySQL 8.0+ or MariaDB 10.6+. Start one:',
    '  MariaDB installed locally: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    `  or with Docker:           ${docker}`,
    'or point DATABASE_URL at a reachable server, then run npm run demo again.',
  ].join('\n');
}

function banner(demo: RunningDemo, database: string): string {
  const lines = [
    '',
    '  LeadRelay 演示已启动 / demo running',
    '',
    `  模拟器页面 / Emulator page: ${demo.pageUrl}`,
    `  LeadRelay API:              ${demo.apiUrl}`,
    `  管理 API 密钥 / admin key:  ${demo.adminKey}`,
    `  数据库 / database:          ${database}（每次启动重建 / recreated on every start）`,
    '',
    '  在浏览器里打开模拟器页面：左边是每个成员和团队群，新线索的卡片会出现在被分配的销售那里；',
    '  点「认领」，在输入框里写跟进记录，或发「战报」「我的」「帮助」。',
    '  Open the emulator page: every member and team group chat is on the left; cards arrive in the',
    "  assigned rep's chat. Click 认领 (claim), type a note, or send 战报 / 我的 / 帮助.",
    '',
    `  curl -H "Authorization: Bearer ${demo.adminKey}" ${demo.apiUrl}/api/v1/leads/1`,
    '',
    '  按 Ctrl-C 停止 / press Ctrl-C to stop',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const database = process.env.DEMO_DATABASE || 'leadrelay_demo';
  const log = (line: string) =>
    console.log(`${new Date().toLocaleTimeString('zh-CN', { hour12: false })}  ${line}`);
  let demo: RunningDemo;
  try {
    demo = await startDemo({
      serverUrl: serverUrlFrom(process.env.DATABASE_URL),
      database,
      orgFile: process.env.DEMO_CONFIG || path.join(ROOT, 'config/demo.jsonc'),
      port: intFrom('PORT', 3000),
      host: process.env.HOST || '127.0.0.1',
      emulatorPort: intFrom('EMULATOR_PORT', 3100),
      emulatorHost: process.env.EMULATOR_HOST || '127.0.0.1',
      leadIntervalMs: intFrom('DEMO_LEAD_INTERVAL_MS', 6000),
      maxLeads: intFrom('DEMO_MAX_LEADS', 300, 1),
      autopilot: process.env.DEMO_AUTOPILOT !== '0',
      seed: intFrom('DEMO_SEED', Date.now() % 1_000_000),
      adminKey: process.env.ADMIN_API_KEY || `demo-admin-${randomBytes(12).toString('hex')}`,
      logLevel: process.env.LOG_LEVEL || 'warn',
      log,
    });
  } catch (error) {
    if (error instanceof DatabaseUnreachableError)
      console.error(unreachableMessage(error.serverUrl, error.code));
    else if (error instanceof ConfigError) console.error(formatConfigError(error));
    else if (error instanceof EnvError) console.error(error.message);
    else if ((error as { code?: string }).code === 'EADDRINUSE') {
      const port = (error as { port?: number }).port;
      console.error(
        `端口 ${port} 已被占用：用 PORT=… 或 EMULATOR_PORT=… 换一个，例如 PORT=3001 npm run demo\n` +
          `Port ${port} is in use: choose another with PORT=… or EMULATOR_PORT=…, e.g. PORT=3001 npm run demo`,
      );
    } else console.error(`演示启动失败 / demo failed to start: ${(error as Error).message ?? String(error)}`);
    process.exit(1);
  }
  console.log(banner(demo, database));

  let firstSignalAt: number | undefined;
  const shutdown = (signal: string) => {
    if (firstSignalAt !== undefined) {
      // npm and tsx may pass the same Ctrl-C on a moment later: only a deliberate second one forces.
      if (Date.now() - firstSignalAt < 1500) return;
      console.error('再次收到信号，立即退出 / second signal, exiting now');
      process.exit(1);
    }
    firstSignalAt = Date.now();
    log(`收到 ${signal}，正在停止… / stopping…`);
    demo.stop().then(
      () => {
        log('已停止 / stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`停止时出错 / error while stopping: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
