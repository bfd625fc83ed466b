import { type CardContext, CONTEXT_FIELDS, isContextPath } from './card-context';
import { createTimeFormat, FORMATTERS, type FormatEnv, formatPlain, isFormatterName } from './formatters';
import type { CardTemplates } from './load-cards';
import { type Placeholder, parseTemplateText } from './placeholders';
import type { CardModel } from './types';

/**
 * Template + context → the neutral CardModel. Pure: no clock, no I/O; times are formatted in
 * `context.timezone`.
 *
 * Empty values never leave holes on a card:
 * - a field row, description, quote, settled text or emphasis whose text renders empty is dropped;
 * - text is made of parts joined by ` · `; a part whose placeholders all render empty is dropped with
 *   its literal text, so `{{lead.company}} · 来自{{lead.sourceName}}` becomes `来自百度推广` when the
 *   company is unknown, not ` · 来自百度推广`, and `{{minutes | duration}}内认领` disappears without
 *   a minutes value instead of reading `内认领`;
 * - each part is trimmed, so `{{lead.province}} {{lead.city}}` with no province is just the city.
 */
export function renderCard(templates: CardTemplates, name: string, context: CardContext): CardModel {
  if (!Object.hasOwn(templates, name)) {
    throw new Error(`未知的卡片模板 "${name}"（已加载：${Object.keys(templates).join(', ')}）`);
  }
  const template = templates[name]!;
  const env: FormatEnv = { timeFormat: createTimeFormat(context.timezone) };
  const text = (source: string | undefined) => (source === undefined ? '' : renderText(source, context, env));

  const description = text(template.description);
  const emphasis = text(template.emphasis?.value);
  const emphasisLabel = text(template.emphasis?.label);
  const quote = text(template.quote);
  const settled = text(template.settled);
  // Keys in display order, so the JSON an outbox row freezes reads top to bottom like the card.
  return {
    template: name,
    title: text(template.title),
    ...(description && { description }),
    ...(emphasis && {
      emphasis: emphasisLabel ? { value: emphasis, label: emphasisLabel } : { value: emphasis },
    }),
    fields: template.fields
      .map((f) => ({ label: f.label, value: text(f.value) }))
      .filter((f) => f.value !== ''),
    ...(quote && { quote }),
    // Copies: the templates are frozen and shared; the card is the caller's.
    buttons: template.buttons.map((b) => ({ actionId: b.actionId, text: b.text, style: b.style })),
    ...(settled && { settled }),
  };
}

const SEPARATOR = ' · ';

function renderText(source: string, context: CardContext, env: FormatEnv): string {
  return source
    .split(SEPARATOR)
    .map((part) => renderPart(part, context, env))
    .filter((part) => part !== '')
    .join(SEPARATOR);
}

function renderPart(part: string, context: CardContext, env: FormatEnv): string {
  let placeholders = 0;
  let filled = 0;
  const out = parseTemplateText(part)
    .map((segment) => {
      if (segment.type === 'text') return segment.text;
      placeholders += 1;
      const value = renderPlaceholder(segment, context, env);
      if (value !== '') filled += 1;
      return value;
    })
    .join('');
  return placeholders > 0 && filled === 0 ? '' : out.trim();
}

function renderPlaceholder(p: Placeholder, context: CardContext, env: FormatEnv): string {
  // The loader rejects unknown paths and formatters; a hand-built template that slips one through
  // shows nothing rather than a raw {{…}}.
  if (p.malformed || !isContextPath(p.path)) return '';
  const value = lookup(context, p.path);
  if (value === undefined || value === null) return '';
  if (p.formatter === undefined) return formatPlain(value, CONTEXT_FIELDS[p.path], env);
  return isFormatterName(p.formatter) ? FORMATTERS[p.formatter].format(value, env) : '';
}

/** Own properties only, so a path can never reach `__proto__` or `constructor`. */
function lookup(context: CardContext, path: string): unknown {
  let value: unknown = context;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
