/**
 * `npm run docs:config`: renders the org config reference (every path with type, default and
 * description) from the JSON Schema files into README.md between its config-reference markers.
 * `npm run docs:config -- --check` only reports whether the README is current (exit 1 if not);
 * test/config/config-reference.test.ts makes the same check in `npm test`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  currentConfigReference,
  renderConfigReference,
  withConfigReference,
} from '../src/config/config-reference';

const file = path.resolve(__dirname, '../README.md');
const readme = readFileSync(file, 'utf8');
if (process.argv.includes('--check')) {
  const current = currentConfigReference(readme) === renderConfigReference();
  console.log(
    current
      ? 'README.md config reference is current'
      : 'README.md config reference is stale: run npm run docs:config',
  );
  process.exit(current ? 0 : 1);
}
const updated = withConfigReference(readme);
if (updated === readme) console.log('README.md config reference already current');
else {
  writeFileSync(file, updated);
  console.log('README.md config reference updated');
}
