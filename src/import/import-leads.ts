import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createIdAllocator } from '../db/id-allocator';
import type { IntakeDeps, ManyOutcome } from '../leads/intake';
import { type InFlightBatch, type PreparedSubmission, startCommit, startDryRun } from '../leads/intake-many';
import { scoreSubmission } from '../leads/intake-records';
import { toLocal } from '../routing/local-time';
import type { Column, ColumnMapping } from './column-map';
import { limitHeapGrowth } from './heap-limit';
import { type Progress, silentProgress } from './progress';
import { type CheckedRow, type ReadOptions, readBatches } from './read-batches';
import { readBatchesInWorker } from './read-worker';
import { createRejectsFile, describeIssues } from './rejects-file';
import type { TextEncoding } from './text-encoding';

/**
 * `leadrelay import`: a spreadsheet streamed row by row into the intake action, many rows per
 * transaction (`prepareMany` / `startCommit`: the same validation, normalisation, dedupe, scoring,
 * timeline and `lead.assign` timers as `POST /api/v1/leads`). While one batch is written the next is
 * planned, and a worker thread (read-worker.ts) reads and validates the ones after it, so the file,
 * both cores and the database work at the same time. Refused rows go to a rejects CSV and, like refused API payloads, to
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
  /** Read and validate in a worker thread, alongside the writes (default true). */
  worker?: boolean;
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

  const readOptions: ReadOptions = {
    file,
    ...(options.encoding ? { encoding: options.encoding } : {}),
    ...(options.mapping ? { mapping: options.mapping } : {}),
    sourceId: options.sourceId,
    runId,
    fileName,
    batchSize,
    maxBatchChars: MAX_BATCH_CHARS,
  };
  const reader = (options.worker ?? true) ? readBatchesInWorker(readOptions) : readBatches(readOptions);
  try {
    const first = await reader.next();
    if (first.done || first.value.type !== 'opened')
      throw new Error('the import reader ended before the header');
    const opened = first.value;
    const { columns } = opened;
    const rejects = createRejectsFile(
      options.rejectsPath ?? defaultRejectsPath(file, now, deps.org.timezone),
      opened.header,
    );
    const summary: ImportSummary = {
      file,
      format: opened.format,
      encoding: opened.encoding,
      sourceId: options.sourceId,
      dryRun: dryRun !== null,
      runId,
      headerRow: opened.headerRow,
      columns,
      unusedMapping: opened.unusedMapping,
      rows: 0,
      created: 0,
      merged: 0,
      rejected: 0,
      warned: 0,
      emptyRows: 0,
      skippedAbove: opened.skippedAbove,
      undecodable: 0,
      rejectsFile: null,
      elapsedMs: 0,
      rowsPerSecond: 0,
    };
    let bytesRead = 0;
    const report = () =>
      progress.update({
        rows: summary.rows,
        created: summary.created,
        merged: summary.merged,
        rejected: summary.rejected,
        bytesRead,
        totalBytes: opened.totalBytes,
        elapsedMs: performance.now() - started,
      });

    const tally = (outcomes: ManyOutcome[], rows: CheckedRow[]) => {
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'rejected') {
          summary.rejected++;
          const row = rows[i]!;
          rejects.write(row.row, describeIssues(outcome.issues, columns), row.ok ? [] : row.values);
          return;
        }
        if (outcome.status === 'created') summary.created++;
        else summary.merged++;
        if (outcome.warnings.length > 0) summary.warned++;
      });
      report();
    };

    // Batches commit in file order (a later row merges into an earlier one). At most two are in
    // flight, one being written and the next being planned; the third waits here for the first,
    // while the reader checks the ones after it.
    const inFlight: { batch: InFlightBatch; rows: CheckedRow[] }[] = [];
    const settleOldest = async () => {
      const oldest = inFlight.shift();
      if (oldest) tally(await oldest.batch.outcomes, oldest.rows);
    };
    for (;;) {
      const next = await reader.next();
      if (next.done) break;
      const message = next.value;
      if (message.type !== 'batch') continue;
      summary.emptyRows += message.emptyRows;
      summary.undecodable += message.undecodable;
      summary.rows += message.rows.length;
      bytesRead = message.bytesRead;
      if (message.rows.length === 0) continue;
      if (inFlight.length >= 2) await settleOldest();
      const prepared = scoreChecked(deps, message.rows);
      const batch = startCommit(deps, prepared, { after: inFlight.at(-1)?.batch ?? null, dryRun });
      inFlight.push({ batch, rows: message.rows });
    }
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
    await reader.return(undefined);
  }
}

/** Checked rows as `prepareMany` would have prepared them: scored by the import's clock, now. */
function scoreChecked(deps: Pick<IntakeDeps, 'org' | 'clock'>, rows: CheckedRow[]): PreparedSubmission[] {
  const now = deps.clock.now();
  return rows.map((row): PreparedSubmission => {
    if (!row.ok) {
      return { ok: false, request: row.request, code: row.code, message: row.message, issues: row.issues };
    }
    const { request, lead, warnings, keys } = row;
    const fit = scoreSubmission(lead, request.sourceId, deps.org.scoring, now);
    return { ok: true, request, lead, warnings, keys, fit };
  });
}

function defaultRejectsPath(file: string, now: Date, timeZone: string): string {
  const l = toLocal(timeZone, now);
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${l.year}${two(l.month)}${two(l.day)}-${two(l.hour)}${two(l.minute)}${two(l.second)}`;
  const { dir, name } = path.parse(file);
  return path.join(dir, `${name}.rejects-${stamp}.csv`);
}
