import { readFileSync } from 'node:fs';
import path from 'node:path';
import { envSchema, parseEnv } from '../../src/config/env';

/**
 * `.env.example` lists every variable src/config/env.ts parses, each with a Chinese and an English
 * comment, and its values are the defaults (or empty for "unset"); the README's environment table
 * names every variable too. A variable added to env.ts fails here until it is documented.
 */
const root = path.resolve(__dirname, '../..');
const example = readFileSync(path.join(root, '.env.example'), 'utf8');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const schemaKeys = Object.keys(envSchema.shape).sort();

const lines = example.split('\n');
const assignments = lines
  .map((line, index) => ({ index, match: /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line) }))
  .filter((a): a is { index: number; match: RegExpExecArray } => a.match !== null)
  .map(({ index, match }) => ({ index, name: match[1]!, value: match[2]! }));

it('assigns every variable of the env schema exactly once, and nothing else', () => {
  expect(assignments.map((a) => a.name).sort()).toEqual(schemaKeys);
});

it('explains each variable in Chinese and in English right above it', () => {
  for (const { index, name } of assignments) {
    const comment: string[] = [];
    for (let i = index - 1; i >= 0 && lines[i]!.startsWith('#'); i--) comment.unshift(lines[i]!);
    const text = comment.join('\n');
    expect({ name, chinese: /[\u4e00-\u9fff]/.test(text) }).toEqual({ name, chinese: true });
    expect({
      name,
      english: /[A-Za-z]{2,} [A-Za-z]{2,}/.test(text.replace(/[A-Z][A-Z0-9_]{3,}/g, '')),
    }).toEqual({ name, english: true });
  }
});

it('shows the defaults: parsed as it is, the example is the same as an empty environment', () => {
  const values = Object.fromEntries(assignments.map((a) => [a.name, a.value]));
  expect(parseEnv(values)).toEqual(parseEnv({}));
});

it("is matched by the README's environment table", () => {
  for (const name of schemaKeys)
    expect({ name, inReadme: readme.includes(`\`${name}\``) }).toEqual({ name, inReadme: true });
});
