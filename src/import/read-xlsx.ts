import type { Readable } from 'node:stream';
import yauzl, { type Entry } from 'yauzl';

/**
 * The first worksheet of an XLSX, row by row, as text: a lean reader made for importing 100k-row
 * sheets (exceljs's streaming reader spent ~170 µs a row, most of it in its general XML parser and
 * cell model). The zip is read by its central directory (yauzl), so the shared strings and styles are
 * read before the sheet whatever order the entries are stored in; the sheet entry is inflated and
 * scanned as it streams, never whole. SpreadsheetML is machine-written and regular, so a small
 * scanner of tags (xml-scan below) does instead of a general SAX parser (saxes alone took ~57 µs a
 * row on the benchmark's sheet, the scanner ~6).
 *
 * Cells: shared strings (rich text runs joined, phonetic runs left out), inline strings, formula
 * results (cached values), booleans (TRUE/FALSE), errors (empty), numbers as typed, dates (a number
 * styled with a date format, or a `t="d"` cell) as local wall time `YYYY-MM-DD[ HH:MM]`. Cells
 * without a reference take the next column, rows without one the next row; skipped columns are
 * empty strings.
 */
export interface XlsxRow {
  number: number;
  values: string[];
}

export class XlsxError extends Error {}

export interface XlsxSheet {
  rows: AsyncGenerator<XlsxRow>;
  /** Uncompressed bytes of the worksheet: what `bytesRead` counts up to. */
  totalBytes: number;
  bytesRead(): number;
  close(): void;
}

