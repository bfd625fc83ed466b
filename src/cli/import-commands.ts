import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type Column, type ColumnMapping, parseColumnMapping } from '../import/column-map';
import { exportLeads } from '../import/export-leads';
import { type ImportSummary, importLeads } from '../import/import-leads';
import { createProgress, type ProgressStream } from '../import/progress';
import { ENCODING_NAMES, type TextEncoding } from '../import/text-encoding';
import { leadDepsOf } from '../runtime';
import type { CommandIo } from './key-commands';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const ENCODING_LABELS: Record<TextEncoding, string> = {
  utf8: 'UTF-8',
  gb18030: 'GBK/GB18030',
  utf16le: 'UTF-16LE',
  utf16be: 'UTF-16BE',
};
const DECIDED_BY = { bom: '按 BOM 识别', content: '按内容识别', option: '按 --encoding' };

function describeColumn(column: Column): string {
  const t = column.target;
  if (t.kind === 'field') return `${column.header} → ${t.field}`;
  if (t.kind === 'custom') return `${column.header} → custom.${t.key}`;
  if (t.kind === 'customJson') return `${column.header} → custom`;
  return column.header;
}

/** The summary printed after an import (stdout; the progress bar is on stderr). */
export function describeImport(summary: ImportSummary): string[] {
  const format =
    summary.format === 'xlsx'
      ? 'XLSX'
      : `CSV，${ENCODING_LABELS[summary.encoding!.name]}（${DECIDED_BY[summary.encoding!.decidedBy]}）`;
  const lines = [
    `${summary.dryRun ? '试运行完成（未写入数据库）' : '导入完成'}：${path.basename(summary.file)}（${format}）→ 来源 ${summary.sourceId}`,
    `  数据行 ${fmt(summary.rows)}：新建 ${fmt(summary.created)}，合并（重复）${fmt(summary.merged)}，拒绝 ${fmt(summary.rejected)}` +
      (summary.rejectsFile ? `（见 ${summary.rejectsFile}）` : ''),
    `  耗时 ${(summary.elapsedMs / 1000).toFixed(1)} 秒，${fmt(summary.rowsPerSecond)} 行/秒`,
  ];
  const mapped = summary.columns.filter((c) => c.target.kind === 'field' || c.target.kind === 'customJson');
  lines.push(`  识别的列：${mapped.map(describeColumn).join('，') || '无'}`);
  const toCustom = summary.columns.filter((c) => c.reason === 'unknown' || c.reason === 'duplicate');
  if (toCustom.length > 0) {
    lines.push(`  未识别的列（存入自定义字段 custom）：${toCustom.map(describeColumn).join('，')}`);
  }
  const ignored = summary.columns.filter((c) => c.target.kind === 'ignore' && c.reason !== 'no_header');
  if (ignored.length > 0) lines.push(`  忽略的列：${ignored.map((c) => c.header).join('，')}`);
  if (summary.unusedMapping.length > 0) {
    lines.push(`  映射文件中这些列在文件里不存在：${summary.unusedMapping.join('，')}`);
  }
  if (summary.skippedAbove > 0)
    lines.push(`  表头在第 ${summary.headerRow} 行，其上 ${summary.skippedAbove} 行已跳过`);
  if (summary.emptyRows > 0) lines.push(`  空行 ${fmt(summary.emptyRows)} 行已跳过`);
  if (summary.warned > 0) lines.push(`  ${fmt(summary.warned)} 行的预算或公司规模无法识别，已按原文保存`);
  if (summary.undecodable > 0) {
    lines.push(
      `  警告：${fmt(summary.undecodable)} 行含无法解码的字符，编码可能识别错误，可用 --encoding 指定`,
    );
  }
  if (summary.rejected > 0 && !summary.dryRun) {
    lines.push(`  被拒行也已存入 rejected_payloads，可用 leadrelay intake list / replay 处理`);
  }
  return lines;
}

/**
 * `leadrelay import FILE` and `leadrelay export --out FILE`. The progress bar goes to `err`
 * (stderr by default), the summary to `out`.
 */
