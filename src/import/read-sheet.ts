import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { openXlsx } from './read-xlsx';
import { decodeText, type TextEncoding } from './text-encoding';

/**
 * A spreadsheet read row by row, never whole: CSV through csv-parse (after the encoding is
 * detected), XLSX through read-xlsx.ts (first worksheet only). Every cell becomes text, as the
 * intake API receives text from a form.
 */
export interface SheetRow {
  /** The row number a person sees in Excel (CSV: the record number, header included). */
  number: number;
  values: string[];
}

export interface Sheet {
  format: 'csv' | 'xlsx';
  /** CSV only: the encoding and how it was decided, e.g. `gb18030` / `content`. */
  encoding: { name: TextEncoding; decidedBy: 'bom' | 'content' | 'option' } | null;
  delimiter: string | null;
  rows: AsyncIterable<SheetRow>;
  /** Bytes read so far (for XLSX: of the inflated worksheet), for the progress bar. */
  bytesRead(): number;
  totalBytes: number;
  close(): void;
}

export class SheetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SheetError';
  }
}

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

export async function openSheet(file: string, options: { encoding?: TextEncoding } = {}): Promise<Sheet> {
  const size = await stat(file).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      throw new SheetError(
        error.code === 'ENOENT' ? `文件不存在：${file}` : `无法读取 ${file}：${error.message}`,
      );
    },
  );
  const magic = Buffer.alloc(4);
  const handle = await open(file, 'r');
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (magic.equals(OLE)) {
    throw new SheetError(
      '不支持 .xls（Excel 97-2003）格式：请在 Excel 中另存为 .xlsx 或 “CSV UTF-8” 后再导入',
    );
  }
  if (magic.equals(ZIP)) {
    const xlsx = await openXlsx(file).catch((error: Error) => {
      throw new SheetError(`无法读取 XLSX 文件：${error.message}`);
    });
    return {
      format: 'xlsx',
      encoding: null,
      delimiter: null,
      rows: xlsxRows(xlsx.rows),
      totalBytes: xlsx.totalBytes,
      bytesRead: xlsx.bytesRead,
      close: xlsx.close,
    };
  }
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  const base = { totalBytes: size, bytesRead: () => input.bytesRead, close: () => input.destroy() };
  const decoded = await decodeText(input, options.encoding);
  const delimiter = guessDelimiter(decoded.head);
  return {
    ...base,
    format: 'csv',
    encoding: { name: decoded.encoding, decidedBy: decoded.decidedBy },
    delimiter,
    rows: csvRows(decoded.text, delimiter),
  };
}

/** The most frequent of `,`, tab and `;` on the first line (Excel's "Unicode 文本" is tab-separated). */
export function guessDelimiter(head: string): string {
  const firstLine = head.split(/\r?\n/, 1)[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const candidate of [',', '\t', ';']) {
    const count = firstLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

async function* csvRows(text: NodeJS.ReadableStream, delimiter: string): AsyncGenerator<SheetRow> {
  const parser = parse({
    delimiter,
    // Rows shorter or longer than the header are common in hand-edited files: keep them.
    relax_column_count: true,
    relax_quotes: true,
    // A blank line is still a row number in Excel; the importer skips empty rows itself.
    skip_empty_lines: false,
  });
  text.on('error', (error: Error) => parser.destroy(error));
  text.pipe(parser);
  let number = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      number++;
      yield { number, values: record };
    }
  } catch (error) {
    if (error instanceof SheetError) throw error;
    throw new SheetError(`CSV 格式错误（第 ${number + 1} 行附近）：${(error as Error).message}`);
  }
}

async function* xlsxRows(rows: AsyncGenerator<SheetRow>): AsyncGenerator<SheetRow> {
  try {
    yield* rows;
  } catch (error) {
    throw new SheetError(`无法读取 XLSX 文件：${(error as Error).message}`);
  }
}
