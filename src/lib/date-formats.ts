/**
 * Intl.DateTimeFormat objects are expensive to build (ICU data lookups; ~7% of a lead's CPU when
 * built per call, measured in bench/speed-to-lead) and immutable once built. This memo keeps one per
 * (locale, options) key. It is the one module-level cache in the code base, deliberately: it holds
 * no application state, only pure formatters, and it is bounded by the handful of timezones an org
 * config names.
 */
const formats = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATS = 256;

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    if (formats.size >= MAX_FORMATS) formats.clear();
    formats.set(key, format);
  }
  return format;
}
