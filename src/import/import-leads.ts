import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createIdAllocator } from '../db/id-allocator';
import type { IntakeDeps, ManyOutcome, ManyRequest } from '../leads/intake';
import { type InFlightBatch, prepareMany, startCommit, startDryRun } from '../leads/intake-many';
import { toLocal } from '../routing/local-time';
import { type Column, type ColumnMapping, looksLikeHeader, planColumns, rowToBody } from './column-map';
import { limitHeapGrowth } from './heap-limit';
import { type Progress, silentProgress } from './progress';
import { openSheet, SheetError, type SheetRow } from './read-sheet';
import { createRejectsFile, describeIssues } from './rejects-file';
import type { TextEncoding } from './text-encoding';

/**
 * `leadrelay import`: a spreadsheet streamed row by row into the intake action, many rows per
 * transaction (`prepareMany` / `startCommit`: the same validation, normalisation, dedupe, scoring,
 * timeline and `lead.assign` timers as `POST /api/v1/leads`). While one batch is written the next is
 * planned and the one after is read and validated, so the file, this process and the database work
 * at the same time. Refused rows go to a rejects CSV and, like refused API payloads, to
 * `rejected_payloads` (as the JSON body the row became, so `leadrelay intake replay` works on them).
 */
export interface ImportOptions {
  file: string;
  sourceId: string;
  mapping?: ColumnMapping;
  dryRun?: boolean;
  /** Forces the CSV encoding instead of detecting it. */
  encoding?: TextEncoding;
  /** Where refused rows go; default `<file>.rejects-<local time>.csv` beside the file. */
  rejectsPath?: string;
  /** Rows per transaction (default 1000; fewer when rows are long). */
  batchSize?: number;
  progress?: Progress;
}

export interface ImportSummary {
  file: string;
  format: 'csv' | 'xlsx';
  encoding: { name: TextEncoding; decidedBy: 'bom' | 'content' | 'option' } | null;
  sourceId: string;
  dryRun: boolean;
  /** Tags this run's refused rows in `rejected_payloads.request_id` (`import:<runId>:<row>`). */
  runId: string;
  headerRow: number;
  columns: Column[];
  unusedMapping: string[];
  /** Data rows read (not counting empty ones). */
  rows: number;
  created: number;
  merged: number;
  rejected: number;
  /** Rows imported with a warning (an unreadable budget or company size kept as text). */
  warned: number;
  emptyRows: number;
  /** Non-empty rows above the header row (a title line). */
  skippedAbove: number;
  /** Rows with characters that could not be decoded (U+FFFD): a wrongly guessed encoding. */
  undecodable: number;
  rejectsFile: string | null;
  elapsedMs: number;
  rowsPerSecond: number;
}

const DEFAULT_BATCH = 1000;
/** Characters per batch: keeps a statement well under max_allowed_packet with long `need` texts. */
const MAX_BATCH_CHARS = 2_000_000;
/** How far the heap may grow past what the last full collection kept (heap-limit.ts). */
const HEAP_GROWTH_PERCENT = 50;
/** Rows looked at for the header (a title row or two may sit above it). */
const HEADER_SEARCH_ROWS = 10;

interface RowMeta {
  number: number;
  values: string[];
}

