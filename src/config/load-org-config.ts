import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { type Node, type ParseError, parseTree } from 'jsonc-parser';
import { ConfigError } from '../lib/errors';
import { type Env, interpolate } from './interpolate-env';
import schema from './org-config.schema.json';
import { checkReferences } from './org-config-checks';
import { describeAjvErrors, describeParseErrors, escapePointer, type Problem } from './org-config-messages';
import type { OrgConfig } from './org-types';
import { SECTION_CHECKS, SECTION_SCHEMAS } from './sections';

/**
 * Loads the org config: JSONC → `${ENV}` interpolation → ajv schema (with defaults) → cross-reference
 * checks ajv cannot express → one ConfigError listing every problem, or a deep-frozen OrgConfig.
 * Problems name a JSON pointer and the broken rule in brackets, so `leadrelay config check` output
 * can be acted on without reading the schema.
 *
 * The stages live next door: `interpolate-env.ts` (`${ENV}` / `${ENV:-default}`), `org-config-messages.ts`
 * (syntax and ajv errors → problems), `org-config-checks.ts` (cross-reference checks).
 */

export type OrgConfigValidator = ValidateFunction<OrgConfig>;
type Loose = Record<string, unknown>;

/** Compile once at start and pass it around: compiling costs milliseconds, validating microseconds. */
export function createOrgConfigValidator(): OrgConfigValidator {
  // verbose: errors carry data and parentSchema, which org-config-messages.ts quotes. Strict mode turns
  // schema mistakes into compile errors; strictRequired is off because the fit-rule oneOf branches
  // are `{required: [key]}` naming properties declared one level up.
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    verbose: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  addFormats(ajv);
  for (const section of SECTION_SCHEMAS) ajv.addSchema(section);
  return ajv.compile<OrgConfig>(schema);
}

export function loadOrgConfig(
  path: string,
  env: Env = process.env,
  validator: OrgConfigValidator = createOrgConfigValidator(),
): OrgConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `无法读取配置文件：${(err as Error).message}` }]);
  }
  return parseOrgConfig(text, path, env, validator);
}

export function parseOrgConfig(
  text: string,
  file: string,
  env: Env,
  validator: OrgConfigValidator = createOrgConfigValidator(),
): OrgConfig {
  // Notepad on Windows saves UTF-8 with a BOM, which the JSON grammar does not allow.
  const source = text.replace(/^\uFEFF/, '');
  const parseErrors: ParseError[] = [];
  const tree = parseTree(source, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length > 0 || !tree) {
    const problems = describeParseErrors(source, parseErrors);
    throw new ConfigError(file, problems.length > 0 ? problems : [{ path: '1:1', message: '文件为空' }]);
  }

  const problems: Problem[] = [];
  const data = toValue(tree, '', env, problems);

  const report = (more: Problem[]) => {
    // A later stage must not repeat an earlier complaint about the same value (an unset ${TZ} is
    // not also an unknown timezone; a bad duration pattern is not also an unparseable duration).
    const seen = new Set(problems.map((p) => p.path));
    problems.push(...more.filter((p) => !seen.has(p.path)));
  };
  if (!validator(data)) report(describeAjvErrors(validator.errors ?? []));
  report(checkReferences(data));
  if (data !== null && typeof data === 'object') {
    for (const check of SECTION_CHECKS) report(check(data as Record<string, unknown>));
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return deepFreeze(data as OrgConfig);
}

/** Multi-line report for `leadrelay config check`. */
export function formatConfigError(err: ConfigError): string {
  const count = err.problems.length;
  const lines = err.problems.map((p, i) => `  ${i + 1}. ${p.path ? `${p.path}: ` : ''}${p.message}`);
  return [
    `配置文件 ${err.file} 有 ${count} 个问题 (${count} problem${count === 1 ? '' : 's'}):`,
    ...lines,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// JSONC tree → plain value, with duplicate keys reported and ${ENV} interpolated in string values.

function toValue(node: Node, path: string, env: Env, problems: Problem[]): unknown {
  switch (node.type) {
    case 'object': {
      const out: Loose = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (!keyNode || !valueNode) continue;
        const key = String(keyNode.value);
        const childPath = `${path}/${escapePointer(key)}`;
        if (Object.hasOwn(out, key)) {
          problems.push({
            path: childPath,
            message: `字段 "${key}" 重复出现，后一个会覆盖前一个 [duplicateKey]`,
          });
        }
        // defineProperty, not assignment: a "__proto__" key must stay a plain (rejected) field.
        Object.defineProperty(out, key, {
          value: toValue(valueNode, childPath, env, problems),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((child, i) => toValue(child, `${path}/${i}`, env, problems));
    case 'string':
      return interpolate(node.value as string, path || '/', env, problems);
    default:
      return node.value;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
