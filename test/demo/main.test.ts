import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** `npm run demo` when it cannot start: a plain message in Chinese and English, exit code 1, no stack. */
const root = path.resolve(__dirname, '../..');

function runDemo(env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'src/demo/main.ts'],
    {
      cwd: root,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('npm run demo without a database', () => {
  it('says how to start MySQL, in Chinese and English, and exits 1 without a stack trace', () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const { status, output } = runDemo({ DATABASE_URL: 'mysql://root:secret@127.0.0.1:1/leadrelay' });
    expect(status).toBe(1);
    expect(output).toContain('无法连接 MySQL');
    expect(output).toContain('Cannot connect to MySQL');
    expect(output).toContain('start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd');
    expect(output).toMatch(/docker (compose up -d mysql|run -d)/);
    expect(output).toContain('ECONNREFUSED');
    expect(output).not.toContain('secret');
    expect(output).not.toMatch(/^\s+at /m);
  }, 40_000);

  it('refuses a database name that is not a demo one, rather than drop it', () => {
    const { status, output } = runDemo({ DEMO_DATABASE: 'leadrelay' });
    expect(status).toBe(1);
    expect(output).toContain('must contain "demo"');
    expect(output).not.toMatch(/^\s+at /m);
  }, 40_000);
});