export async function importLeads(intakeDeps: IntakeDeps, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  limitHeapGrowth(HEAP_GROWTH_PERCENT);
  const progress = options.progress ?? silentProgress;
  const dryRun = options.dryRun ? startDryRun() : null;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  // Lead ids a batch at a time: one id_blocks round trip per batch instead of one per 100 leads.
  const deps = { ...intakeDeps, leadIds: createIdAllocator(intakeDeps.batchPool, 'leads', batchSize) };
  const now = deps.clock.now();
  const runId = `${now.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
  const file = path.resolve(options.file);
  const fileName = path.basename(file);

  const sheet = await openSheet(file, { encoding: options.encoding });
  try {
    const iterator = sheet.rows[Symbol.asyncIterator]();
    const { header, before, after } = await findHeader(iterator, options.mapping);
    const { columns, unusedMapping } = planColumns(header.values, options.mapping);
    const rejects = createRejectsFile(
      options.rejectsPath ?? defaultRejectsPath(file, now, deps.org.timezone),
      header.values,
    );
    const summary: ImportSummary = {
      file,
      format: sheet.format,
      encoding: sheet.encoding,
      sourceId: options.sourceId,
      dryRun: dryRun !== null,
      runId,
      headerRow: header.number,
      columns,
      unusedMapping,
      rows: 0,
      created: 0,
      merged: 0,
      rejected: 0,
      warned: 0,
      emptyRows: 0,
      skippedAbove: before,
      undecodable: 0,
      rejectsFile: null,
      elapsedMs: 0,
      rowsPerSecond: 0,
    };
    const report = () =>
      progress.update({
        rows: summary.rows,
        created: summary.created,
        merged: summary.merged,
        rejected: summary.rejected,
        bytesRead: sheet.bytesRead(),
        // exceljs reads ahead through the zip, so bytes say nothing about the rows done: no share.
        totalBytes: sheet.format === 'xlsx' ? 0 : sheet.totalBytes,
        elapsedMs: performance.now() - started,
      });

    const tally = (outcomes: ManyOutcome[], metas: RowMeta[]) => {
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'rejected') {
          summary.rejected++;
          rejects.write(metas[i]!.number, describeIssues(outcome.issues, columns), metas[i]!.values);
          return;
        }
        if (outcome.status === 'created') summary.created++;
        else summary.merged++;
        if (outcome.warnings.length > 0) summary.warned++;
      });
      report();
    };

    // Batches commit in file order (a later row merges into an earlier one). At most two are in
    // flight, one being written and the next being planned; the third waits here for the first.
    const inFlight: { batch: InFlightBatch; metas: RowMeta[] }[] = [];
    const settleOldest = async () => {
      const oldest = inFlight.shift();
      if (oldest) tally(await oldest.batch.outcomes, oldest.metas);
    };
    let requests: ManyRequest[] = [];
    let metas: RowMeta[] = [];
    let chars = 0;
    const flush = async () => {
      if (requests.length === 0) return;
      const batchRequests = requests;
      const batchMetas = metas;
      requests = [];
      metas = [];
      chars = 0;
      // Validated only now, so no more than three batches are held at once.
      if (inFlight.length >= 2) await settleOldest();
      const prepared = prepareMany(deps, batchRequests);
      const batch = startCommit(deps, prepared, { after: inFlight.at(-1)?.batch ?? null, dryRun });
      inFlight.push({ batch, metas: batchMetas });
    };
    const take = async (row: SheetRow) => {
      const body = rowToBody(columns, row.values);
      if (body === null) {
        summary.emptyRows++;
        return;
      }
      summary.rows++;
      if (row.values.some((v) => v.includes('\ufffd'))) summary.undecodable++;
      requests.push({
        sourceId: options.sourceId,
        body,
        requestId: `import:${runId}:${row.number}`,
        note: { import: { file: fileName, row: row.number } },
      });
      metas.push({ number: row.number, values: row.values });
      for (const v of row.values) chars += v.length;
      if (requests.length >= batchSize || chars >= MAX_BATCH_CHARS) await flush();
    };

    for (const row of after) await take(row);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      await take(next.value);
    }
    await flush();
    while (inFlight.length > 0) await settleOldest();
    await rejects.close();

    progress.finish();
    summary.rejectsFile = rejects.count > 0 ? rejects.path : null;
    summary.elapsedMs = performance.now() - started;
    summary.rowsPerSecond = summary.elapsedMs > 0 ? (summary.rows * 1000) / summary.elapsedMs : 0;
    return summary;
  } catch (error) {
    progress.finish();
    throw error;
  } finally {
    sheet.close();
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

function defaultRejectsPath(file: string, now: Date, timeZone: string): string {
  const l = toLocal(timeZone, now);
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${l.year}${two(l.month)}${two(l.day)}-${two(l.hour)}${two(l.minute)}${two(l.second)}`;
  const { dir, name } = path.parse(file);
  return path.join(dir, `${name}.rejects-${stamp}.csv`);
}
