import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { cellText, guessDelimiter, openSheet, SheetError } from '../../src/import/read-sheet';
import { detect } from '../../src/import/text-encoding';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-sheet-'));
let n = 0;
function file(content: Buffer, ext = 'csv'): string {
  const name = path.join(dir, `f${++n}.${ext}`);
  writeFileSync(name, content);
  return name;
}

async function read(name: string, options = {}) {
  const sheet = await openSheet(name, options);
  const rows = [];
  for await (const row of sheet.rows) rows.push(row);
  return { sheet, rows };
}

const FIXED = '姓名,手机,备注\r\n张伟,13812345678,"上午联系,谢谢"\r\n\r\n李娜,13912345678,"多行\n备注"\r\n';

describe('CSV encodings', () => {
  it('UTF-8 with a BOM: the BOM decides and is not part of the first header', async () => {
    const { sheet, rows } = await read(
      file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(FIXED)])),
    );
    expect(sheet.encoding).toEqual({ name: 'utf8', decidedBy: 'bom' });
    expect(rows.map((r) => [r.number, r.values])).toEqual([
      [1, ['姓名', '手机', '备注']],
      [2, ['张伟', '13812345678', '上午联系,谢谢']],
      [3, ['']],
      [4, ['李娜', '13912345678', '多行\n备注']],
    ]);
  });

  it('UTF-8 without a BOM is recognised by its bytes', async () => {
    const { sheet, rows } = await read(file(Buffer.from(FIXED)));
    expect(sheet.encoding).toEqual({ name: 'utf8', decidedBy: 'content' });
    expect(rows[1]!.values[0]).toBe('张伟');
  });

  it('GBK (Chinese Excel "CSV (逗号分隔)") is recognised because it is not UTF-8, and decoded', async () => {
    const { sheet, rows } = await read(file(iconv.encode(FIXED, 'gbk')));
    expect(sheet.encoding).toEqual({ name: 'gb18030', decidedBy: 'content' });
    expect(rows.map((r) => r.values)).toEqual([
      ['姓名', '手机', '备注'],
      ['张伟', '13812345678', '上午联系,谢谢'],
      [''],
      ['李娜', '13912345678', '多行\n备注'],
    ]);
  });

  it('decides on the Chinese even when it starts after a long ASCII head, across chunk borders', async () => {
    const ascii = `name,phone,remark\r\n${'Zhang Wei,13812345678,ok\r\n'.repeat(20_000)}`;
    const gbk = Buffer.concat([
      Buffer.from(ascii),
      iconv.encode('王芳,13912345678,需要报价\r\n'.repeat(2000), 'gbk'),
    ]);
    const { sheet, rows } = await read(file(gbk));
    expect(sheet.encoding?.name).toBe('gb18030');
    expect(rows).toHaveLength(1 + 20_000 + 2000);
    expect(rows.at(-1)!.values).toEqual(['王芳', '13912345678', '需要报价']);
  });

  it('UTF-16LE tab-separated ("Unicode 文本") by its BOM and tabs', async () => {
    const text = '姓名\t手机\r\n张伟\t13812345678\r\n';
    const { sheet, rows } = await read(
      file(Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')])),
    );
    expect(sheet.encoding).toEqual({ name: 'utf16le', decidedBy: 'bom' });
    expect(sheet.delimiter).toBe('\t');
    expect(rows[1]!.values).toEqual(['张伟', '13812345678']);
  });

  it('--encoding overrides detection', async () => {
    const { sheet, rows } = await read(file(iconv.encode(FIXED, 'gbk')), { encoding: 'gb18030' });
    expect(sheet.encoding).toEqual({ name: 'gb18030', decidedBy: 'option' });
    expect(rows[1]!.values[0]).toBe('张伟');
  });

  it('detect(): BOMs, UTF-8, and a cut-off UTF-8 character at the end of the sniffed bytes', () => {
    expect(detect(Buffer.from([0xfe, 0xff, 0, 0x41])).encoding).toBe('utf16be');
    const utf8 = Buffer.from('张伟');
    expect(detect(utf8.subarray(0, utf8.length - 1)).encoding).toBe('utf8');
    expect(detect(iconv.encode('张伟', 'gbk')).encoding).toBe('gb18030');
  });

  it('guesses the delimiter from the header line', () => {
    expect(guessDelimiter('a;b;c\n1,2;3')).toBe(';');
    expect(guessDelimiter('a\tb,c\tb')).toBe('\t');
    expect(guessDelimiter('single')).toBe(',');
  });

  it('a broken quote names the row', async () => {
    await expect(read(file(Buffer.from('a,b\r\n1,"unterminated\r\n')))).rejects.toThrow(SheetError);
  });

  it('names a missing file', async () => {
    await expect(openSheet(path.join(dir, 'missing.csv'))).rejects.toThrow(/^文件不存在：/);
  });

  it('refuses the old binary .xls format with what to do instead', async () => {
    const xls = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    await expect(openSheet(file(xls, 'xls'))).rejects.toThrow(/另存为 .xlsx/);
  });
});

describe('XLSX', () => {
  it('reads the first worksheet: numbers as typed, dates as local wall time, rich text and formulas as text', async () => {
    const name = path.join(dir, 'cells.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('线索');
    sheet.addRow(['姓名', '手机', '日期', '备注', '公式']);
    sheet.addRow([
      { richText: [{ text: '张' }, { font: { bold: true }, text: '伟' }] },
      13812345678,
      new Date(Date.UTC(2026, 10, 21, 9, 30)),
      { text: '官网', hyperlink: 'https://example.cn' },
      { formula: 'A1', result: '姓名' },
    ]);
    sheet.getCell('C2').numFmt = 'yyyy-mm-dd hh:mm';
    sheet.addRow([]);
    sheet.addRow(['李娜', '13912345678', new Date(Date.UTC(2026, 10, 22)), null, true]);
    sheet.getCell('C4').numFmt = 'yyyy-mm-dd';
    workbook.addWorksheet('其他').addRow(['ignored']);
    await workbook.xlsx.writeFile(name);

    const { sheet: read_, rows } = await read(name);
    expect(read_.format).toBe('xlsx');
    expect(rows.map((r) => [r.number, r.values])).toEqual([
      [1, ['姓名', '手机', '日期', '备注', '公式']],
      [2, ['张伟', '13812345678', '2026-11-21 09:30', '官网', '姓名']],
      [4, ['李娜', '13912345678', '2026-11-22', '', 'TRUE']],
    ]);
  });

  it('cellText handles what exceljs hands over', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(0.5)).toBe('0.5');
    expect(cellText({ error: '#N/A' })).toBe('');
    expect(cellText({ sharedFormula: 'A1', result: 42 })).toBe('42');
  });
});