export function registerImportCommands(program: Command, io: CommandIo & { err?: ProgressStream }): void {
  program
    .command('import <file>')
    .description(
      '从 CSV / XLSX 导入线索：与 POST /api/v1/leads 相同的校验、去重合并、评分和分配 / import leads from a CSV or XLSX file',
    )
    .requiredOption('--source <id>', '来源编号（组织配置中的 sources[].id）/ a configured source id')
    .option('--map <file>', '列映射 JSON：{"列名": "字段名" | "custom.键名" | null} / column mapping')
    .option('--dry-run', '只校验和统计，不写入数据库 / validate and report, write nothing')
    .option('--encoding <name>', 'CSV 编码 utf8 | gbk | gb18030 | utf16le（默认自动识别）')
    .option('--rejects <file>', '被拒行 CSV 的路径（默认在原文件旁）/ where refused rows go')
    .option('--batch-size <n>', '每个事务的行数 / rows per transaction', '1000')
    .addHelpText(
      'after',
      '\n导入的线索与 API 提交的线索一样，会在服务运行时自动分配并推送卡片。\n' +
        '未识别的列存入自定义字段 custom；被拒的行写入 rejects CSV，并存入 rejected_payloads。',
    )
    .action(
      (
        file: string,
        options: {
          source: string;
          map?: string;
          dryRun?: boolean;
          encoding?: string;
          rejects?: string;
          batchSize: string;
        },
      ) =>
        io.withRuntime(async (runtime) => {
          if (!runtime.org.sources.some((s) => s.id === options.source)) {
            throw new Error(
              `来源 "${options.source}" 不在组织配置中；可用的来源：${runtime.org.sources.map((s) => s.id).join(', ')}`,
            );
          }
          let encoding: TextEncoding | undefined;
          if (options.encoding !== undefined) {
            encoding = ENCODING_NAMES[options.encoding.toLowerCase()];
            if (!encoding) {
              throw new Error(
                `不支持的编码 "${options.encoding}"；可用：${Object.keys(ENCODING_NAMES).join(', ')}`,
              );
            }
          }
          const batchSize = Number(options.batchSize);
          if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
            throw new Error('--batch-size 应为 1–5000 的整数');
          }
          const summary = await importLeads(leadDepsOf(runtime), {
            file,
            sourceId: options.source,
            mapping: options.map ? readMapping(options.map) : undefined,
            dryRun: options.dryRun ?? false,
            encoding,
            rejectsPath: options.rejects,
            batchSize,
            progress: createProgress(io.err ?? process.stderr),
          });
          for (const line of describeImport(summary)) io.out(line);
        }, true),
    );

  program
    .command('export')
    .description(
      '导出线索为 XLSX（含完整手机号、邮箱、微信号，仅供管理员）/ export leads as XLSX (full phone numbers)',
    )
    .requiredOption('--out <file>', '输出的 .xlsx 文件 / output file')
    .option('--team <id>', '只导出该团队的线索 / one team only')
    .option('--from <date>', '创建日期起，含当天，YYYY-MM-DD（组织时区）/ created on or after')
    .option('--to <date>', '创建日期止，含当天，YYYY-MM-DD（组织时区）/ created on or before')
    .addHelpText(
      'after',
      '\n注意：导出文件包含完整的手机号、邮箱和微信号（管理员导出，不做脱敏），请妥善保管。\n' +
        'Note: the file holds full phone numbers, e-mails and WeChat ids (an admin export, not masked).',
    )
    .action((options: { out: string; team?: string; from?: string; to?: string }) =>
      io.withRuntime(async (runtime) => {
        if (options.team && !runtime.directory.team(options.team)) {
          throw new Error(
            `团队 "${options.team}" 不在组织配置中；可用的团队：${runtime.org.teams.map((t) => t.id).join(', ')}`,
          );
        }
        const result = await exportLeads(
          { db: runtime.database.db, directory: runtime.directory },
          {
            out: options.out,
            teamId: options.team,
            from: options.from,
            to: options.to,
            timeZone: runtime.org.timezone,
          },
        );
        io.out(`已导出 ${fmt(result.count)} 条线索 → ${result.path}（含完整手机号，请妥善保管）`);
      }),
    );
}

function readMapping(file: string): ColumnMapping {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8').replace(/^\ufeff/, ''));
  } catch (error) {
    throw new Error(`无法读取映射文件 ${file}：${(error as Error).message}`);
  }
  return parseColumnMapping(json);
}
