import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './child';

const run = promisify(execFile);

/**
 * LeadRelay as the Docker image runs it (`npm run build`, `node dist/main.js`), built into `dir` so a
 * build in the checkout (or another suite's) cannot change it mid-run: `dir/app/dist` beside links to
 * the checkout's cards/, drizzle/, package.json and node_modules/, where dist/ expects them. Returns
 * the path of main.js.
 */
export async function buildAsDeployed(dir: string): Promise<string> {
  const app = path.join(dir, 'app');
  mkdirSync(app, { recursive: true });
  const tsc = require.resolve('typescript/bin/tsc');
  await run(
    process.execPath,
    [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(app, 'dist')],
    {
      cwd: REPO_ROOT,
      timeout: 300_000,
    },
  ).catch((error: Error & { stdout?: string }) => {
    throw new Error(`build failed: ${error.message}\n${error.stdout ?? ''}`);
  });
  for (const name of ['cards', 'drizzle', 'package.json', 'node_modules']) {
    symlinkSync(path.join(REPO_ROOT, name), path.join(app, name));
  }
  return path.join(app, 'dist', 'main.js');
}

/**
 * The `NODE_OPTIONS` the Docker image sets (its `ENV NODE_OPTIONS="…"` line), so a suite runs the
 * server with the V8 heap settings production has. Throws when the Dockerfile has none: the load test's
 * memory figures mean nothing without them.
 */
export function deployedNodeOptions(): string {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const match = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
  if (!match) throw new Error('Dockerfile: no ENV NODE_OPTIONS="…" line');
  return match[1]!;
}
