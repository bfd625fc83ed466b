import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { LEAD_FIELD_LABELS } from '../leads/intake-schema';
import type { FieldIssue } from '../lib/errors';
import type { Column } from './column-map';

/**
 * The rows an import refused, as a CSV the admin opens in Excel, fixes and imports again: 行号 (the
 * row in the original file), 原因 (in Chinese, naming the column), then the original columns with the
 * original values. UTF-8 with a BOM, so Excel shows the Chinese. Created on the first refused row.
 */
export interface RejectsFile {
  path: string;
  count: number;
  write(rowNumber: number, reason: string, values: readonly string[]): void;
  close(): Promise<void>;
}

export function createRejectsFile(path: string, headers: readonly string[]): RejectsFile {
  let out: WriteStream | null = null;
  const file: RejectsFile = {
    path,
    count: 0,
    write(rowNumber, reason, values) {
      if (!out) {
        out = createWriteStream(path);
        out.write(`\ufeff${csvLine(['行号', '原因', ...headers])}`);
      }
      file.count++;
      const cells = headers.map((_, i) => values[i] ?? '');
      // Cells beyond the header row are kept too, so nothing of the row is lost.
      for (let i = headers.length; i < values.length; i++) cells.push(values[i]!);
      out.write(csvLine([String(rowNumber), reason, ...cells]));
    },
    async close() {
      if (!out) return;
      const stream = out;
      out = null;
      stream.end();
      await once(stream, 'finish');
    },
  };
  return file;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Why a row was refused, in Chinese: each issue named by the column it came from (`手机：…`), or the
 * field's label when no single column holds it.
 */
export function describeIssues(issues: readonly FieldIssue[], columns: readonly Column[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.split('.')[0] ?? '';
      const column = columns.find((c) => c.target.kind === 'field' && c.target.field === field);
      const label = column?.header ?? LEAD_FIELD_LABELS[field] ?? issue.path;
      return label ? `${label}：${issue.message}` : issue.message;
    })
    .join('；');
}
