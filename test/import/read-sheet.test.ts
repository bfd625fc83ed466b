import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { guessDelimiter, openSheet, SheetError } from '../../src/import/read-sheet';
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

  it('reads 2,000 rows of an exceljs workbook in order with their numbers', async () => {
    const name = path.join(dir, 'many.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('线索');
    sheet.addRow(['姓名', '手机']);
    for (let i = 0; i < 2000; i++) sheet.addRow([`客户${i} <&>`, 13800000000 + i]);
    await workbook.xlsx.writeFile(name);
    const { rows } = await read(name);
    expect(rows).toHaveLength(2001);
    expect(rows[2000]).toEqual({ number: 2001, values: ['客户1999 <&>', '13800001999'] });
  });
});

/** A zip of the given parts, deflated, as Excel writes one (no library: the reader must not rely on a writer's habits). */
function zip(parts: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(parts)) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x0800, 6);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(crc32(data), 14);
    header.writeUInt32LE(packed.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(crc32(data), 16);
    entry.writeUInt32LE(packed.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(header, nameBytes, packed);
    central.push(entry, nameBytes);
    offset += header.length + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(parts).length, 8);
  end.writeUInt16LE(Object.keys(parts).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const NS =
  'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** A workbook of two sheets whose first tab is stored second (sheet2.xml, after the other). */
function workbookParts(firstSheet: string, options: { date1904?: boolean; prefix?: boolean } = {}) {
  return {
    '[Content_Types].xml': '<?xml version="1.0" encoding="UTF-8"?><Types/>',
    '_rels/.rels': `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    'xl/worksheets/sheet1.xml': `<worksheet ${NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>第二个工作表</t></is></c></row></sheetData></worksheet>`,
    'xl/worksheets/sheet2.xml': firstSheet,
    'xl/workbook.xml': `<?xml version="1.0"?><workbook ${NS}>${options.date1904 ? '<workbookPr date1904="1"/>' : ''}<sheets><sheet name="线索" sheetId="2" r:id="rId7"/><sheet name="其他" sheetId="1" r:id="rId3"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId7" Type="${REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/><Relationship Id="rId8" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId9" Type="${REL}/styles" Target="styles.xml"/></Relationships>`,
    'xl/sharedStrings.xml': `<?xml version="1.0"?><sst ${NS} count="4" uniqueCount="4"><si><t>姓名</t></si><si><r><t>张</t></r><r><rPr><b/></rPr><t xml:space="preserve">伟 </t></r><rPh sb="0" eb="1"><t>ちょう</t></rPh></si><si><t>a &amp; b &lt;c&gt; &#x4E2D;&#25991;_x000D_</t></si><si><t/></si></sst>`,
    'xl/styles.xml': `<?xml version="1.0"?><styleSheet ${NS}><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/><numFmt numFmtId="165" formatCode="&quot;¥&quot;#,##0.00;[Red]-0"/></numFmts><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="22"/></cellXfs></styleSheet>`,
  };
}

describe('XLSX as Excel and other writers store it', () => {
  it('shared strings (rich text joined, phonetic runs left out, references decoded), inline strings, numbers, dates, booleans, errors, formulas; skipped columns and rows', async () => {
    const sheet = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet ${NS}><dimension ref="A1:F6"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>
<sheetData>
<row r="1" spans="1:6"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>手机</t></is></c><c r="C1" t="inlineStr"><is><r><t>日</t></r><r><t>期</t></r></is></c><c r="D1" t="s"><v>2</v></c></row>
<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>13812345678</v></c><c r="C2" s="1"><v>46347</v></c><c r="D2" s="3"><v>1234.5</v></c><c r="E2" t="b"><v>1</v></c><c r="F2" t="e"><v>#N/A</v></c></row>
<row r="3" ht="20" customHeight="1"/>
<row r="5"><c r="C5" s="2"><v>46348</v></c><c r="F5" t="str"><f>A1&amp;"x"</f><v>姓名x &amp; y</v></c></row>
<row><c t="s"><v>3</v></c><c s="4"><v>46347.75</v></c><c r="E6" t="d"><v>2026-11-21T09:30:00</v></c><c r="F6" s="4"/></row>
</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>`;
    const { sheet: opened, rows } = await read(file(zip(workbookParts(sheet)), 'xlsx'));
    expect(opened.format).toBe('xlsx');
    expect(rows.map((r) => [r.number, r.values])).toEqual([
      [1, ['姓名', '手机', '日期', 'a & b <c> 中文\r']],
      [2, ['张伟 ', '13812345678', '2026-11-21', '1234.5', 'TRUE', '']],
      [3, []],
      [5, ['', '', '2026-11-22', '', '', '姓名x & y']],
      [6, ['', '2026-11-21 18:00', '', '', '2026-11-21 09:30', '']],
    ]);
    expect(opened.bytesRead()).toBe(opened.totalBytes);
  });

  it('prefixed tags (x:), single-quoted attributes, a `>` inside an attribute value, CDATA, the 1904 date system', async () => {
    const sheet = `<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r='1' x14ac:note="a>b"><x:c r='A1' t='inlineStr'><x:is><x:t><![CDATA[<王 & 芳>]]></x:t></x:is></x:c><x:c r='B1' s='1'><x:v>0</x:v></x:c></x:row></x:sheetData></x:worksheet>`;
    const { rows } = await read(file(zip(workbookParts(sheet, { date1904: true })), 'xlsx'));
    expect(rows).toEqual([{ number: 1, values: ['<王 & 芳>', '1904-01-01'] }]);
  });

  it('a zip that is not a workbook is refused as an unreadable XLSX', async () => {
    await expect(openSheet(file(zip({ 'readme.txt': 'hello' }), 'xlsx'))).rejects.toThrow(
      /无法读取 XLSX 文件/,
    );
  });
});
