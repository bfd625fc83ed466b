import path from 'node:path';
import ExcelJS from 'exceljs';
import { request } from '../helpers/http';
import { ADMIN_KEY, startTestApp, type TestApp } from '../helpers/test-app';
import { seedReportData } from './report-data';

/** The reports API over real HTTP on the real server, on the data set of report-data.ts. */
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
let app: TestApp;
const url = (kind: string, query: string) => `${app.url}/api/v1/reports/${kind}?${query}`;
const get = (kind: string, query: string, headers: Record<string, string> = auth) =>
  request(url(kind, query), { headers });

beforeAll(async () => {
  app = await startTestApp({
    orgFile: path.join(__dirname, 'org.reports.jsonc'),
    server: { workers: false },
  });
  await seedReportData(app.database.db);
});
afterAll(async () => {
  await app.close();
});

const BOM = '\uFEFF';
const csv = (lines: string[]) => `${BOM}${lines.join('\r\n')}\r\n`;

const EAST_CSV: Record<string, string> = {
  funnel: csv([
    '阶段,到达,当前,转化率,平均停留天数',
    '新线索,7,3,,4.03',
    '已联系,2,0,0.2857,0.87',
    '已确认需求,1,0,0.5,0.17',
    '商机,1,0,1,0.08',
    '赢单,1,1,1,',
    '输单,1,1,,',
    '培育,2,2,,',
    '',
    '输单原因,数量',
    '预算不符,2',
    '选择了竞品,1',
    '',
    '阶段,在途线索,预算合计（元）,赢率,加权金额（元）',
    '新线索,4,60000,0.2,12000',
    '已联系,0,0,0.3333,0',
    '已确认需求,0,0,0.5,0',
    '商机,1,200000,1,200000',
    '培育,2,30000,0,0',
  ]),
  channels: csv([
    '渠道,新线索,赢单,赢单金额（元）,成本（元）,单条线索成本（元）,单个赢单成本（元）,ROI',
    'web_form,3,1,100000,100,33.33,100,999',
    'search_ads,2,0,0,280,140,,-1',
    'social_ads,1,0,0,,,,',
    'trade_show,1,0,0,,,,',
  ]),
  reps: csv([
    '成员 ID,姓名,首次分配,认领,SLA 内认领,首次响应中位数（分钟）,首次响应 P90（分钟）',
    'rep_a,王磊,3,4,3,60,120',
    'rep_b,李娜,2,2,1,20,20',
  ]),
  sla: csv([
    '指标,数值',
    '新线索,7',
    '已认领,5',
    'SLA 内认领,4',
    'SLA 内认领占比,0.8',
    '逾期跟进（线索）,2',
    '收回公海,1',
    'SLA 违约（次）,3',
  ]),
};

/** The funnel with its forecast; the other reports as they are. */
const fullQuery = (kind: string, format: string) =>
  `from=2026-11-20&team=east&format=${format}${kind === 'funnel' ? '&forecast=true' : ''}`;

/** CSV text back into sections of rows, numbers as numbers and empty cells as null. */
function csvSections(text: string): (string | number | null)[][][] {
  return text
    .replace(BOM, '')
    .trimEnd()
    .split('\r\n\r\n')
    .map((block) =>
      block
        .split('\r\n')
        .map((line) =>
          line.split(',').map((cell) => (cell === '' ? null : /^-?\d/.test(cell) ? Number(cell) : cell)),
        ),
    );
}

