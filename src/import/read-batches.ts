import { prepareSubmission } from '../leads/intake';
import type { ManyRequest } from '../leads/intake-many';
import { type IdentityKey, identityKeys } from '../leads/intake-records';
import type { NormalisedLead } from '../leads/types';
import { AppError, type FieldIssue } from '../lib/errors';
import { type Column, type ColumnMapping, looksLikeHeader, planColumns, rowToBody } from './column-map';
import { openSheet, SheetError, type SheetRow } from './read-sheet';
import type { TextEncoding } from './text-encoding';

/**
 * The CPU half of an import that needs no database: the file read and parsed, each row made into an
 * intake body and validated and normalised (`prepareSubmission`) with its identity keys, in batches.
 * `import-leads.ts` runs this in a worker thread (read-worker.ts) so that it overlaps with planning
 * and writing on the main thread; it runs inline too (`worker: false`).
 */
export interface ReadOptions {
  file: string;
  encoding?: TextEncoding;
  mapping?: ColumnMapping;
  sourceId: string;
  runId: string;
  fileName: string;
  batchSize: number;
  maxBatchChars: number;
}

/** A row checked: what `PreparedSubmission` holds but the score (scored on the main thread, by its clock). */
export type CheckedRow =
  | {
      ok: true;
      row: number;
      request: ManyRequest;
      lead: NormalisedLead;
      warnings: FieldIssue[];
      keys: IdentityKey[];
    }
  | {
      ok: false;
      row: number;
      request: ManyRequest;
      code: string;
      message: string;
      issues: FieldIssue[];
      /** The row as read, for the rejects file. */
      values: string[];
    };

export type ReadMessage =
  | {
      type: 'opened';
      format: 'csv' | 'xlsx';
      encoding: { name: TextEncoding; decidedBy: 'bom' | 'content' | 'option' } | null;
      headerRow: number;
      header: string[];
      columns: Column[];
      unusedMapping: string[];
      skippedAbove: number;
      totalBytes: number;
    }
  | {
      type: 'batch';
      rows: CheckedRow[];
      emptyRows: number;
      undecodable: number;
      chars: number;
      bytesRead: number;
    };

/** Rows looked at for the header (a title row or two may sit above it). */
const HEADER_SEARCH_ROWS = 10;

export async function* readBatches(options: ReadOptions): AsyncGenerator<ReadMessage> {
  const sheet = await openSheet(options.file, { encoding: options.encoding });
  try {
    const iterator = sheet.rows[Symbol.asyncIterator]();
    const { header, before, after } = await findHeader(iterator, options.mapping);
    const { columns, unusedMapping } = planColumns(header.values, options.mapping);
    yield {
      type: 'opened',
      format: sheet.format,
      encoding: sheet.encoding,
      headerRow: header.number,
      header: header.values,
      columns,
      unusedMapping,
      skippedAbove: before,
      totalBytes: sheet.totalBytes,
    };

    let batch: CheckedRow[] = [];
    let emptyRows = 0;
    let undecodable = 0;
    let chars = 0;
    const take = (row: SheetRow): boolean => {
      const body = rowToBody(columns, row.values);
      if (body === null) {
        emptyRows++;
        return false;
      }
      let rowChars = 0;
      let broken = false;
      for (const v of row.values) {
        rowChars += v.length;
        if (!broken && v.includes('\ufffd')) broken = true;
      }
      if (broken) undecodable++;
      chars += rowChars;
      const request: ManyRequest = {
        sourceId: options.sourceId,
        body,
        requestId: `import:${options.runId}:${row.number}`,
        note: { import: { file: options.fileName, row: row.number } },
      };
      batch.push(check(request, row));
      return batch.length >= options.batchSize || chars >= options.maxBatchChars;
    };
    const flush = (): ReadMessage => {
      const message: ReadMessage = {
        type: 'batch',
        rows: batch,
        emptyRows,
        undecodable,
        chars,
        bytesRead: sheet.bytesRead(),
      };
      batch = [];
      emptyRows = 0;
      undecodable = 0;
      chars = 0;
      return message;
    };

    for (const row of after) if (take(row)) yield flush();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      if (take(next.value)) yield flush();
    }
    if (batch.length > 0 || emptyRows > 0) yield flush();
  } finally {
    sheet.close();
  }
}

/** `prepareSubmission` and the identity keys, or the refusal as `prepareMany` records it. */
function check(request: ManyRequest, row: SheetRow): CheckedRow {
  try {
    const { lead, warnings } = prepareSubmission(request.body);
    return { ok: true, row: row.number, request, lead, warnings, keys: identityKeys(lead, request.sourceId) };
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 422) throw error;
    const issues = (error.details.issues as FieldIssue[] | undefined) ?? [
      { path: '', message: error.message },
    ];
    return {
      ok: false,
      row: row.number,
      request,
      code: error.code,
      message: error.message,
      issues,
      values: row.values,
    };
  }
}

function isEmpty(row: SheetRow): boolean {
  return row.values.every((v) => v.trim() === '');
}

/**
 * The header is the first row (of the first few non-empty ones) naming a known field or a mapped
 * column; without one, the first non-empty row. Returns how many rows sat above it and the rows
 * already read below it.
 */
async function findHeader(
  iterator: AsyncIterator<SheetRow>,
  mapping: ColumnMapping | undefined,
): Promise<{ header: SheetRow; before: number; after: SheetRow[] }> {
  const seen: SheetRow[] = [];
  while (seen.length < HEADER_SEARCH_ROWS) {
    const next = await iterator.next();
    if (next.done) break;
    if (isEmpty(next.value)) continue;
    seen.push(next.value);
    if (looksLikeHeader(next.value.values, mapping)) {
      return { header: next.value, before: seen.length - 1, after: [] };
    }
  }
  const [header, ...after] = seen;
  if (!header) throw new SheetError('文件中没有数据（找不到表头行）');
  return { header, before: 0, after };
}
