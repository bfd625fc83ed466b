import { dateTimeFormat } from '../lib/date-formats';
import { maskEmail, maskName, maskPhone } from '../lib/mask';
import type { FieldKind } from './card-context';

/**
 * The fixed set of formatters a placeholder may name (`{{lead.phone | maskPhone}}`). Fixed on purpose:
 * templates are authored by admins, so they get plain paths and these few named transforms, never
 * expressions. `cards/schema.json` lists the same names in its `templateText` pattern (a test keeps
 * them equal).
 */
export interface Formatter {
  /** The kind of value it takes; the loader rejects e.g. `{{lead.name | time}}`. */
  accepts: FieldKind;
  format(value: unknown, env: FormatEnv): string;
}

export interface FormatEnv {
  /** Formats a time in the card's timezone; built once per render (it also validates the timezone). */
  timeFormat: Intl.DateTimeFormat;
}

export const FORMATTERS = Object.freeze({
  /** 13812345678 → 138****1234 (RELIABILITY.md: group messages mask phone numbers). */
  maskPhone: { accepts: 'text', format: (v) => maskPhone(asText(v)) },
  /** 张伟 → 张*. */
  maskName: { accepts: 'text', format: (v) => maskName(asText(v)) },
  /** Masks mobile numbers and e-mail addresses inside free text, such as the customer's need. */
  redact: { accepts: 'text', format: (v) => redactText(asText(v)) },
  /** An instant → `11月21日 09:30` in the card's timezone. */
  time: { accepts: 'time', format: (v, env) => formatCardTime(v, env.timeFormat) },
  /** Minutes → `5 分钟`, `2 小时`, `1 小时 30 分钟`, `1 天 2 小时`. */
  duration: { accepts: 'number', format: (v) => formatMinutes(v) },
} satisfies Record<string, Formatter>);

export type FormatterName = keyof typeof FORMATTERS;
export const FORMATTER_NAMES = Object.keys(FORMATTERS) as FormatterName[];

export function isFormatterName(name: string): name is FormatterName {
  return Object.hasOwn(FORMATTERS, name);
}

/** A value with no formatter: text as is, numbers in digits, times as `time` does. */
export function formatPlain(value: unknown, kind: FieldKind, env: FormatEnv): string {
  switch (kind) {
    case 'time':
      return formatCardTime(value, env.timeFormat);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
    case 'text':
      return asText(value);
  }
}

export function createTimeFormat(timezone: string): Intl.DateTimeFormat {
  try {
    return dateTimeFormat('zh-CN', {
      timeZone: timezone,
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      // h23, not hour12: false, which some ICU versions render as 24:05 just after midnight.
      hourCycle: 'h23',
    });
  } catch {
    throw new RangeError(`无效的时区 "${timezone}"：应为 IANA 时区名，如 Asia/Shanghai`);
  }
}

/** `11月21日 09:30`. Built from parts so it does not depend on the ICU version's zh-CN pattern. */
export function formatCardTime(value: unknown, format: Intl.DateTimeFormat): string {
  const date =
    value instanceof Date ? value : typeof value === 'string' && value !== '' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return '';
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.month}月${parts.day}日 ${parts.hour}:${parts.minute}`;
}

/** The two largest units only: a card says "1 天 2 小时", not "1 天 2 小时 3 分钟". */
export function formatMinutes(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '';
  // Overdue amounts may arrive negative (deadline − now); the card shows the magnitude.
  const total = Math.round(Math.abs(value));
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  if (days > 0) return hours > 0 ? `${days} 天 ${hours} 小时` : `${days} 天`;
  if (hours > 0) return minutes > 0 ? `${hours} 小时 ${minutes} 分钟` : `${hours} 小时`;
  return `${minutes} 分钟`;
}

// A Chinese mobile with an optional +86/86 prefix and spaces or dashes between groups, not inside a
// longer digit run (an order number).
const MOBILE_IN_TEXT = /(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)/g;
const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Free text the customer wrote may carry contact details; cards for many eyes must not. */
export function redactText(text: string): string {
  return text.replace(MOBILE_IN_TEXT, (m) => maskPhone(m)).replace(EMAIL_IN_TEXT, (m) => maskEmail(m));
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}
