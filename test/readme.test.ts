import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { testServerUrl } from './helpers/test-db';

/**
 * Keeps the README honest: its first code block holds the two commands (run the product, run the
 * tests); `.ci/run` runs exactly that test command; and the start command really starts a server
 * on a database that does not exist yet, which then shuts down cleanly on SIGTERM.
 */
const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const ciRun = readFileSync(path.join(root, '.ci/run'), 'utf8');

function quickStart(): { start: string; test: string } {
  const block = /```(?:bash|sh)?\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README has no code block');
  const commands = block[1]!
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
  expect(commands).toHaveLength(2);
  return { start: commands[0]!, test: commands[1]! };
}

const withoutInstall = (command: string) => command.replace(/^npm ci\s*&&\s*/, '');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('README quick start', () => {
  it('starts with a code block of two commands: run the product, run the tests', () => {
    const { start, test } = quickStart();
    expect(readme.indexOf('```')).toBeLessThan(
      readme.indexOf('\n\n', readme.indexOf('# LeadRelay') + 12) + 2,
    );
    expect(start).toMatch(/^npm ci && npm (start|run demo)$/);
    expect(test).toBe('npm ci && npm test');
  });

  it('is what .ci/run runs: npm ci, then exactly the test command', () => {
    const lines = ciRun
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(lines.some((l) => l.startsWith('npm ci'))).toBe(true);
    expect(lines.at(-1)).toBe(withoutInstall(quickStart().test));
  });

  describe('the start command', () => {
    const database = `${process.env.LEADRELAY_TEST_RUN}_readme`;
    let child: ChildProcess | undefined;
    afterAll(async () => {
      // The whole process group: npm, tsx and the server under them.
      if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      const connection = await mysql.createConnection({ uri: testServerUrl() });
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    });

    it('creates the database, migrates, answers /readyz, and shuts down gracefully on SIGTERM', async () => {
      const port = await freePort();
      const [command, ...args] = withoutInstall(quickStart().start).split(' ');
      child = spawn(command!, args, {
        cwd: root,
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: new URL(database, testServerUrl()).toString(),
          LOG_LEVEL: 'info',
          LEADRELAY_CONFIG: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so the test can signal npm and everything it started, as a
        // container runtime or systemd would.
        detached: true,
      });
      let output = '';
      child.stdout!.on('data', (d) => {
        output += d;
      });
      child.stderr!.on('data', (d) => {
        output += d;
      });
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

      let ready: { status: string; migrations: { pending: number } } | undefined;
      for (let i = 0; i < 120 && !ready; i++) {
        await new Promise((r) => setTimeout(r, 500));
        try {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          if (res.status === 200) ready = (await res.json()) as typeof ready;
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null) break;
      }
      expect({ ready, output: ready ? '' : output }).toEqual({
        ready: expect.objectContaining({
          status: 'ready',
          migrations: expect.objectContaining({ pending: 0 }),
        }),
        output: '',
      });
      process.kill(-child.pid!, 'SIGTERM');
      // npm may exit on the signal before the server under it has finished draining: wait for the
      // server's own word (main.ts logs "stopped" only after a clean stop), not for npm.
      for (let i = 0; i < 100 && !output.includes('"msg":"stopped"'); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await exited;
      expect(output).toContain('"msg":"stopped"');
      expect(output).not.toContain('"level":50');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }, 90_000);
  });
});
