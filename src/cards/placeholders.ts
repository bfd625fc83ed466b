import { suggest } from '../config/org-config-messages';
import { CONTEXT_FIELDS, CONTEXT_ROOTS, type FieldKind, isContextPath } from './card-context';
import { FORMATTER_NAMES, FORMATTERS, isFormatterName } from './formatters';

/**
 * Template text: literal text with `{{path}}` and `{{path | formatter}}` placeholders. Parsed the same
 * way by the loader (to check every placeholder) and by the renderer (to fill them in).
 */

export type Segment = { type: 'text'; text: string } | Placeholder;

export interface Placeholder {
  type: 'placeholder';
  /** As written, braces included, for messages. */
  raw: string;
  path: string;
  formatter?: string;
  /** Not `{{path}}` or `{{path | formatter}}`; the loader reports it, the renderer shows nothing. */
  malformed: boolean;
}

export interface TextProblem {
  message: string;
  rule: string;
}

const PATH = /^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*$/;
const FORMATTER = /^[A-Za-z][A-Za-z0-9]*$/;

/** Splits text into literal and placeholder segments; syntax is checked by `checkTemplateText`. */
export function parseTemplateText(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  // `{{` up to the first `}}` after it. Scanned with indexOf, not a lazy regex: a text with many `{{`
  // and no `}}` made the regex retry from every `{{` to the end (quadratic; found by fuzzing).
  for (;;) {
    const open = text.indexOf('{{', last);
    if (open === -1) break;
    const close = text.indexOf('}}', open + 2);
    if (close === -1) break;
    if (open > last) segments.push({ type: 'text', text: text.slice(last, open) });
    segments.push(toPlaceholder(text.slice(open, close + 2), text.slice(open + 2, close)));
    last = close + 2;
  }
  if (last < text.length) segments.push({ type: 'text', text: text.slice(last) });
  return segments;
}

function toPlaceholder(raw: string, inner: string): Placeholder {
  const [path = '', formatter, ...rest] = inner.split('|').map((s) => s.trim());
  const malformed =
    rest.length > 0 || !PATH.test(path) || (formatter !== undefined && !FORMATTER.test(formatter));
  return formatter === undefined
    ? { type: 'placeholder', raw, path, malformed }
    : { type: 'placeholder', raw, path, formatter, malformed };
}

/**
 * Everything wrong with the placeholders of one template string: syntax, an unknown root or path, an
 * unknown formatter, a formatter applied to the wrong kind of value.
 */
export function checkTemplateText(text: string): TextProblem[] {
  const problems: TextProblem[] = [];
  for (const segment of parseTemplateText(text)) {
    if (segment.type === 'text') {
      if (/[{}]/.test(segment.text)) {
        problems.push({
          message: `"${segment.text.trim()}" 中有未闭合的 {{ 或单独的花括号；占位符应写作 {{lead.name}} 或 {{lead.phone | maskPhone}}`,
          rule: 'placeholderSyntax',
        });
      }
      continue;
    }
    problems.push(...checkPlaceholder(segment));
  }
  return problems;
}

function checkPlaceholder(p: Placeholder): TextProblem[] {
  if (p.malformed) {
    return [
      {
        message: `占位符 ${p.raw} 写法有误：应为 {{路径}} 或 {{路径 | 格式}}，如 {{lead.name}}、{{lead.phone | maskPhone}}`,
        rule: 'placeholderSyntax',
      },
    ];
  }
  const problems: TextProblem[] = [];
  const root = p.path.split('.')[0]!;
  let kind: FieldKind | undefined;
  if (!CONTEXT_ROOTS.includes(root)) {
    const hint = suggest(root, [...CONTEXT_ROOTS]);
    problems.push({
      message: `占位符 ${p.raw} 的 "${root}" 不是可用的数据${hint ? `，是否想写 "${hint}"？` : ''}（可用：${CONTEXT_ROOTS.join(', ')}）`,
      rule: 'unknownRoot',
    });
  } else if (!isContextPath(p.path)) {
    const known = Object.keys(CONTEXT_FIELDS).filter((k) => k === root || k.startsWith(`${root}.`));
    const hint = suggest(p.path, known);
    problems.push({
      message: `占位符 ${p.raw} 的 "${p.path}" 不存在${hint ? `，是否想写 "${hint}"？` : ''}（可用：${known.join(', ')}）`,
      rule: 'unknownPath',
    });
  } else {
    kind = CONTEXT_FIELDS[p.path];
  }
  if (p.formatter === undefined) return problems;
  if (!isFormatterName(p.formatter)) {
    const hint = suggest(p.formatter, FORMATTER_NAMES);
    problems.push({
      message: `占位符 ${p.raw} 用了未知的格式 "${p.formatter}"${hint ? `，是否想写 "${hint}"？` : ''}（可用：${FORMATTER_NAMES.join(', ')}）`,
      rule: 'unknownFormatter',
    });
  } else if (kind !== undefined && FORMATTERS[p.formatter].accepts !== kind) {
    problems.push({
      message: `占位符 ${p.raw}：${p.formatter} 只能用于${KIND_NAMES[FORMATTERS[p.formatter].accepts]}，而 ${p.path} 是${KIND_NAMES[kind]}`,
      rule: 'formatterType',
    });
  }
  return problems;
}

const KIND_NAMES: Record<FieldKind, string> = { text: '文字', number: '数字', time: '时间' };
