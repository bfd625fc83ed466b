import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configRows, currentConfigReference, renderConfigReference } from '../../src/config/config-reference';
import { doc, parse } from './org-config-fixtures';

/**
 * The README's org config reference is what the JSON Schema files produce (`npm run docs:config`
 * rewrites it), and the defaults it prints are the ones the loader really fills in.
 */
const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

it('the README block is what the schema renders (run `npm run docs:config` after changing a schema)', () => {
  expect(currentConfigReference(readme)).toBe(renderConfigReference());
});

it('covers the root schema and every section, arrays and maps included', () => {
  const rows = new Map(configRows().map((r) => [r.path, r]));
  for (const path of [
    'timezone',
    'members[].platforms.wecom',
    'teams[].supervisor',
    'scoring.grades.A',
    'routing.rules[].match.province',
    'sla.policies.B.claimWithin',
    'calendars.<key>.workingHours[].from',
    'pool.reclaimCooldown',
    'stages.lostReasons',
    'conversation.contextWindow',
  ]) {
    expect(rows.get(path)).toBeDefined();
  }
  expect(rows.get('sla.policies.A.claimWithin')).toMatchObject({ type: 'duration', default: '`"5m"`' });
  expect(rows.get('members[].language')).toMatchObject({ type: '"zh" \\| "en"', default: '`"zh"`' });
});

it('prints the defaults the loader fills in', () => {
  const config = parse(doc()) as unknown as Record<string, unknown>;
  const at = (p: string) =>
    p.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);
  // `{}` defaults are filled in further by their fields' defaults, checked on their own rows.
  const checked = configRows().filter(
    (r) => r.default.startsWith('`') && r.default !== '`{}`' && !/\[\]|<key>/.test(r.path),
  );
  expect(checked.length).toBeGreaterThan(30);
  for (const row of checked) {
    // A default inside an optional object without a default of its own (routing) applies only
    // once that object is written.
    const parent = row.path.split('.').slice(0, -1).join('.');
    if (parent && at(parent) === undefined) continue;
    expect({ path: row.path, value: at(row.path) }).toEqual({
      path: row.path,
      value: JSON.parse(row.default.slice(1, -1)),
    });
  }
});