export async function openXlsx(file: string): Promise<XlsxSheet> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  try {
    const entries = new Map<string, Entry>();
    for await (const entry of zip.eachEntry())
      entries.set(entry.fileName.replace(/\\/g, '/').toLowerCase(), entry);
    const text = async (name: string): Promise<string | null> => {
      const entry = entries.get(name.toLowerCase());
      if (!entry) return null;
      const chunks: string[] = [];
      for await (const chunk of utf8(await zip.openReadStreamPromise(entry))) chunks.push(chunk);
      return chunks.join('');
    };

    const rootRels = relationships((await text('_rels/.rels')) ?? '', '');
    const workbookPath =
      rootRels.find((r) => r.type.endsWith('/officeDocument'))?.target ?? 'xl/workbook.xml';
    const workbook = await text(workbookPath);
    if (workbook === null) throw new XlsxError('文件中没有工作簿（xl/workbook.xml）');
    const base = workbookPath.includes('/') ? workbookPath.slice(0, workbookPath.lastIndexOf('/') + 1) : '';
    const rels = relationships(
      (await text(`${base}_rels/${workbookPath.slice(base.length)}.rels`)) ?? '',
      base,
    );
    const target = (type: string, fallback: string) =>
      rels.find((r) => r.type.endsWith(`/${type}`))?.target ?? `${base}${fallback}`;

    const date1904 = /<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"/.test(workbook);
    const firstSheet = /<(?:\w+:)?sheet\b([^>]*)>/.exec(workbook);
    const sheetRel = firstSheet ? attr(firstSheet[1]!, 'r:id') : null;
    const sheetPath =
      (sheetRel !== null ? rels.find((r) => r.id === sheetRel)?.target : undefined) ??
      `${base}worksheets/sheet1.xml`;
    const sheetEntry = entries.get(sheetPath.toLowerCase());
    if (!sheetEntry) throw new XlsxError(`文件中没有工作表（${sheetPath}）`);

    const styles = await text(target('styles', 'styles.xml'));
    const dateStyles = styles === null ? [] : dateStyleIndexes(styles);
    const sharedEntry = entries.get(target('sharedStrings', 'sharedStrings.xml').toLowerCase());
    const shared = sharedEntry
      ? await readSharedStrings(utf8(await zip.openReadStreamPromise(sharedEntry)))
      : [];

    let read = 0;
    let stream: Readable | null = null;
    async function* rows(): AsyncGenerator<XlsxRow> {
      stream = await zip.openReadStreamPromise(sheetEntry!);
      stream.on('data', (chunk: Buffer | string) => {
        read += Buffer.byteLength(chunk);
      });
      try {
        yield* sheetRows(utf8(stream), shared, dateStyles, date1904);
      } finally {
        stream.destroy();
        zip.close();
      }
    }
    return {
      rows: rows(),
      totalBytes: sheetEntry.uncompressedSize,
      bytesRead: () => read,
      close: () => {
        (stream as Readable | null)?.destroy();
        zip.close();
      },
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

/** An entry's inflated bytes as UTF-8 text chunks (a character split between chunks kept whole). */
async function* utf8(stream: Readable): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of stream) {
    let text = decoder.decode(chunk as Buffer, { stream: true });
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

interface Relationship {
  id: string;
  type: string;
  target: string;
}

/** A `.rels` part; targets resolved against `base` (the folder of the part they belong to). */
function relationships(xml: string, base: string): Relationship[] {
  const found: Relationship[] = [];
  for (const match of xml.matchAll(/<(?:\w+:)?Relationship\b([^>]*)>/g)) {
    const attrs = match[1]!;
    const target = attr(attrs, 'Target');
    if (target === null || attr(attrs, 'TargetMode') === 'External') continue;
    found.push({
      id: attr(attrs, 'Id') ?? '',
      type: attr(attrs, 'Type') ?? '',
      target: resolvePath(base, target),
    });
  }
  return found;
}

function resolvePath(base: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : base + target).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/');
}

/** An attribute's decoded value from a tag's attribute text, or null. */
export function attr(attrs: string, name: string): string | null {
  let from = 0;
  for (;;) {
    const at = attrs.indexOf(name, from);
    if (at < 0) return null;
    from = at + name.length;
    const before = at === 0 ? ' ' : attrs[at - 1]!;
    if (before !== ' ' && before !== '\t' && before !== '\n' && before !== '\r') continue;
    let i = from;
    while (attrs[i] === ' ') i++;
    if (attrs[i] !== '=') continue;
    i++;
    while (attrs[i] === ' ') i++;
    const quote = attrs[i];
    if (quote !== '"' && quote !== "'") continue;
    const end = attrs.indexOf(quote, i + 1);
    if (end < 0) return null;
    return decodeXml(attrs.slice(i + 1, end));
  }
}

const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML character references, then Excel's `_xHHHH_` escapes (a carriage return is `_x000D_`). */
export function decodeXml(raw: string): string {
  let text = raw;
  if (text.includes('&')) {
    text = text.replace(
      ENTITY,
      (whole, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
        if (name) return NAMED[name]!;
        const code = dec !== undefined ? Number(dec) : Number.parseInt(hex!, 16);
        return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      },
    );
  }
  if (text.includes('_x')) {
    text = text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  }
  return text;
}

/** What the scanner reports: a start tag (name without prefix, raw attributes), an end tag, text. */
interface XmlHandler {
  open(name: string, attrs: string, selfClosing: boolean): void;
  close(name: string): void;
  /** Text between two tags, whole (character references not yet decoded unless `cdata`). */
  text(raw: string, cdata: boolean): void;
}

/**
 * Scans XML text as it arrives, chunk by chunk: tags, text, CDATA; comments, processing instructions
 * and the declaration skipped. Not a validating parser: it trusts the tags to be well formed, as the
 * spreadsheet writers make them. A `>` inside a quoted attribute value is handled. Text is handed
 * over only once the tag after it has arrived, so a character reference is never cut in two.
 */
export class XmlScanner {
  private buf = '';
  stopped = false;

  constructor(private readonly handler: XmlHandler) {}

  write(chunk: string): void {
    const buf = this.buf === '' ? chunk : this.buf + chunk;
    const handler = this.handler;
    const length = buf.length;
    let i = 0;
    while (i < length && !this.stopped) {
      const lt = buf.indexOf('<', i);
      if (lt < 0) break;
      const next = buf.charCodeAt(lt + 1);
      if (Number.isNaN(next)) break; // the tag starts at the very end
      if (next === 0x21 /* ! */ || next === 0x3f /* ? */) {
        let endMark = '>';
        let cdata = false;
        if (lt + 9 > length) break;
        if (buf.startsWith('<![CDATA[', lt)) {
          endMark = ']]>';
          cdata = true;
        } else if (buf.startsWith('<!--', lt)) endMark = '-->';
        else if (next === 0x3f) endMark = '?>';
        const end = buf.indexOf(endMark, lt + 2);
        if (end < 0) break;
        if (lt > i) handler.text(buf.slice(i, lt), false);
        if (cdata) handler.text(buf.slice(lt + 9, end), true);
        i = end + endMark.length;
        continue;
      }
      let gt = buf.indexOf('>', lt + 1);
      if (gt < 0) break;
      // The name ends at white space, `/` or `>`; attributes follow.
      let k = lt + 1;
      if (next === 0x2f /* / */) k++;
      const nameStart = k;
      let colon = -1;
      for (; k < gt; k++) {
        const c = buf.charCodeAt(k);
        if (c === 0x20 || c === 0x2f || c === 0x09 || c === 0x0a || c === 0x0d) break;
        if (c === 0x3a /* : */) colon = k;
      }
      const name = buf.slice(colon < 0 ? nameStart : colon + 1, k);
      if (next === 0x2f) {
        if (lt > i) handler.text(buf.slice(i, lt), false);
        handler.close(name);
        i = gt + 1;
        continue;
      }
      // A quote left open means the `>` is inside an attribute value: look further.
      let quote = k < gt ? openQuote(buf, k, gt) : 0;
      while (quote !== 0) {
        const close = buf.indexOf(quote === 0x22 ? '"' : "'", gt);
        gt = close < 0 ? -1 : buf.indexOf('>', close + 1);
        if (gt < 0) break;
        quote = openQuote(buf, close + 1, gt);
      }
      if (gt < 0) break;
      if (lt > i) handler.text(buf.slice(i, lt), false);
      const selfClosing = buf.charCodeAt(gt - 1) === 0x2f;
      const attrsEnd = selfClosing ? gt - 1 : gt;
      handler.open(name, k < attrsEnd ? buf.slice(k, attrsEnd) : '', selfClosing);
      if (selfClosing) handler.close(name);
      i = gt + 1;
    }
    this.buf = i >= length ? '' : buf.slice(i);
  }
}

async function scanAll(chunks: AsyncIterable<string>, handler: XmlHandler): Promise<void> {
  const scanner = new XmlScanner(handler);
  for await (const chunk of chunks) scanner.write(chunk);
}

/** The quote (its char code) a tag's text leaves open between `from` and `to`, or 0. */
function openQuote(buf: string, from: number, to: number): number {
  let quote = 0;
  for (let k = from; k < to; k++) {
    const c = buf.charCodeAt(k);
    if (quote === 0) {
      if (c === 0x22 || c === 0x27) quote = c;
    } else if (c === quote) quote = 0;
  }
  return quote;
}

/** The shared string table: each `<si>` as its text (rich text runs joined, phonetic runs left out). */
async function readSharedStrings(chunks: AsyncIterable<string>): Promise<string[]> {
  const strings: string[] = [];
  let current = '';
  let capture = false;
  let phonetic = 0;
  let raw = '';
  await scanAll(chunks, {
    open(name) {
      if (name === 'si') current = '';
      else if (name === 't' && phonetic === 0) {
        capture = true;
        raw = '';
      } else if (name === 'rPh') phonetic++;
    },
    close(name) {
      if (name === 't' && capture) {
        current += raw;
        capture = false;
      } else if (name === 'rPh') phonetic--;
      else if (name === 'si') strings.push(current);
    },
    text(piece, cdata) {
      if (capture) raw += cdata ? piece : decodeXml(piece);
    },
  });
  return strings;
}

/**
 * Which cell styles (`s`, an index into `cellXfs`) format a number as a date or time: the built-in
 * date formats (14–22, 45–47, and the East Asian ones 27–36, 50–58) and custom formats with date
 * letters outside quotes and brackets (as exceljs decides).
 */
export function dateStyleIndexes(styles: string): boolean[] {
  const custom = new Map<number, string>();
  for (const match of styles.matchAll(/<(?:\w+:)?numFmt\b([^>]*)>/g)) {
    const id = attr(match[1]!, 'numFmtId');
    const code = attr(match[1]!, 'formatCode');
    if (id !== null && code !== null) custom.set(Number(id), code);
  }
  const isDate = (id: number): boolean => {
    const code = custom.get(id);
    if (code !== undefined) {
      return /[ymdhsb]/i.test(
        code
          .replace(/\[[^\]]*]/g, '')
          .replace(/"[^"]*"/g, '')
          .replace(/\\./g, ''),
      );
    }
    return (
      (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58)
    );
  };
  const section = /<(?:\w+:)?cellXfs\b[^>]*>([\s\S]*?)<\/(?:\w+:)?cellXfs>/.exec(styles);
  if (!section) return [];
  const result: boolean[] = [];
  for (const match of section[1]!.matchAll(/<(?:\w+:)?xf\b([^>]*)>/g)) {
    result.push(isDate(Number(attr(match[1]!, 'numFmtId') ?? 0)));
  }
  return result;
}

