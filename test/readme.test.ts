import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { testServerUrl } from './helpers/test-db';

/**
 * Keeps the README honest: its first code block holds the two commands of a fresh machine (run the
 * product, which is the demo against the bundled emulator; run the tests); `.ci/run` runs exactly
 * that test command; the run command really starts the demo, whose page and API answer, and which
 * stops cleanly on SIGTERM; and `npm start`, documented further down, starts the server alone on a
 * database that does not exist yet.
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

/** Runs an npm command in its own process group (as a terminal or container runtime would). */
function spawnNpm(
  command: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const [npm, ...args] = command.split(' ');
  const child = spawn(npm!, args, {
    cwd: root,
    env: { ...process.env, ...env },
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
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(probe: () => boolean | Promise<boolean>, tries: number, everyMs: number): Promise<void> {
  for (let i = 0; i < tries && !(await probe()); i++) await new Promise((r) => setTimeout(r, everyMs));
}

describe('README quick start', () => {
  it('starts with a code block of two commands: run the product, run the tests', () => {
    const { start, test } = quickStart();
    expect(readme.indexOf('```')).toBeLessThan(
      readme.indexOf('\n\n', readme.indexOf('# LeadRelay') + 12) + 2,
    );
    expect(start).toBe('npm ci && npm run demo');
    expect(test).toBe('npm ci && npm test');
  });

  it('is what .ci/run runs: npm ci, then exactly the test command, then only documented suites', () => {
    const lines = ciRun
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const install = lines.findIndex((l) => l.startsWith('npm ci'));
    const test = lines.indexOf(withoutInstall(quickStart().test));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(test).toBeGreaterThan(install);
    // After the tests, only the reliability suites' short forms, each as the README shows it.
    for (const extra of lines.slice(test + 1)) {
      expect(extra).toMatch(/^(?:[A-Z_]+=\S+ )*npm run test:(?:chaos|load)$/);
      expect(readme).toContain(extra);
    }
  });

  describe('the run command: the demo', () => {
    // A name of this test run (global-teardown drops it), never the developer's own leadrelay_demo.
    const database = `${process.env.LEADRELAY_TEST_RUN}_readme_demo`;
    let run: ReturnType<typeof spawnNpm> | undefined;
    afterAll(async () => {
      // The whole process group: npm, tsx and the demo under them.
      if (run?.child.pid && run.child.exitCode === null) process.kill(-run.child.pid, 'SIGKILL');
      const connection = await mysql.createConnection({ uri: testServerUrl() });
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    });

    it('prints the emulator page, whose page and API answer, feeds leads, and stops cleanly on SIGTERM', async () => {
      const port = await freePort();
      run = spawnNpm(withoutInstall(quickStart().start), {
        PORT: String(port),
        EMULATOR_PORT: '0',
        DATABASE_URL: testServerUrl(),
        DEMO_DATABASE: database,
        DEMO_LEAD_INTERVAL_MS: '200',
        DEMO_MAX_LEADS: '20',
        LOG_LEVEL: 'warn',
      });
      const { child, output } = run;
      const pageLine = /Emulator page: (http:\/\/127\.0\.0\.1:\d+\/)/;
      await until(() => pageLine.test(output()) || child.exitCode !== null, 240, 250);
      expect({ page: pageLine.exec(output())?.[1], output: pageLine.test(output()) ? '' : output() }).toEqual(
        {
          page: expect.stringMatching(/^http/),
          output: '',
        },
      );
      const pageUrl = pageLine.exec(output())![1]!;
      const apiUrl = /LeadRelay API:\s+(\S+)/.exec(output())![1]!;
      const adminKey = /admin key:\s+(\S+)/.exec(output())![1]!;
      expect(apiUrl).toBe(`http://127.0.0.1:${port}`);

      const page = await fetch(pageUrl);
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const text of ['企业微信模拟器', '王磊', '陈建国', '华东大区销售群']) expect(html).toContain(text);

      // The feeder posts leads through the real API; the first one is readable with the admin key.
      await until(() => output().includes('新线索 #1 '), 60, 250);
      const lead = await fetch(`${apiUrl}/api/v1/leads/1`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(lead.status).toBe(200);
      const body = (await lead.json()) as { lead: { id: number }; timeline: { type: string }[] };
      expect(body.lead.id).toBe(1);
      expect(body.timeline.map((e) => e.type)).toContain('lead.created');

      process.kill(-child.pid!, 'SIGTERM');
      // npm may exit on the signal before the demo under it has finished: wait for the demo's own
      // word ("已停止 / stopped" comes only after a clean stop), not for npm.
      await until(() => output().includes('已停止 / stopped'), 100, 200);
      await run.exited;
      expect(output()).toContain('已停止 / stopped');
      expect(output()).not.toMatch(/^\s+at /m);
      expect(output()).not.toContain('✗');
      await expect(fetch(pageUrl)).rejects.toThrow();
      await expect(fetch(`${apiUrl}/healthz`)).rejects.toThrow();
    }, 120_000);
  });

  describe('npm start: the server alone', () => {
    const database = `${process.env.LEADRELAY_TEST_RUN}_readme`;
    let run: ReturnType<typeof spawnNpm> | undefined;
    afterAll(async () => {
      if (run?.child.pid && run.child.exitCode === null) process.kill(-run.child.pid, 'SIGKILL');
      const connection = await mysql.createConnection({ uri: testServerUrl() });
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    });

    it('is documented, creates the database, migrates, answers /readyz, and shuts down gracefully on SIGTERM', async () => {
      expect(readme).toContain('`npm start`');
      const port = await freePort();
      run = spawnNpm('npm start', {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: new URL(database, testServerUrl()).toString(),
        LOG_LEVEL: 'info',
        LEADRELAY_CONFIG: '',
      });
      const { child, output } = run;
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
      expect({ ready, output: ready ? '' : output() }).toEqual({
        ready: expect.objectContaining({
          status: 'ready',
          migrations: expect.objectContaining({ pending: 0 }),
        }),
        output: '',
      });
      process.kill(-child.pid!, 'SIGTERM');
      // npm may exit on the signal before the server under it has finished draining: wait for the
      // server's own word (main.ts logs "stopped" only after a clean stop), not for npm.
      await until(() => output().includes('"msg":"stopped"'), 100, 200);
      await run.exited;
      expect(output()).toContain('"msg":"stopped"');
      expect(output()).not.toContain('"level":50');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }, 90_000);
  });
});