describe('GET /api/v1/reports/*', () => {
  it('answers JSON with the period as asked and as instants', async () => {
    const res = await get('funnel', 'from=2026-11-20&to=2026-11-20&team=east&forecast=true');
    expect(res.status).toBe(200);
    expect(res.body.period).toEqual({
      from: '2026-11-20',
      to: '2026-11-20',
      timeZone: 'Asia/Shanghai',
      start: '2026-11-19T16:00:00.000Z',
      end: '2026-11-20T16:00:00.000Z',
    });
    expect(res.body.teamId).toBe('east');
    expect(res.body.newLeads).toBe(7);
    expect(res.body.funnel[1]).toEqual({
      stage: 'contacted',
      reached: 2,
      current: 0,
      conversion: 0.2857,
      avgDays: 0.87,
    });
    expect(res.body.lossesByReason).toEqual([
      { reason: '预算不符', count: 2 },
      { reason: '选择了竞品', count: 1 },
    ]);
    expect(res.body.forecast.weightedAmount).toBe(212000);
  });

  it('leaves the forecast out of the funnel unless asked', async () => {
    const res = await get('funnel', 'from=2026-11-20&team=east');
    expect(res.body.newLeads).toBe(7);
    expect(res.body).not.toHaveProperty('forecast');
    const res2 = await fetch(url('funnel', 'from=2026-11-20&team=east&format=csv'), { headers: auth });
    const text = Buffer.from(await res2.arrayBuffer()).toString('utf8');
    expect(text).toBe(EAST_CSV.funnel!.split('\r\n\r\n阶段,在途线索')[0]!.concat('\r\n'));
  });

  it('each report answers its own part: channels, reps, sla', async () => {
    const channels = await get('channels', 'from=2026-11-20&team=east');
    expect(channels.status).toBe(200);
    expect(Object.keys(channels.body).sort()).toEqual(['channels', 'newLeads', 'period', 'teamId']);
    expect(channels.body.channels[1]).toEqual({
      channel: 'search_ads',
      leads: 2,
      won: 0,
      wonAmount: 0,
      cost: 280,
      costPerLead: 140,
      costPerWon: null,
      roi: -1,
    });
    const reps = await get('reps', 'from=2026-11-20&team=east');
    expect(Object.keys(reps.body).sort()).toEqual(['period', 'reps', 'teamId']);
    expect(reps.body.reps[0]).toMatchObject({ memberId: 'rep_a', firstResponseMedianMs: 3_600_000 });
    const sla = await get('sla', 'from=2026-11-20&team=east');
    expect(sla.body).toEqual({
      teamId: 'east',
      period: expect.objectContaining({ from: '2026-11-20', to: '2026-11-20' }),
      newLeads: 7,
      claimed: 5,
      claimedWithinSla: 4,
      claimedWithinSlaShare: 0.8,
      overdueFollowUps: 2,
      recycled: 1,
      slaBreaches: 3,
    });
  });

  it('without a team reports on the whole organisation', async () => {
    const res = await get('sla', 'from=2026-11-20');
    expect(res.body).toMatchObject({ teamId: null, newLeads: 9, claimed: 6, claimedWithinSla: 5 });
  });

  it('an empty period and an empty team answer zeros, not errors', async () => {
    const empty = await get('sla', 'from=2026-10-01&to=2026-10-07&team=east');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ newLeads: 0, claimed: 0, claimedWithinSlaShare: null });
    const north = await get('channels', 'from=2026-11-20&team=north');
    expect(north.body).toMatchObject({ teamId: 'north', newLeads: 0, channels: [] });
  });

  it.each(Object.keys(EAST_CSV))(
    '%s as CSV: UTF-8 with a BOM, Chinese header row, the same numbers',
    async (kind) => {
      const res = await fetch(url(kind, fullQuery(kind, 'csv')), { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="leadrelay_${kind}_east_2026-11-20_2026-11-20.csv"`,
      );
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(bytes.toString('utf8')).toBe(EAST_CSV[kind]);
    },
  );

  it.each(Object.keys(EAST_CSV))('%s as XLSX: parses back with the same numbers as the CSV', async (kind) => {
    const res = await fetch(url(kind, fullQuery(kind, 'xlsx')), { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await res.arrayBuffer()) as ExcelJS.Buffer);
    const sheets = workbook.worksheets.map((sheet) => {
      const rows: (string | number | null)[][] = [];
      sheet.eachRow((row) => {
        const values = (row.values as ExcelJS.CellValue[]).slice(1);
        const width = sheet.getRow(1).cellCount;
        rows.push(Array.from({ length: width }, (_, i) => (values[i] ?? null) as string | number | null));
      });
      return rows;
    });
    expect(sheets).toEqual(csvSections(EAST_CSV[kind]!));
    if (kind === 'funnel')
      expect(workbook.worksheets.map((s) => s.name)).toEqual(['漏斗', '输单原因', '预测']);
  });
});

describe('refusals', () => {
  it('needs the admin key', async () => {
    expect((await get('funnel', 'from=2026-11-20', {})).status).toBe(401);
    const wrong = await get('funnel', 'from=2026-11-20', { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'unauthorized', message: '管理密钥无效' });
  });

  it.each([
    ['', 'from', '开始日期：必填'],
    ['from=20261120', 'from', '开始日期：应为日期，格式 YYYY-MM-DD（如 2026-11-20）'],
    ['from=2026-02-30', 'from', '开始日期：不是有效的日期'],
    ['from=2026-11-20&to=2026-13-01', 'to', '结束日期：不是有效的日期'],
    ['from=2026-11-20&to=2026-11-19', 'to', '结束日期：不能早于开始日期（2026-11-20）'],
    ['from=2025-01-01&to=2026-01-02', 'to', '结束日期：区间最长 366 天'],
    ['from=2026-11-20&format=pdf', 'format', '格式：应为以下之一：json、csv、xlsx'],
    ['from=2026-11-20&forecast=yes', 'forecast', '预测：应为以下之一：0、1、true、false'],
  ])('%s → 422 on %s', async (query, field, message) => {
    const res = await get('sla', query);
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.issues).toEqual([{ path: field, message }]);
  });

  it('an unknown team is 404, in Chinese', async () => {
    const res = await get('reps', 'from=2026-11-20&team=south');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: '团队 "south" 不存在' });
  });
});

describe('POST /api/v1/channel-costs', () => {
  const post = (body: unknown, headers: Record<string, string> = auth) =>
    request(`${app.url}/api/v1/channel-costs`, { headers, body });

  it('records a cost that the channel report then prorates', async () => {
    const res = await post({
      channel: 'trade_show',
      from: '2026-11-20',
      to: '2026-11-21',
      amount: 180,
      note: '展位费',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      channel: 'trade_show',
      from: '2026-11-20',
      to: '2026-11-21',
      amount: 180,
      note: '展位费',
      period: {
        from: '2026-11-20',
        to: '2026-11-21',
        timeZone: 'Asia/Shanghai',
        start: '2026-11-19T16:00:00.000Z',
        end: '2026-11-21T16:00:00.000Z',
      },
    });
    const report = await get('channels', 'from=2026-11-20&team=east');
    // Two days, 90 a day; east has the day's only trade_show lead (L7).
    expect(report.body.channels.find((c: { channel: string }) => c.channel === 'trade_show')).toEqual({
      channel: 'trade_show',
      leads: 1,
      won: 0,
      wonAmount: 0,
      cost: 90,
      costPerLead: 90,
      costPerWon: null,
      roi: -1,
    });
  });

  it('refuses without the admin key, without JSON, and with bad fields', async () => {
    const good = { channel: 'web_form', from: '2026-11-01', to: '2026-11-30', amount: 3000 };
    expect((await post(good, {})).status).toBe(401);
    const text = await request(`${app.url}/api/v1/channel-costs`, {
      headers: { ...auth, 'content-type': 'text/plain' },
      raw: JSON.stringify(good),
    });
    expect(text.status).toBe(415);
    const unknown = await post({ ...good, channel: 'tv' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.issues).toEqual([
      {
        path: 'channel',
        message: '渠道：应为以下之一：web_form、search_ads、social_ads、trade_show、referral',
      },
    ]);
    const backwards = await post({ ...good, from: '2026-12-01' });
    expect(backwards.body.issues).toEqual([
      { path: 'to', message: '结束日期：不能早于开始日期（2026-12-01）' },
    ]);
    const fraction = await post({ ...good, amount: 12.5, extra: 1 });
    expect(fraction.status).toBe(422);
    expect(fraction.body.issues).toEqual(
      expect.arrayContaining([
        { path: 'amount', message: expect.stringMatching(/^金额（元）：/) },
        { path: 'extra', message: '未知字段' },
      ]),
    );
  });
});
