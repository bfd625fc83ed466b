import fc from 'fast-check';
import {
  clean,
  clip,
  DIGEST_MAX_BYTES,
  duration,
  money,
  percent,
  renderDigestMarkdown,
  renderDigestText,
} from '../../src/reports/digest-markdown';
import type { ChannelFigures, Figures, FunnelStage, RepFigures } from '../../src/reports/figures-types';

const MIN = 60_000;
const HOUR = 3_600_000;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Saturday 21 November 2026, Asia/Shanghai. */
const DAY = {
  from: new Date('2026-11-20T16:00:00Z'),
  to: new Date('2026-11-21T16:00:00Z'),
  timeZone: 'Asia/Shanghai',
};
/** Monday 16 – Sunday 22 November 2026. */
const WEEK = {
  from: new Date('2026-11-15T16:00:00Z'),
  to: new Date('2026-11-22T16:00:00Z'),
  timeZone: 'Asia/Shanghai',
};

function channel(name: string, leads: number, extra: Partial<ChannelFigures> = {}): ChannelFigures {
  return {
    channel: name,
    leads,
    won: 0,
    wonAmount: 0,
    cost: null,
    costPerLead: null,
    costPerWon: null,
    roi: null,
    ...extra,
  };
}

function rep(memberId: string, name: string, extra: Partial<RepFigures> = {}): RepFigures {
  return {
    memberId,
    name,
    assigned: 0,
    claimed: 0,
    claimedWithinSla: 0,
    firstResponseMedianMs: null,
    firstResponseP90Ms: null,
    ...extra,
  };
}

function stage(
  s: FunnelStage['stage'],
  reached: number,
  conversion: number | null,
  avgDays: number | null = null,
) {
  return { stage: s, reached, current: reached, conversion, avgDays };
}

function emptyFigures(period = DAY): Figures {
  return {
    teamId: 'east',
    period,
    newLeads: 0,
    channels: [],
    claimed: 0,
    claimedWithinSla: 0,
    claimedWithinSlaShare: null,
    reps: [],
    funnel: [
      stage('new', 0, null),
      stage('contacted', 0, null),
      stage('qualified', 0, null),
      stage('opportunity', 0, null),
      stage('won', 0, null),
      stage('lost', 0, null),
      stage('nurture', 0, null),
    ],
    lossesByReason: [],
    overdueFollowUps: 0,
    recycled: 0,
    slaBreaches: 0,
  };
}

function knownFigures(period = DAY): Figures {
  return {
    ...emptyFigures(period),
    newLeads: 12,
    channels: [
      channel('web_form', 4),
      channel('search_ads', 5, {
        won: 1,
        wonAmount: 80_000,
        cost: 5_000,
        costPerLead: 1_000,
        costPerWon: 5_000,
        roi: 15,
      }),
      channel('expo', 3, { cost: 2_000, costPerLead: 2_000 / 3, costPerWon: null, roi: -1 }),
      channel('referral', 0),
    ],
    claimed: 10,
    claimedWithinSla: 8,
    claimedWithinSlaShare: 0.8,
    reps: [
      rep('u3', '王五', { assigned: 2, claimed: 1 }),
      rep('u1', '张三', {
        assigned: 6,
        claimed: 5,
        claimedWithinSla: 4,
        firstResponseMedianMs: 12 * MIN,
        firstResponseP90Ms: 1.5 * HOUR,
      }),
      rep('u2', '李四', {
        assigned: 4,
        claimed: 4,
        claimedWithinSla: 4,
        firstResponseMedianMs: 40_000,
        firstResponseP90Ms: 26 * HOUR,
      }),
      rep('u4', '赵六'),
    ],
    funnel: [
      stage('lost', 2, null),
      stage('new', 12, null, 0.2),
      stage('contacted', 8, 8 / 12, 2.1),
      stage('qualified', 4, 0.5),
      stage('opportunity', 2, 0.5),
      stage('won', 1, 0.5),
      stage('nurture', 1, null),
    ],
    lossesByReason: [
      { reason: '价格太高', count: 2 },
      { reason: '选了竞品', count: 1 },
    ],
    overdueFollowUps: 3,
    recycled: 1,
    slaBreaches: 2,
  };
}

