import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const RESULTS_FILE = path.resolve(__dirname, '../RESULTS.md');
const HEADING = '# Benchmark results';
const INTRO =
  'Newest first. Each block is written by `npm run bench -- <name> --record`; compare ratios measured ' +
  'in one run, not absolute figures across machines.';

/**
 * Puts `blocks` (each starting with a `## ` heading) at the top of bench/RESULTS.md, under the
 * `# Benchmark results` heading and any intro text, above the older blocks.
 */
export function prependResults(blocks: string[], file = RESULTS_FILE): void {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let head = `${HEADING}\n\n${INTRO}\n`;
  let older = '';
  if (existing.trim() !== '') {
    const body = existing.startsWith(HEADING) ? existing : `${HEADING}\n\n${existing}`;
    const firstBlock = body.search(/^## /m);
    head = firstBlock < 0 ? body : body.slice(0, firstBlock);
    older = firstBlock < 0 ? '' : body.slice(firstBlock);
  }
  const parts = [head.trimEnd(), ...blocks.map((b) => b.trim()), older.trim()].filter((p) => p !== '');
  writeFileSync(file, `${parts.join('\n\n')}\n`);
  formatMarkdown(file);
}

/** Biome formats markdown too (aligned tables); `npm run lint` checks this file like any other. */
function formatMarkdown(file: string): void {
  const biome = path.resolve(__dirname, '../../node_modules/.bin/biome');
  try {
    execFileSync(biome, ['format', '--write', file], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`[bench] could not run biome on ${file}; run \`npm run format\`\n`);
  }
}
