import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort, sleep } from './ports';

const run = promisify(execFile);

/** Where Debian (and the official images) put the server; MARIADBD overrides. */
const MARIADBD = process.env.MARIADBD || '/usr/sbin/mariadbd';
const INSTALL_DB = process.env.MARIADB_INSTALL_DB || 'mariadb-install-db';

/**
 * A MariaDB server of the suite's own: a fresh data directory made by mariadb-install-db under
 * `baseDir`, another port, its own socket and pid file, so killing or restarting it disturbs nothing
 * else on the machine. Root has no password and is reached over TCP on 127.0.0.1.
 */
export interface PrivateMariadb {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/`: append a database name. */
  serverUrl: string;
  pidFile: string;
  readonly pid: number | null;
  /** SIGKILL (a crash: InnoDB recovers on the next start). */
  crash(): Promise<void>;
  /** SIGTERM and wait for a clean shutdown. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves when it answers. */
  start(): Promise<void>;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export async function startPrivateMariadb(baseDir: string, logFile: string): Promise<PrivateMariadb> {
  const dataDir = path.join(baseDir, 'data');
  mkdirSync(baseDir, { recursive: true });
  const userArgs = isRoot() ? ['--user=root'] : [];
  await run(
    INSTALL_DB,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...userArgs,
    ],
    { timeout: 120_000 },
  ).catch((error: Error & { stderr?: string }) => {
    throw new Error(`mariadb-install-db failed: ${error.message}\n${error.stderr ?? ''}`);
  });
  const port = await freePort();
  const pidFile = path.join(baseDir, 'mariadbd.pid');
  const serverUrl = `mysql://root@127.0.0.1:${port}/`;
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const alive = () => !!child && child.exitCode === null && child.signalCode === null;

  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(baseDir, 'mariadbd.sock')}`,
    `--pid-file=${pidFile}`,
    '--skip-log-bin',
    '--skip-name-resolve',
    '--max-connections=400',
    '--innodb-buffer-pool-size=256M',
    // Durable commits, as in production: an acknowledged commit survives the crash.
    '--innodb-flush-log-at-trx-commit=1',
    ...userArgs,
  ];

  async function start(): Promise<void> {
    if (alive()) return;
    const c = spawn(MARIADBD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.pipe(log, { end: false });
    c.stderr!.pipe(log, { end: false });
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!alive()) throw new Error(`mariadbd exited while starting (log: ${logFile})`);
      try {
        const connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: 1000 });
        await connection.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`mariadbd did not answer within 60 s (log: ${logFile})`);
        await sleep(200);
      }
    }
  }

  await start();
  return {
    port,
    serverUrl,
    pidFile,
    get pid() {
      return alive() ? (child!.pid ?? null) : null;
    },
    async crash() {
      if (!alive()) return;
      child!.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!alive()) return;
      child!.kill('SIGTERM');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(killer);
    },
    start,
  };
}

/** Whether this machine can run a private server (the binaries exist). */
export function mariadbAvailable(): boolean {
  return existsSync(MARIADBD);
}