describe('renderDigestMarkdown', () => {
  it('renders a known day line by line', () => {
    const text = renderDigestMarkdown({
      figures: knownFigures(),
      teamName: '华东团队',
      kind: 'daily',
      late: true,
    });
    expect(text.split('\n')).toEqual([
      '# 华东团队日报 · 11月21日（周六）',
      '<font color="warning">（补发：服务恢复后发送）</font>',
      '',
      '**新线索** 12 条',
      '> search_ads 5 · web_form 4 · expo 3',
      '',
      '**SLA 内认领** <font color="info">80%</font>（8/10）',
      '',
      '**首次响应**（中位 / P90 · 认领/分配）',
      '> 张三：12分钟 / 1.5小时 · 5/6',
      '> 李四：不到1分钟 / 1.1天 · 4/4',
      '> 王五：暂无跟进 · 1/2',
      '',
      '**漏斗**（当日新线索走到的阶段，括号内为转化率）',
      '> 新线索 12 → 已联系 8（67%） → 已确认需求 4（50%） → 商机 2（50%） → 赢单 1（50%）',
      '> 输单 2 · 培育 1',
      '',
      '**平均停留** 新线索 4.8小时 · 已联系 2.1天',
      '',
      '**输单原因**（当日输单 3 条）',
      '> 价格太高 2 · 选了竞品 1',
      '',
      '**跟进** 逾期提醒 3 · 回收公海 1 · SLA 超时 <font color="warning">2</font>',
    ]);
  });

  it('says nothing late when on time, and colours a low claim share as a warning', () => {
    const figures = { ...knownFigures(), claimedWithinSla: 5, claimedWithinSlaShare: 0.5 };
    const text = renderDigestMarkdown({ figures, teamName: '华东团队', kind: 'daily' });
    expect(text).not.toContain('补发');
    expect(text).toContain('**SLA 内认领** <font color="warning">50%</font>（5/10）');
  });

  it('adds the forecast and channel costs to the weekly digest', () => {
    const figures: Figures = {
      ...knownFigures(WEEK),
      forecast: {
        openLeads: 25,
        weightedAmount: 1_234_000,
        byStage: [
          { stage: 'opportunity', leads: 5, amount: 500_000, winRate: 0.4 },
          { stage: 'qualified', leads: 8, amount: 200_000, winRate: 0.15 },
          { stage: 'contacted', leads: 0, amount: 0, winRate: 0.05 },
        ],
      },
    };
    const lines = renderDigestMarkdown({ figures, teamName: '华东团队', kind: 'weekly' }).split('\n');
    expect(lines[0]).toBe('# 华东团队周报 · 11月16日–11月22日');
    expect(lines).toContain('**漏斗**（当周新线索走到的阶段，括号内为转化率）');
    const forecast = lines.indexOf('**预测**（在途线索 × 各阶段历史赢单率）');
    expect(lines.slice(forecast + 1, forecast + 4)).toEqual([
      '> 在途 25 条 · 加权金额 <font color="info">¥123.4万</font>',
      '> 已确认需求 8 条 · 赢单率 15% · ¥20万',
      '> 商机 5 条 · 赢单率 40% · ¥50万',
    ]);
    const costs = lines.indexOf('**渠道成本**（每线索 / 每赢单 / ROI）');
    expect(costs).toBeGreaterThan(forecast);
    // Only channels with a cost; most expensive first.
    expect(lines.slice(costs + 1)).toEqual([
      '> search_ads：成本 ¥5,000 · 每线索 ¥1,000 · 每赢单 ¥5,000 · ROI <font color="info">1,500%</font>',
      '> expo：成本 ¥2,000 · 每线索 ¥667 · 每赢单 无赢单 · ROI <font color="warning">-100%</font>',
    ]);
  });

  it('leaves the cost section out of a week without costs, and the weekly parts out of a day', () => {
    const noCosts = { ...knownFigures(WEEK), channels: [channel('web_form', 12)] };
    expect(renderDigestMarkdown({ figures: noCosts, teamName: 'A', kind: 'weekly' })).not.toContain(
      '渠道成本',
    );
    const day = { ...knownFigures(), forecast: { openLeads: 3, weightedAmount: 10, byStage: [] } };
    const text = renderDigestMarkdown({ figures: day, teamName: 'A', kind: 'daily' });
    expect(text).not.toContain('预测');
    expect(text).not.toContain('渠道成本');
  });

  it('reads naturally for an empty day and an empty week', () => {
    expect(renderDigestMarkdown({ figures: emptyFigures(), teamName: '华东团队', kind: 'daily' })).toBe(
      [
        '# 华东团队日报 · 11月21日（周六）',
        '',
        '当日暂无新线索',
        '',
        '**跟进** 无逾期、回收或 SLA 超时',
      ].join('\n'),
    );
    const week: Figures = {
      ...emptyFigures(WEEK),
      forecast: { openLeads: 0, weightedAmount: 0, byStage: [] },
    };
    expect(renderDigestMarkdown({ figures: week, teamName: '华东团队', kind: 'weekly' }).split('\n')).toEqual(
      [
        '# 华东团队周报 · 11月16日–11月22日',
        '',
        '当周暂无新线索',
        '',
        '**跟进** 无逾期、回收或 SLA 超时',
        '',
        '**预测** 暂无在途线索',
      ],
    );
  });

  it('dates the period in its own timezone', () => {
    // Local midnight of Sunday 1 March 2026 in New York is 05:00 UTC.
    const period = {
      from: new Date('2026-03-01T05:00:00Z'),
      to: new Date('2026-03-02T05:00:00Z'),
      timeZone: 'America/New_York',
    };
    const text = renderDigestMarkdown({ figures: emptyFigures(period), teamName: 'NY', kind: 'daily' });
    expect(text.split('\n')[0]).toBe('# NY日报 · 3月1日（周日）');
  });

  it('uses channel display names when given', () => {
    const text = renderDigestMarkdown({
      figures: knownFigures(),
      teamName: '华东团队',
      kind: 'daily',
      channelNames: { search_ads: '搜索广告', web_form: '官网表单' },
    });
    expect(text).toContain('> 搜索广告 5 · 官网表单 4 · expo 3');
  });

  it('shows the busiest reps first and counts the rest', () => {
    const reps = Array.from({ length: 40 }, (_, i) =>
      rep(`u${i}`, `销售${i}`, { assigned: i + 1, claimed: i }),
    );
    const text = renderDigestMarkdown({ figures: { ...knownFigures(), reps }, teamName: 'T', kind: 'daily' });
    const lines = text.split('\n');
    const first = lines.indexOf('**首次响应**（中位 / P90 · 认领/分配）');
    expect(lines[first + 1]).toBe('> 销售39：暂无跟进 · 39/40');
    expect(lines[first + 2]).toBe('> 销售38：暂无跟进 · 38/39');
    expect(lines).toContain('> <font color="comment">…另有 25 人</font>');
  });
});

