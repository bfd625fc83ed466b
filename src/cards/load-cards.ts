import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { describeAjvError, isTemplateTextPatternError, type PathProblem } from './card-template-messages';
import { checkTemplateText } from './placeholders';
import type { CardButton } from './types';

/**
 * Loads the card templates (`cards/*.json`): JSON → ajv against `schema.json` → the checks a schema
 * cannot express (placeholder paths and formatters, name = file name, unique action ids) → every
 * problem of every file in one CardTemplateError, or a frozen name → template map. Run it at start:
 * a broken template should stop the process, not the first card.
 */

/** One template as authored (minus `$schema`); see cards/schema.json for the rules. */
export interface CardTemplate {
  name: string;
  /** Who gets the card and when; for people only. */
  about?: string;
  title: string;
  description?: string;
  emphasis?: { value: string; label?: string };
  fields: { label: string; value: string }[];
  quote?: string;
  buttons: CardButton[];
  settled?: string;
}

export type CardTemplates = Readonly<Record<string, Readonly<CardTemplate>>>;

/** The cards the domain sends; a card directory without one of them cannot run the product. */
export const REQUIRED_CARD_TEMPLATES = [
  'new-lead',
  'pool-offer',
  'escalation',
  'reminder',
  'detail',
  'claimed',
  'closed',
] as const;

export type RequiredCardTemplate = (typeof REQUIRED_CARD_TEMPLATES)[number];

export interface CardTemplateProblem {
  file: string;
  /** JSON pointer, `/` for the whole file, `line:column` for a syntax error. */
  path: string;
  message: string;
}

export class CardTemplateError extends Error {
  constructor(readonly problems: CardTemplateProblem[]) {
    const lines = problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
    super(
      lines.length === 1
        ? lines[0]!
        : `卡片模板有 ${lines.length} 个问题:\n${lines.map((l) => `  ${l}`).join('\n')}`,
    );
    this.name = 'CardTemplateError';
  }
}

const SCHEMA_FILE = 'schema.json';

/** Places where template text (with placeholders) may appear, as JSON pointers into a template. */
function templateTextPointers(data: Record<string, unknown>): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const key of ['title', 'description', 'quote', 'settled']) out.push([`/${key}`, data[key]]);
  const emphasis = data.emphasis;
  if (isObject(emphasis)) {
    out.push(['/emphasis/value', emphasis.value], ['/emphasis/label', emphasis.label]);
  }
  if (Array.isArray(data.fields)) {
    data.fields.forEach((f, i) => {
      if (isObject(f)) out.push([`/fields/${i}/value`, f.value]);
    });
  }
  return out;
}

export function loadCardTemplates(dir: string): CardTemplates {
  const fail = (file: string, path: string, message: string): never => {
    throw new CardTemplateError([{ file, path, message }]);
  };

  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && n !== SCHEMA_FILE);
  } catch (err) {
    fail(dir, '/', `无法读取卡片模板目录：${(err as Error).message} [readDir]`);
  }
  names.sort();

  // The schema sits next to the templates, so editors (via "$schema") and the loader check the same
  // rules. Compiled once per call: the loader runs once at start, and nothing is kept in module state.
  const schemaFile = join(dir, SCHEMA_FILE);
  let validate: ValidateFunction | undefined;
  try {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  } catch (err) {
    fail(schemaFile, '/', `无法加载卡片模板的 schema：${(err as Error).message} [schema]`);
  }

  const problems: CardTemplateProblem[] = [];
  const templates: Record<string, CardTemplate> = {};
  for (const name of names) {
    const file = join(dir, name);
    const found: PathProblem[] = [];
    const data = readTemplate(file, found);
    if (data !== undefined) {
      checkTemplate(data, basename(name, '.json'), validate!, found);
      if (found.length === 0) templates[basename(name, '.json')] = toTemplate(data);
    }
    problems.push(...found.map((p) => ({ file, ...p })));
  }

  const present = new Set(names.map((n) => basename(n, '.json')));
  for (const required of REQUIRED_CARD_TEMPLATES) {
    if (!present.has(required)) {
      problems.push({
        file: join(dir, `${required}.json`),
        path: '/',
        message: `缺少必需的卡片模板 "${required}"（文件不存在） [requiredTemplate]`,
      });
    }
  }

  if (problems.length > 0) throw new CardTemplateError(problems);
  for (const template of Object.values(templates)) deepFreeze(template);
  return Object.freeze(templates);
}

function readTemplate(file: string, found: PathProblem[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    // Notepad saves UTF-8 with a BOM, which JSON does not allow.
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    found.push({ path: '/', message: `无法读取文件：${(err as Error).message} [readFile]` });
    return undefined;
  }
  // jsonc-parser rather than JSON.parse: it reports line:column, and strict JSON keeps the files
  // readable by every tool that follows "$schema".
  const errors: ParseError[] = [];
  const data: unknown = parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0) {
    // Only the first: the parser's later complaints are mostly echoes of it.
    const first = errors[0]!;
    found.push({
      path: lineColumn(text, first.offset),
      message: `JSON 语法错误 [${printParseErrorCode(first.error)}]`,
    });
    return undefined;
  }
  if (!isObject(data)) {
    found.push({ path: '/', message: '模板应为一个 JSON 对象 [type]' });
    return undefined;
  }
  return data;
}

function checkTemplate(
  data: Record<string, unknown>,
  fileName: string,
  validate: ValidateFunction,
  found: PathProblem[],
): void {
  const textProblems: PathProblem[] = [];
  for (const [path, value] of templateTextPointers(data)) {
    if (typeof value !== 'string') continue;
    for (const p of checkTemplateText(value))
      textProblems.push({ path, message: `${p.message} [${p.rule}]` });
  }
  const flagged = new Set(textProblems.map((p) => p.path));

  if (!validate(data)) {
    for (const e of validate.errors ?? []) {
      // The schema's placeholder pattern only says "does not match"; the placeholder check says why.
      if (isTemplateTextPatternError(e) && flagged.has(e.instancePath)) continue;
      found.push(describeAjvError(e));
    }
  }
  found.push(...textProblems);

  if (typeof data.name === 'string' && data.name !== fileName) {
    found.push({
      path: '/name',
      message: `模板名 "${data.name}" 与文件名不符，应为 "${fileName}" [nameMatchesFile]`,
    });
  }
  if (Array.isArray(data.buttons)) {
    const seen = new Map<unknown, number>();
    data.buttons.forEach((b, i) => {
      if (!isObject(b) || typeof b.actionId !== 'string') return;
      const first = seen.get(b.actionId);
      if (first === undefined) seen.set(b.actionId, i);
      // The callback carries only the action id: two buttons with one id could not be told apart.
      else
        found.push({ path: `/buttons/${i}/actionId`, message: `与 /buttons/${first} 重复 [uniqueActionId]` });
    });
    if (data.buttons.length > 0 && data.settled !== undefined) {
      found.push({
        path: '/settled',
        message:
          'settled 是卡片结束后代替按钮显示的文字，有 settled 的模板不能再有按钮 [settledWithoutButtons]',
      });
    }
  }
}

function toTemplate(data: Record<string, unknown>): CardTemplate {
  const template: Record<string, unknown> = { ...data };
  delete template.$schema;
  return template as unknown as CardTemplate; // the shape was checked against the schema above
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
