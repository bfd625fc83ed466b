import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { buildCli } from '../../src/cli/main';
import { parseEnv } from '../../src/config/env';
import { EXPORT_HEADERS } from '../../src/import/export-leads';
import { FIXTURE_ORG } from '../helpers/test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

/**
 * `leadrelay import` and `leadrelay export` end to end: the real command line on a real database.
 * Each test imports people with phone numbers of its own (138 0000 <test><row>), so the tests do not
 * merge into each other's leads.
 */
let database: TestDatabase;
const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-import-'));

async function run(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const cli = buildCli({
    out: (line) => lines.push(line),
    env: () => parseEnv({ DATABASE_URL: database.url, LEADRELAY_CONFIG: FIXTURE_ORG, LOG_LEVEL: 'silent' }),
  });
  await cli.parseAsync(args, { from: 'user' });
  return lines;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await database.pool.query(sql, params);
  return rows as T[];
}

const count = async (sql: string, params: unknown[] = []) =>
  Number((await query<{ n: number }>(sql, params))[0]!.n);

/** JSON columns arrive parsed from MySQL 8 and as text from MariaDB. */
const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

async function leadByPhone(phone: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await query<Record<string, unknown>>('SELECT * FROM leads WHERE phone = ?', [phone]);
  return row ? { ...row, tags: json(row.tags), custom: json(row.custom) } : undefined;
}