describe('the 4096-byte limit', () => {
  const longName = (i: number) => `${'超长名字'.repeat(7)}${String(i).padStart(2, '0')}`; // 30 characters

  function huge(): Figures {
    return {
      ...knownFigures(WEEK),
      newLeads: 50_000,
      channels: Array.from({ length: 50 }, (_, i) =>
        channel(`channel_${'x'.repeat(40)}_${i}`, 1000 + i, {
          cost: 123_456.78 + i,
          costPerLead: 123.45,
          costPerWon: 12_345.67,
          roi: 1.2345,
        }),
      ),
      reps: Array.from({ length: 200 }, (_, i) =>
        rep(`u${i}`, longName(i), {
          assigned: 1000 - i,
          claimed: 900 - i,
          claimedWithinSla: 800,
          firstResponseMedianMs: (i + 1) * 7 * MIN,
          firstResponseP90Ms: (i + 1) * 3 * HOUR,
        }),
      ),
      lossesByReason: Array.from({ length: 80 }, (_, i) => ({
        reason: `${'原因很长'.repeat(10)}${i}`,
        count: 80 - i,
      })),
      forecast: {
        openLeads: 40_000,
        weightedAmount: 987_654_321,
        byStage: [
          { stage: 'new', leads: 10_000, amount: 1e8, winRate: 0.01 },
          { stage: 'contacted', leads: 10_000, amount: 2e8, winRate: 0.05 },
          { stage: 'qualified', leads: 10_000, amount: 3e8, winRate: 0.2 },
          { stage: 'opportunity', leads: 10_000, amount: 4e8, winRate: 0.4 },
          { stage: 'nurture', leads: 10_000, amount: 5e8, winRate: 0.02 },
        ],
      },
    };
  }

  it('keeps 200 reps with 30-character names and 50 channels within 4096 bytes', () => {
    const text = renderDigestMarkdown({
      figures: huge(),
      teamName: '华东'.repeat(40),
      kind: 'weekly',
      late: true,
    });
    expect(bytes(text)).toBeLessThanOrEqual(DIGEST_MAX_BYTES);
    expectWellFormed(text);
    expect(text).toMatch(/…另有 \d+ 人/);
    expect(text).toMatch(/…另有 \d+ 个渠道/);
    // The busiest rep is kept; names are cut with …
    expect(text).toContain('> 超长名字');
    expect(text).not.toContain(longName(0));
    // The totals are never dropped.
    expect(text.split('\n')[0]).toBe(`# ${'华东'.repeat(9)}华…周报 · 11月16日–11月22日`);
    expect(text).toContain('**新线索** 50,000 条');
    expect(text).toContain('**预测**');
  });

  it('holds for the plain-text variant at 2048 bytes', () => {
    const text = renderDigestText({ figures: huge(), teamName: '华东团队', kind: 'weekly' });
    expect(bytes(text)).toBeLessThanOrEqual(2048);
    expect(text).not.toMatch(/<font|\*\*/);
    expect(text.split('\n')[0]).toBe('华东团队周报 · 11月16日–11月22日');
  });

  it('holds for any names, reasons and counts (property)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom(
        '<font color="info">',
        '**',
        '[x](http://e.com)',
        '13812345678',
        '👨‍👩‍👧‍👦'.repeat(20),
        'é'.repeat(300),
      ),
    );
    const count = fc.integer({ min: 0, max: 1_000_000 });
    const figures = fc.record({
      reps: fc.array(
        fc.record({
          name: text,
          assigned: count,
          claimed: count,
          median: fc.option(fc.integer({ min: 0, max: 1e10 })),
        }),
        { maxLength: 250 },
      ),
      channels: fc.array(
        fc.record({
          name: text,
          leads: count,
          cost: fc.option(fc.double({ min: 0, max: 1e12, noNaN: true })),
        }),
        {
          maxLength: 60,
        },
      ),
      losses: fc.array(fc.record({ reason: text, count: fc.integer({ min: 1, max: 1000 }) }), {
        maxLength: 100,
      }),
      team: text,
      weekly: fc.boolean(),
      late: fc.boolean(),
    });
    fc.assert(
      fc.property(figures, (g) => {
        const f: Figures = {
          ...knownFigures(g.weekly ? WEEK : DAY),
          newLeads: g.channels.reduce((s, c) => s + c.leads, 0),
          reps: g.reps.map((r, i) =>
            rep(`u${i}`, r.name, {
              assigned: r.assigned,
              claimed: r.claimed,
              firstResponseMedianMs: r.median,
              firstResponseP90Ms: r.median === null ? null : r.median * 2,
            }),
          ),
          channels: g.channels.map((c) =>
            channel(c.name, c.leads, {
              cost: c.cost,
              costPerLead: c.cost,
              costPerWon: null,
              roi: c.cost === null ? null : 0.5,
            }),
          ),
          lossesByReason: g.losses,
          forecast: { openLeads: 1, weightedAmount: 1, byStage: [] },
        };
        const input = {
          figures: f,
          teamName: g.team,
          kind: g.weekly ? ('weekly' as const) : ('daily' as const),
          late: g.late,
        };
        const md = renderDigestMarkdown(input);
        expect(bytes(md)).toBeLessThanOrEqual(DIGEST_MAX_BYTES);
        expectWellFormed(md);
        expect(bytes(renderDigestText(input))).toBeLessThanOrEqual(2048);
        // The one mobile among the generated strings is always masked.
        expect(md.replace(/,/g, '')).not.toMatch(/(?<!\d)1[3-9]\d{9}(?!\d)/);
      }),
      { numRuns: 150 },
    );
  });
});