/** `B12` → 1 (zero-based column); -1 when the reference has no letters. */
export function columnOf(ref: string): number {
  let col = 0;
  let k = 0;
  for (; k < ref.length; k++) {
    const c = ref.charCodeAt(k);
    if (c >= 0x41 && c <= 0x5a) col = col * 26 + (c - 0x40);
    else if (c >= 0x61 && c <= 0x7a) col = col * 26 + (c - 0x60);
    else break;
  }
  return k === 0 ? -1 : col - 1;
}

/** Excel's serial day number (1900 or 1904 system) as `YYYY-MM-DD` or `YYYY-MM-DD HH:MM`. */
export function serialDateText(serial: number, date1904: boolean): string {
  const ms = Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000);
  return dateText(new Date(ms));
}

/** Excel stores wall-clock time without a zone: the UTC fields of the date are what was typed. */
export function dateText(date: Date): string {
  if (Number.isNaN(date.getTime())) return '';
  const iso = date.toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 16);
  return time === '00:00' ? day : `${day} ${time}`;
}

async function* sheetRows(
  chunks: AsyncIterable<string>,
  shared: readonly string[],
  dateStyles: readonly boolean[],
  date1904: boolean,
): AsyncGenerator<XlsxRow> {
  let ready: XlsxRow[] = [];
  let done = false;
  let inData = false;
  let row: XlsxRow | null = null;
  let lastRow = 0;
  let col = -1;
  let type = '';
  let style = -1;
  // What is being read: 0 nothing, 1 <v>, 2 <t> of an inline string.
  let capture = 0;
  let raw = '';
  let value: string | null = null;
  let inline: string | null = null;
  let phonetic = 0;

  const cellText = (): string => {
    switch (type) {
      case 's': {
        if (value === null) return '';
        return shared[Number(value)] ?? '';
      }
      case 'inlineStr':
        return inline ?? (value === null ? '' : decodeXml(value));
      case 'str':
        return value === null ? '' : decodeXml(value);
      case 'b':
        return value === null || value.trim() === '' ? '' : Number(value) !== 0 ? 'TRUE' : 'FALSE';
      case 'e':
        return '';
      case 'd':
        return value === null
          ? ''
          : dateText(new Date(`${value.trim()}${/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? '' : 'Z'}`));
      default: {
        if (value === null || value.trim() === '') return '';
        const number = Number.parseFloat(value);
        if (!Number.isFinite(number)) return '';
        return style >= 0 && dateStyles[style] === true ? serialDateText(number, date1904) : String(number);
      }
    }
  };

  const handler: XmlHandler = {
    open(name, attrs) {
      switch (name) {
        case 'sheetData':
          inData = true;
          return;
        case 'row': {
          if (!inData) return;
          const r = attr(attrs, 'r');
          lastRow = r === null ? lastRow + 1 : Number.parseInt(r, 10);
          row = { number: lastRow, values: [] };
          col = -1;
          return;
        }
        case 'c': {
          if (row === null) return;
          // r, t and s in one pass (their values never hold character references).
          let ref = -1;
          type = '';
          style = -1;
          let k = 0;
          for (;;) {
            const eq = attrs.indexOf('=', k);
            if (eq < 0) break;
            let q = eq + 1;
            while (attrs.charCodeAt(q) === 0x20) q++;
            const end = attrs.indexOf(attrs[q]!, q + 1);
            if (end < 0) break;
            const key = attrs.slice(k, eq).trim();
            if (key === 'r') ref = columnOf(attrs.slice(q + 1, end));
            else if (key === 't') type = attrs.slice(q + 1, end);
            else if (key === 's') style = Number.parseInt(attrs.slice(q + 1, end), 10);
            k = end + 1;
          }
          col = ref >= 0 ? ref : col + 1;
          value = null;
          inline = null;
          return;
        }
        case 'v':
          if (row !== null) {
            capture = 1;
            raw = '';
          }
          return;
        case 't':
          if (row !== null && phonetic === 0) {
            capture = 2;
            raw = '';
          }
          return;
        case 'rPh':
          phonetic++;
          return;
      }
    },
    close(name) {
      switch (name) {
        case 'v':
          if (capture === 1) value = raw;
          capture = 0;
          return;
        case 't':
          if (capture === 2) inline = (inline ?? '') + decodeXml(raw);
          capture = 0;
          return;
        case 'rPh':
          phonetic--;
          return;
        case 'c':
          if (row !== null) {
            const text = cellText();
            const values = row.values;
            while (values.length < col) values.push('');
            values[col] = text;
          }
          return;
        case 'row':
          if (row !== null) ready.push(row);
          row = null;
          return;
        case 'sheetData':
          inData = false;
          done = true;
          scanner.stopped = true;
          return;
      }
    },
    text(piece, cdata) {
      // Decoded when the cell's type says it is text (a number or string index needs none).
      if (capture !== 0) raw += cdata ? piece.replace(/&/g, '&amp;').replace(/</g, '&lt;') : piece;
    },
  };

  const scanner = new XmlScanner(handler);
  for await (const chunk of chunks) {
    scanner.write(chunk);
    if (ready.length > 0) {
      const out = ready;
      ready = [];
      yield* out;
    }
    if (done) return;
  }
  if (row !== null) yield row;
}