function rejectsFileOf(lines: string[]): string {
  const match = /（见 (.+\.csv)）/.exec(lines.join('\n'));
  if (!match) throw new Error(`no rejects file in:\n${lines.join('\n')}`);
  return match[1]!;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe('leadrelay import', () => {
  it('Chinese headers under a title row: creates, merges duplicates, refuses bad rows into the rejects file and rejected_payloads', async () => {
    const file = write(
      'zh.csv',
      [
        '2026年11月 上海展会线索,,,,,,,',
        '姓名,手机,邮箱,公司名称,职位,行业,预算（万元）,标签,UTM来源',
        '张伟,138 0000 1001,zw@example.com,苏州精工机械有限公司,总经理,制造业,50,展会、华东,baidu',
        '李娜,010-62345678,,北京某公司,经理,,,,',
        ',,,,,,,,',
        '张伟,+86 13800001001,,,,,,复购,sogou',
        '王芳,13800001002,,杭州云启科技有限公司,采购经理,零售,面议,,',
        '赵六,,,无联系方式公司,,,,,',
      ].join('\r\n'),
    );
    const lines = await run(['import', file, '--source', 'website']);
    expect(lines[0]).toBe('导入完成：zh.csv（CSV，UTF-8（按内容识别））→ 来源 website');
    expect(lines[1]).toMatch(
      /^ {2}数据行 5：新建 2，合并（重复）1，拒绝 2（见 .+zh\.rejects-\d{8}-\d{6}\.csv）$/,
    );
    expect(lines).toContain('  未识别的列（存入自定义字段 custom）：UTM来源 → custom.UTM来源');
    expect(lines).toContain('  表头在第 2 行，其上 1 行已跳过');
    expect(lines).toContain('  空行 1 行已跳过');

    expect(await leadByPhone('+8613800001001')).toMatchObject({
      source_id: 'website',
      name: '张伟',
      email: 'zw@example.com',
      budget: 500000,
      tags: ['展会', '华东', '复购'],
      custom: { UTM来源: 'baidu' },
      score: 65,
      grade: 'A',
      version: 2,
    });
    const zhang = (await leadByPhone('+8613800001001'))!;
    const events = await query<{ type: string; data: unknown }>(
      'SELECT type, data FROM lead_events WHERE lead_id = ? ORDER BY id',
      [zhang.id],
    );
    expect(events.map((e) => [e.type, (json(e.data) as { import: unknown }).import])).toEqual([
      ['lead.created', { file: 'zh.csv', row: 3 }],
      ['lead.duplicate', { file: 'zh.csv', row: 6 }],
    ]);
    // The same road as the API: routing is queued for the running server.
    expect(
      await count("SELECT COUNT(*) AS n FROM timers WHERE effect_key = ? AND status = 'pending'", [
        `lead:${zhang.id}:assign`,
      ]),
    ).toBe(1);

    const rejects = readFileSync(rejectsFileOf(lines), 'utf8');
    expect(rejects.startsWith('\ufeff行号,原因,姓名,手机,')).toBe(true);
    const rows = rejects.slice(1).trim().split('\r\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(
      /^4,"手机：手机号 ""010\*\*\*\*5678"" 是固定电话.*",李娜,010-62345678,,北京某公司,经理,,,,$/,
    );
    expect(rows[2]).toBe('8,手机：至少需要手机号、邮箱或微信号之一,赵六,,,无联系方式公司,,,,,');

    const kept = await query<{ request_id: string; body: Buffer; status: string; reason_code: string }>(
      "SELECT request_id, body, status, reason_code FROM rejected_payloads WHERE request_id LIKE 'import:%' ORDER BY id",
    );
    expect(kept.map((k) => [k.request_id.replace(/^import:\w+:/, ''), k.status, k.reason_code])).toEqual([
      ['4', 'pending', 'validation_failed'],
      ['8', 'pending', 'validation_failed'],
    ]);
    expect(JSON.parse(kept[0]!.body.toString('utf8'))).toEqual({
      name: '李娜',
      phone: '010-62345678',
      company: '北京某公司',
      title: '经理',
    });
  });

  it('English headers', async () => {
    const file = write(
      'en.csv',
      'Name,Mobile,E-mail,Company,Job Title,Industry,Budget,Landing Page,External ID\n' +
        'Li Lei,13800002001,lilei@example.com,ACME Co. Ltd.,CTO,制造业,80000,https://example.cn/lp,CRM-1\n',
    );
    const lines = await run(['import', file, '--source', 'baidu']);
    expect(lines[1]).toBe('  数据行 1：新建 1，合并（重复）0，拒绝 0');
    expect(await leadByPhone('+8613800002001')).toMatchObject({
      source_id: 'baidu',
      name: 'Li Lei',
      company: 'ACME Co. Ltd.',
      budget: 80000,
      landing_page: 'https://example.cn/lp',
      external_id: 'CRM-1',
    });
  });

  it('a GBK CSV as Chinese Excel saves it', async () => {
    const file = write('gbk.csv', iconv.encode('姓名,手机号,城市\r\n陈静,13800003001,杭州\r\n', 'gbk'));
    const lines = await run(['import', file, '--source', 'website']);
    expect(lines[0]).toBe('导入完成：gbk.csv（CSV，GBK/GB18030（按内容识别））→ 来源 website');
    expect(await leadByPhone('+8613800003001')).toMatchObject({ name: '陈静', city: '杭州' });
  });

  it('an XLSX with phone numbers stored as numbers', async () => {
    const file = path.join(dir, 'leads.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Sheet1');
    sheet.addRow(['联系人', '电话', '公司', '需求']);
    sheet.addRow(['周杰', 13800004001, '深圳博远科技有限公司', '想看演示']);
    sheet.addRow(['吴敏', '13800004002', null, null]);
    await workbook.xlsx.writeFile(file);
    const lines = await run(['import', file, '--source', 'website']);
    expect(lines[0]).toBe('导入完成：leads.xlsx（XLSX）→ 来源 website');
    expect(lines[1]).toBe('  数据行 2：新建 2，合并（重复）0，拒绝 0');
    expect(await leadByPhone('+8613800004001')).toMatchObject({ name: '周杰', need: '想看演示' });
  });

  it('a mapping file for headers it would not know, and to ignore one', async () => {
    const file = write('mapped.csv', '客户,号码,内部编号,来源渠道\n孙强,13800005001,X-9,抖音\n');
    const map = write(
      'map.json',
      JSON.stringify({ 客户: 'name', 号码: 'phone', 内部编号: null, 来源渠道: 'custom.channel' }),
    );
    const lines = await run(['import', file, '--source', 'website', '--map', map]);
    expect(lines[1]).toBe('  数据行 1：新建 1，合并（重复）0，拒绝 0');
    expect(lines).toContain('  忽略的列：内部编号');
    expect(await leadByPhone('+8613800005001')).toMatchObject({ name: '孙强', custom: { channel: '抖音' } });

    const bad = write('bad-map.json', JSON.stringify({ 号码: 'mobile' }));
    await expect(run(['import', file, '--source', 'website', '--map', bad])).rejects.toThrow(
      /"mobile" 不存在/,
    );
  });

  it('refuses a source that is not configured, naming the configured ones', async () => {
    const file = write('x.csv', '手机\n13800006001\n');
    await expect(run(['import', file, '--source', 'nope'])).rejects.toThrow(
      '来源 "nope" 不在组织配置中；可用的来源：website, baidu',
    );
  });

  it('--dry-run counts what would happen and writes nothing', async () => {
    const tables = ['leads', 'lead_identities', 'lead_events', 'timers', 'rejected_payloads', 'id_blocks'];
    const snapshot = async () =>
      Promise.all(
        tables.map((t) => query(`SELECT * FROM ${t} ORDER BY 1, 2`).then((r) => JSON.stringify(r))),
      );
    const before = await snapshot();
    const file = write(
      'dry.csv',
      '手机,姓名\n13800001001,张伟\n13800007001,新人\n13800007001,新人又来\n,没有联系方式\n13800007002,另一人\n',
    );
    const lines = await run(['import', file, '--source', 'website', '--dry-run', '--batch-size', '2']);
    expect(lines[0]).toBe('试运行完成（未写入数据库）：dry.csv（CSV，UTF-8（按内容识别））→ 来源 website');
    // 张伟 is already a lead; the second 新人 merges into the first, which a dry run also remembers
    // across batches.
    expect(lines[1]).toMatch(/^ {2}数据行 5：新建 2，合并（重复）2，拒绝 1（见 .+dry\.rejects-.+\.csv）$/);
    expect(await snapshot()).toEqual(before);
  });

  it('the same file imported twice is merged, not duplicated', async () => {
    const file = write('twice.csv', '姓名,手机,备注\n马超,13800008001,第一次\n郭嘉,13800008002,\n');
    await run(['import', file, '--source', 'website']);
    const second = await run(['import', file, '--source', 'website']);
    expect(second[1]).toBe('  数据行 2：新建 0，合并（重复）2，拒绝 0');
    expect(
      await count("SELECT COUNT(*) AS n FROM leads WHERE phone IN ('+8613800008001', '+8613800008002')"),
    ).toBe(2);
    expect(await leadByPhone('+8613800008001')).toMatchObject({ remark: '第一次', version: 2 });
  });

  it('many small batches decide as one: duplicates across batches merge into the earlier lead', async () => {
    const lines = ['姓名,手机,邮箱,职位'];
    for (let i = 0; i < 30; i++) {
      // Person i comes back every 7 rows with an e-mail, and at row 20+ by e-mail alone.
      lines.push(`人${i},138000090${String(i).padStart(2, '0')},,`);
      if (i % 7 === 6)
        lines.push(`人${i - 3},138000090${String(i - 3).padStart(2, '0')},p${i - 3}@example.com,`);
      if (i === 25) lines.push('人3,,p3@example.com,总经理');
    }
    const file = write('batches.csv', lines.join('\n'));
    const out = await run(['import', file, '--source', 'website', '--batch-size', '3']);
    expect(out[1]).toBe('  数据行 35：新建 30，合并（重复）5，拒绝 0');
    expect(await leadByPhone('+8613800009003')).toMatchObject({
      email: 'p3@example.com',
      title: '总经理',
      version: 3,
    });
    expect(await count("SELECT COUNT(*) AS n FROM leads WHERE phone LIKE '+86138000090%'")).toBe(30);
  });
});

describe('leadrelay export', () => {
  async function readXlsx(file: string): Promise<string[][]> {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file);
    const rows: string[][] = [];
    workbook.worksheets[0]!.eachRow((row) => {
      rows.push(
        (row.values as unknown[])
          .slice(1)
          .map((v) => (v instanceof Date ? v.toISOString() : String(v ?? ''))),
      );
    });
    return rows;
  }

  it('writes every lead with Chinese headers and full phone numbers, and import reads it back', async () => {
    const out = path.join(dir, 'export.xlsx');
    const lines = await run(['export', '--out', out]);
    const total = await count('SELECT COUNT(*) AS n FROM leads');
    expect(lines).toEqual([`已导出 ${total} 条线索 → ${out}（含完整手机号，请妥善保管）`]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);

    const rows = await readXlsx(out);
    expect(rows[0]).toEqual([...EXPORT_HEADERS]);
    expect(rows).toHaveLength(total + 1);
    const header = rows[0]!;
    const zhang = rows.find((r) => r[header.indexOf('手机号')] === '13800001001')!;
    expect(zhang[header.indexOf('姓名')]).toBe('张伟');
    expect(zhang[header.indexOf('来源')]).toBe('官网表单');
    expect(zhang[header.indexOf('阶段')]).toBe('新线索');
    expect(zhang[header.indexOf('预算（元）')]).toBe('500000');
    expect(zhang[header.indexOf('标签')]).toBe('展会、华东、复购');
    expect(JSON.parse(zhang[header.indexOf('自定义字段')]!)).toEqual({ UTM来源: 'baidu' });

    // Round trip: the export imported back changes nothing but versions (every row merges).
    const back = await run(['import', out, '--source', 'website']);
    expect(back[1]).toBe(`  数据行 ${total}：新建 0，合并（重复）${total}，拒绝 0`);
    expect(back).toContain('  忽略的列：线索ID，创建时间，来源，阶段，等级，评分，团队，负责人');
    expect(await count('SELECT COUNT(*) AS n FROM leads')).toBe(total);
  });

  it('filters by team and by local creation dates; refuses an unknown team', async () => {
    const [some] = await query<{ id: number }>('SELECT id FROM leads ORDER BY id LIMIT 1');
    await database.pool.query(
      "UPDATE leads SET team_id = 'east', created_at = '2026-01-10 16:30:00' WHERE id = ?",
      [some!.id],
    );
    const team = path.join(dir, 'team.xlsx');
    await run(['export', '--out', team, '--team', 'east']);
    expect((await readXlsx(team)).slice(1).map((r) => r[0])).toEqual([String(some!.id)]);

    // 16:30 UTC is 00:30 on Jan 11 in Asia/Shanghai, the org's timezone.
    const day = path.join(dir, 'day.xlsx');
    await run(['export', '--out', day, '--from', '2026-01-11', '--to', '2026-01-11']);
    const dayRows = await readXlsx(day);
    expect(dayRows.slice(1).map((r) => r[0])).toEqual([String(some!.id)]);
    expect(dayRows[1]![1]).toBe('2026-01-11T00:30:00.000Z');
    const before = path.join(dir, 'before.xlsx');
    await run(['export', '--out', before, '--to', '2026-01-10']);
    expect(await readXlsx(before)).toHaveLength(1);

    await expect(run(['export', '--out', team, '--team', 'west'])).rejects.toThrow(
      /团队 "west" 不在组织配置中/,
    );
    await expect(run(['export', '--out', team, '--from', '2026-13-01'])).rejects.toThrow(/YYYY-MM-DD/);
  });
});