/** Valid UTF-16 (no lone surrogates), and every line closes the markup it opens. */
function expectWellFormed(text: string): void {
  expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
  for (const line of text.split('\n')) {
    const opened = line.match(/<font color="(info|comment|warning)">/g)?.length ?? 0;
    expect(line.match(/<font/g)?.length ?? 0).toBe(opened);
    expect(line.match(/<\/font>/g)?.length ?? 0).toBe(opened);
    expect(line.replace(/^> /, '').replace(/<\/?font[^>]*>/g, '')).not.toMatch(/[<>[\]`]/);
    expect((line.match(/\*\*/g)?.length ?? 0) % 2).toBe(0);
    expect(line.replace(/\*\*/g, '')).not.toContain('*');
  }
}

describe('personal data in a group chat', () => {
  const PHONE_FORMS = [
    '13912345678',
    '+86 139 1234 5678',
    '+8613912345678',
    '86-139-1234-5678',
    '139 1234 5678',
    '139.1234.5678',
    '1 3 9 1 2 3 4 5 6 7 8',
    '（139）1234-5678',
    '１３９１２３４５６７８',
    '139\u200b1234\u200b5678',
    '139\n1234\n5678',
  ];

  /** The output with full-width forms folded and separators and invisible characters between digits removed. */
  function digitsJoined(text: string): string {
    return text.normalize('NFKC').replace(/(?<=\d)[\s.\-()\u200b]+(?=\d)/g, '');
  }

  it.each(PHONE_FORMS)('masks %j in a rep name, a lost reason, a channel and the team name', (phone) => {
    const figures: Figures = {
      ...knownFigures(WEEK),
      reps: [rep('u1', `张${phone}`, { assigned: 1 })],
      lossesByReason: [{ reason: `客户${phone}说太贵`, count: 1 }],
      channels: [channel(`ch${phone}`, 1, { cost: 5, costPerLead: 5, roi: 0 })],
    };
    for (const text of [
      renderDigestMarkdown({ figures, teamName: `队${phone}`, kind: 'weekly' }),
      renderDigestText({ figures, teamName: `队${phone}`, kind: 'weekly', maxBytes: 4096 }),
    ]) {
      expect(digitsJoined(text)).not.toContain('1234');
      expect(digitsJoined(text)).not.toMatch(/1[3-9]\d{9}/);
      expect(text).toMatch(/139[*＊]{4}5678/);
    }
  });

  it('masks e-mail addresses, also in full-width letters', () => {
    const figures: Figures = {
      ...knownFigures(),
      lossesByReason: [
        { reason: 'wang@corp.cn', count: 1 },
        { reason: 'ｌｉ＠ｃｏｒｐ．ｃｎ', count: 1 },
      ],
    };
    const text = renderDigestMarkdown({ figures, teamName: 'T', kind: 'daily' });
    expect(text).not.toContain('wang');
    expect(text).toContain('> w＊＊＊@corp.cn 1 · l＊＊＊@corp.cn 1');
  });

  it('leaves order numbers and counts alone', () => {
    expect(clean('订单 2023113912345678 丢了')).toBe('订单 2023113912345678 丢了');
    expect(clean('预算 12 万')).toBe('预算 12 万');
  });

  it('never lets a name open markup', () => {
    const figures: Figures = {
      ...knownFigures(),
      reps: [rep('u1', '<font color="info">假</font>**[点我](http://x.y)**`x`', { assigned: 9 })],
    };
    const text = renderDigestMarkdown({ figures, teamName: '**[点我](x)**<b>', kind: 'daily' });
    expectWellFormed(text);
    expect(text).toContain('> ＜font color…');
    expect(text.split('\n')[0]).toBe('# ＊＊［点我］(x)＊＊＜b＞日报 · 11月21日（周六）');
  });
});

describe('formatting helpers', () => {
  it.each<[number, string]>([
    [0, '不到1分钟'],
    [59_999, '不到1分钟'],
    [60_000, '1分钟'],
    [12 * MIN, '12分钟'],
    [59.4 * MIN, '59分钟'],
    [59.6 * MIN, '1小时'],
    [1.5 * HOUR, '1.5小时'],
    [2 * HOUR, '2小时'],
    [23.96 * HOUR, '1天'],
    [36 * HOUR, '1.5天'],
    [-5, '不到1分钟'],
    [Number.NaN, '不到1分钟'],
  ])('duration(%s) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it.each<[number, string]>([
    [0, '0%'],
    [0.004, '不足1%'],
    [0.8333, '83%'],
    [0.996, '99%'],
    [1, '100%'],
  ])('percent(%s) = %s', (share, text) => {
    expect(percent(share)).toBe(text);
  });

  it.each<[number, string]>([
    [0, '¥0'],
    [12.34, '¥12.3'],
    [8_500, '¥8,500'],
    [125_000, '¥12.5万'],
    [1_000_000, '¥100万'],
    [120_000_000, '¥1.2亿'],
    [-3_000, '-¥3,000'],
  ])('money(%s) = %s', (yuan, text) => {
    expect(money(yuan)).toBe(text);
  });

  it('clips by character, never inside an emoji or a multi-byte character', () => {
    expect(clip('张三', 12)).toBe('张三');
    expect(clip('一二三四五六七八九十', 5)).toBe('一二三四…');
    const family = '👨‍👩‍👧‍👦';
    expect(clip(`${family}${family}${family}`, 2)).toBe('…');
    expect(clip(`a${family}b`, 12)).toBe(`a${family}b`);
    expect(clip(`a${family}b`, 2)).toBe('a…');
  });
});
