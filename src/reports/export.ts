import { stageName } from '../leads/stages';
import type { ChannelReport, FunnelReport, RepReport, SlaReport } from './figures';

/**
 * Reports as tables (Chinese headers), and the tables as CSV or XLSX. A report is one or more
 * sections; CSV puts them one after another with a blank line between, XLSX gives each its sheet.
 * Numbers stay the numbers of the JSON (ratios as fractions, money in yuan) except first-response
 * times, which are minutes here (milliseconds in JSON) so a spreadsheet reads them.
 */
export type Cell = string | number | null;

export interface Table {
  /** Sheet name (XLSX); at most 31 characters, none of []:*?/\. */
  title: string;
  header: string[];
  rows: Cell[][];
}

export type ReportKind = 'funnel' | 'channels' | 'reps' | 'sla';
export type AnyReport = FunnelReport | ChannelReport | RepReport | SlaReport;

const minutes = (ms: number | null) => (ms === null ? null : Math.round((ms / 60_000) * 100) / 100);

export function funnelTables(report: FunnelReport): Table[] {
  const tables: Table[] = [
    {
      title: '漏斗',
      header: ['阶段', '到达', '当前', '转化率', '平均停留天数'],
      rows: report.funnel.map((s) => [stageName(s.stage), s.reached, s.current, s.conversion, s.avgDays]),
    },
    {
      title: '输单原因',
      header: ['输单原因', '数量'],
      rows: report.lossesByReason.map((l) => [l.reason, l.count]),
    },
  ];
  if (report.forecast) {
    tables.push({
      title: '预测',
      header: ['阶段', '在途线索', '预算合计（元）', '赢率', '加权金额（元）'],
      rows: report.forecast.byStage.map((s) => [
        stageName(s.stage),
        s.leads,
        s.amount,
        s.winRate,
        Math.round(s.amount * s.winRate * 100) / 100,
      ]),
    });
  }
  return tables;
}

export function channelTables(report: ChannelReport): Table[] {
  return [
    {
      title: '渠道',
      header: [
        '渠道',
        '新线索',
        '赢单',
        '赢单金额（元）',
        '成本（元）',
        '单条线索成本（元）',
        '单个赢单成本（元）',
        'ROI',
      ],
      rows: report.channels.map((c) => [
        c.channel,
        c.leads,
        c.won,
        c.wonAmount,
        c.cost,
        c.costPerLead,
        c.costPerWon,
        c.roi,
      ]),
    },
  ];
}

export function repTables(report: RepReport): Table[] {
  return [
    {
      title: '销售',
      header: [
        '成员 ID',
        '姓名',
        '首次分配',
        '认领',
        'SLA 内认领',
        '首次响应中位数（分钟）',
        '首次响应 P90（分钟）',
      ],
      rows: report.reps.map((r) => [
        r.memberId,
        r.name,
        r.assigned,
        r.claimed,
        r.claimedWithinSla,
        minutes(r.firstResponseMedianMs),
        minutes(r.firstResponseP90Ms),
      ]),
    },
  ];
}

export function slaTables(report: SlaReport): Table[] {
  return [
    {
      title: 'SLA',
      header: ['指标', '数值'],
      rows: [
        ['新线索', report.newLeads],
        ['已认领', report.claimed],
        ['SLA 内认领', report.claimedWithinSla],
        ['SLA 内认领占比', report.claimedWithinSlaShare],
        ['逾期跟进（线索）', report.overdueFollowUps],
        ['收回公海', report.recycled],
        ['SLA 违约（次）', report.slaBreaches],
      ],
    },
  ];
}

/**
 * A spreadsheet opening a CSV would run a cell that starts with = + - @ as a formula (CSV injection,
 * OWASP); such text cells get a leading apostrophe. Numbers are written as numbers.
 */
function safeText(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = safeText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** UTF-8 with a byte-order mark (Excel reads Chinese correctly only then), CRLF line ends (RFC 4180). */
export function toCsv(tables: readonly Table[]): Buffer {
  const blocks = tables.map((t) =>
    [t.header, ...t.rows].map((row) => row.map(csvCell).join(',')).join('\r\n'),
  );
  return Buffer.from(`\uFEFF${blocks.join('\r\n\r\n')}\r\n`, 'utf8');
}

export async function toXlsx(tables: readonly Table[]): Promise<Buffer> {
  // Loaded on the first XLSX export: exceljs holds ~8 MB of heap (~20 MB RSS) a server may never need.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'LeadRelay';
  for (const table of tables) {
    const sheet = workbook.addWorksheet(table.title);
    sheet.addRow(table.header).font = { bold: true };
    // Cells are typed (text stays text), so nothing here can turn into a formula.
    for (const row of table.rows) sheet.addRow(row);
    sheet.columns.forEach((column, i) => {
      column.width = Math.max(10, table.header[i]!.length * 2 + 2);
    });
  }
  // exceljs declares its own `Buffer` (an ArrayBuffer); under Node it is a Node Buffer.
  return Buffer.from((await workbook.xlsx.writeBuffer()) as ArrayBuffer);
}
