import rootSchema from './org-config.schema.json';
import { SECTION_SCHEMAS } from './sections';

/**
 * The org config reference: one markdown table row per config path (`sla.policies.A.claimWithin`,
 * `members[].platforms.wecom`) with its type, default and description, rendered from the JSON Schema
 * files ajv validates with (org-config.schema.json and sections/*.schema.json). The README carries
 * the rendered table between markers; `npm run docs:config` rewrites it and
 * test/config/config-reference.test.ts fails when it is stale, so the README cannot drift from
 * the schema. A better description in a schema file is a better README.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema documents are walked generically here.
type Schema = Record<string, any>;

export interface ConfigRow {
  path: string;
  type: string;
  default: string;
  description: string;
}

export const REFERENCE_START = '<!-- config-reference:start (npm run docs:config) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** Section schemas by `$id`, so `$ref`s across files resolve like ajv's. */
function documentsById(): Map<string, Schema> {
  const documents = new Map<string, Schema>();
  for (const doc of [rootSchema as Schema, ...(SECTION_SCHEMAS as Schema[])]) documents.set(doc.$id, doc);
  return documents;
}

interface Located {
  schema: Schema;
  /** The document `#/…` references resolve in. */
  document: Schema;
}

function resolve(node: Located, documents: Map<string, Schema>): Located {
  let current = node;
  for (let depth = 0; depth < 20 && typeof current.schema.$ref === 'string'; depth++) {
    const [base, fragment = ''] = (current.schema.$ref as string).split('#');
    const document = base ? documents.get(base) : current.document;
    if (!document) throw new Error(`unresolved $ref ${current.schema.$ref}`);
    let target: Schema = document;
    for (const part of fragment.split('/').filter(Boolean)) target = target[part];
    if (!target) throw new Error(`unresolved $ref ${current.schema.$ref}`);
    // Keywords beside a $ref (description, default) win over the target's.
    const { $ref: _ref, ...beside } = current.schema;
    current = { schema: { ...target, ...beside }, document };
  }
  // `allOf: [{$ref}]` with a default beside it (how sections get `default: {}`): merge the parts.
  if (Array.isArray(current.schema.allOf)) {
    const { allOf, ...rest } = current.schema;
    let merged: Schema = {};
    let document = current.document;
    for (const part of allOf as Schema[]) {
      const resolved = resolve({ schema: part, document: current.document }, documents);
      merged = { ...merged, ...resolved.schema };
      // The section's own `#/definitions/…` resolve in the section's file.
      document = resolved.document;
    }
    return { schema: { ...merged, ...rest }, document };
  }
  return current;
}

const DURATION_PATTERN = /\(ms\|s\|m\|h\|d\|w\)/;

function typeOf(schema: Schema, resolveItems: (items: Schema) => Schema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(' \\| ');
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0 && schema.properties) types.push('object');
  if (
    types.includes('string') &&
    typeof schema.pattern === 'string' &&
    DURATION_PATTERN.test(schema.pattern)
  ) {
    return 'duration';
  }
  if (types.includes('array')) {
    const items = schema.items ? resolveItems(schema.items as Schema) : undefined;
    const inner = items && !items.properties ? typeOf(items, resolveItems) : '';
    if (!inner || inner === 'object' || inner === 'any') return 'array';
    return inner.includes(' ') ? `(${inner})[]` : `${inner}[]`;
  }
  return types.join(' \\| ') || 'any';
}

function constraints(schema: Schema): string[] {
  const out: string[] = [];
  const range = (min: unknown, max: unknown, unit: string) => {
    if (min !== undefined && max !== undefined) out.push(`${min}–${max}${unit}`);
    else if (min !== undefined) out.push(`≥ ${min}${unit}`);
    else if (max !== undefined) out.push(`≤ ${max}${unit}`);
  };
  range(schema.minimum, schema.maximum, '');
  range(schema.minLength, schema.maxLength, ' chars');
  range(schema.minItems, schema.maxItems, ' items');
  if (schema.uniqueItems) out.push('unique');
  if (typeof schema.pattern === 'string' && !DURATION_PATTERN.test(schema.pattern)) {
    out.push(`pattern \`${schema.pattern}\``);
  }
  if (typeof schema.format === 'string') out.push(schema.format);
  return out;
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/(?<!\\)\|/g, '\\|');
}

function code(value: unknown): string {
  const text = JSON.stringify(value);
  // A default too long to read in a table (a whole ladder) is summarised.
  return text.length > 60
    ? `(${Array.isArray(value) ? `${value.length} items` : 'see schema'})`
    : `\`${text}\``;
}

/** Every path of the org config, depth first, in the schema's property order. */
export function configRows(): ConfigRow[] {
  const documents = documentsById();
  const rows: ConfigRow[] = [];
  // `emit` is false for array items: `members[]` has no row of its own, its fields do.
  const visit = (path: string, node: Located, depth: number, emit: boolean) => {
    if (depth > 12) throw new Error(`config schema nests too deep at ${path} (a recursive $ref?)`);
    const { schema, document } = resolve(node, documents);
    if (emit && path) {
      const limits = constraints(schema).join(', ');
      const description = [schema.description as string | undefined, limits && `(${limits})`]
        .filter(Boolean)
        .join(' ');
      rows.push({
        path,
        type: typeOf(schema, (items) => resolve({ schema: items, document }, documents).schema),
        default: schema.default === undefined ? '' : code(schema.default),
        description: cell(description),
      });
    }
    for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
      if (name.startsWith('$')) continue;
      visit(path ? `${path}.${name}` : name, { schema: child, document }, depth + 1, true);
    }
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      visit(`${path}.<key>`, { schema: schema.additionalProperties, document }, depth + 1, true);
    }
    if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items)) {
      visit(`${path}[]`, { schema: schema.items, document }, depth + 1, false);
    }
  };
  visit('', { schema: rootSchema as Schema, document: rootSchema as Schema }, 0, true);
  return rows;
}

/** The markdown block the README carries between REFERENCE_START and REFERENCE_END. */
export function renderConfigReference(): string {
  const lines = [
    REFERENCE_START,
    '',
    '| path | type | default | description |',
    '| --- | --- | --- | --- |',
    ...configRows().map((r) => `| \`${r.path}\` | ${r.type} | ${r.default} | ${r.description} |`),
    '',
    REFERENCE_END,
  ];
  return lines.join('\n');
}

/** The README with its reference block replaced; throws when the markers are missing. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start)
    throw new Error(`README.md has no ${REFERENCE_START} … ${REFERENCE_END} block`);
  return readme.slice(0, start) + renderConfigReference() + readme.slice(end + REFERENCE_END.length);
}

/** The reference block currently in the README, or null. */
export function currentConfigReference(readme: string): string | null {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  return start < 0 || end < start ? null : readme.slice(start, end + REFERENCE_END.length);
}
