import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { and, asc, eq, gt, gte, lt, type SQL } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { DAY_MS, parseIsoDate } from '../calendar/civil-date';
import type { Directory } from '../config/members';
import type { Db } from '../db/client';
import { leads } from '../db/schema';
import { stageName } from '../leads/stages';
import { fromLocal, toLocal } from '../routing/local-time';

/**
 * `leadrelay export`: leads as an XLSX written row by row (exceljs's streaming WorkbookWriter, pages
 * of leads by id), so a million leads need no more memory than a thousand. Chinese headers; the
 * intake fields use the names `leadrelay import` reads, so an export can be edited and imported
 * back (the system columns 线索ID … 负责人 are ignored by import). Phone numbers, e-mails and WeChat
 * ids are in full: this is the admin's export, not a report.
 */
export interface ExportOptions {
  out: string;
  teamId?: string;
  /** Local dates in the org timezone, both inclusive (`YYYY-MM-DD`). */
  from?: string;
  to?: string;
  timeZone: string;
  pageSize?: number;
}

export const EXPORT_HEADERS = [
  '线索ID',
  '创建时间',
  '来源',
  '阶段',
  '等级',
  '评分',
  '团队',
  '负责人',
  '姓名',
  '手机号',
  '邮箱',
  '微信号',
  '公司',
  '职位',
  '省份',
  '城市',
  '行业',
  '公司规模',
  '预算（元）',
  '需求',
  '推广计划',
  '关键词',
  '落地页',
  '备注',
  '外部编号',
  '标签',
  '自定义字段',
] as const;

const WIDTHS: Partial<Record<(typeof EXPORT_HEADERS)[number], number>> = {
  创建时间: 17,
  手机号: 15,
  邮箱: 24,
  公司: 28,
  需求: 40,
  落地页: 30,
  备注: 30,
  自定义字段: 30,
};

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** The creation-time window of `--from` / `--to`: `[local midnight of from, local midnight after to)`. */
export function exportWindow(
  timeZone: string,
  from: string | undefined,
  to: string | undefined,
): { from: Date | null; to: Date | null } {
  const midnight = (text: string, flag: string, plusDays: number) => {
    const day = parseIsoDate(text);
    if (day === null) throw new ExportError(`${flag} 应为 YYYY-MM-DD 格式的日期，收到 "${text}"`);
    const d = new Date((day + plusDays) * DAY_MS);
    return fromLocal(timeZone, {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: 0,
      minute: 0,
      second: 0,
    });
  };
  const window = {
    from: from === undefined ? null : midnight(from, '--from', 0),
    to: to === undefined ? null : midnight(to, '--to', 1),
  };
  if (window.from && window.to && window.from >= window.to) {
    throw new ExportError(`--from ${from} 晚于 --to ${to}`);
  }
  return window;
}

/** Excel shows at most this many characters in a cell (custom fields as JSON can be longer). */
const EXCEL_CELL_LIMIT = 32_767;
const fitCell = (text: string | null) =>
  text !== null && text.length > EXCEL_CELL_LIMIT ? `${text.slice(0, EXCEL_CELL_LIMIT - 1)}…` : text;

/** Mainland mobiles as the 11 digits people dial; other countries in E.164. */
function phoneText(phone: string | null): string | null {
  if (phone === null) return null;
  return phone.startsWith('+86') ? phone.slice(3) : phone;
}

/** Excel keeps wall-clock time without a zone: the local time in the org timezone, as UTC fields. */
function localDate(at: Date, timeZone: string): Date {
  const l = toLocal(timeZone, at);
  return new Date(Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second));
}

export async function exportLeads(
  deps: { db: Db; directory: Directory },
  options: ExportOptions,
): Promise<{ path: string; count: number }> {
  const window = exportWindow(options.timeZone, options.from, options.to);
  const pageSize = options.pageSize ?? 2000;
  const out = path.resolve(options.out);
  if (path.extname(out).toLowerCase() !== '.xlsx') throw new ExportError('--out 应为 .xlsx 文件');
  // Written beside the target and renamed at the end: a failed export leaves no half file.
  const partial = `${out}.partial`;

  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: partial,
    useStyles: true,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('线索', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = EXPORT_HEADERS.map((header) => ({
    header,
    key: header,
    width: WIDTHS[header] ?? 12,
    ...(header === '创建时间' ? { style: { numFmt: 'yyyy-mm-dd hh:mm' } } : {}),
  }));
  sheet.getRow(1).font = { bold: true };

  let count = 0;
  try {
    let after = 0;
    for (;;) {
      const conditions: SQL[] = [gt(leads.id, after)];
      if (options.teamId) conditions.push(eq(leads.teamId, options.teamId));
      if (window.from) conditions.push(gte(leads.createdAt, window.from));
      if (window.to) conditions.push(lt(leads.createdAt, window.to));
      const page = await deps.db
        .select()
        .from(leads)
        .where(and(...conditions))
        .orderBy(asc(leads.id))
        .limit(pageSize);
      for (const lead of page) {
        const owner = lead.ownerId ?? lead.assigneeId;
        sheet
          .addRow([
            lead.id,
            localDate(lead.createdAt, options.timeZone),
            deps.directory.sourceName(lead.sourceId),
            stageName(lead.stage),
            lead.grade,
            lead.score,
            lead.teamId ? (deps.directory.team(lead.teamId)?.name ?? lead.teamId) : null,
            owner ? (deps.directory.member(owner)?.name ?? owner) : null,
            lead.name,
            phoneText(lead.phone),
            lead.email,
            lead.wechat,
            lead.company,
            lead.title,
            lead.province,
            lead.city,
            lead.industry,
            lead.companySizeText ?? lead.companySize,
            lead.budget ?? lead.budgetText,
            lead.need,
            lead.campaign,
            lead.keyword,
            lead.landingPage,
            lead.remark,
            lead.externalId,
            lead.tags.join('、') || null,
            fitCell(Object.keys(lead.custom).length > 0 ? JSON.stringify(lead.custom) : null),
          ])
          .commit();
        count++;
      }
      if (page.length < pageSize) break;
      after = page[page.length - 1]!.id;
    }
    sheet.commit();
    await workbook.commit();
    await rename(partial, out);
    return { path: out, count };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
