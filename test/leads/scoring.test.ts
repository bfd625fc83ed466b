import type { ScoringConfig } from '../../src/config/org-types';
import { gradeFor, scoreLead } from '../../src/leads/scoring';
import type { ScoringInput } from '../../src/leads/types';

const NOW = new Date('2026-11-21T01:00:00.000Z');
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);

function lead(overrides: Partial<ScoringInput> = {}): ScoringInput {
  return {
    name: null,
    phone: null,
    email: null,
    wechat: null,
    company: null,
    companyKey: null,
    title: null,
    province: null,
    city: null,
    industry: null,
    companySize: null,
    companySizeText: null,
    budget: null,
    budgetText: null,
    need: null,
    campaign: null,
    keyword: null,
    landingPage: null,
    remark: null,
    externalId: null,
    tags: [],
    custom: {},
    source: 'website',
    ...overrides,
  };
}

function config(overrides: Partial<ScoringConfig> = {}): ScoringConfig {
  return { fit: [], behaviour: [], grades: { A: 60, B: 30 }, ...overrides };
}

/** Fit points of a single rule against a lead: the rule's points if it matched, 0 if not. */
function fitOf(rule: ScoringConfig['fit'][number], input: ScoringInput): number {
  return scoreLead(input, [], config({ fit: [rule] }), NOW).fitScore;
}

describe('scoreLead: fit rules', () => {
  it('equals compares strings trimmed and case-insensitively', () => {
    const rule = { field: 'industry', equals: 'Manufacturing', points: 10 };
    expect(fitOf(rule, lead({ industry: '  manufacturing ' }))).toBe(10);
    expect(fitOf(rule, lead({ industry: 'Manufacturing Co' }))).toBe(0);
    expect(fitOf(rule, lead({ industry: null }))).toBe(0);
  });

  it('equals compares numbers and booleans strictly, never across types', () => {
    expect(fitOf({ field: 'companySize', equals: 500, points: 10 }, lead({ companySize: 500 }))).toBe(10);
    expect(fitOf({ field: 'companySize', equals: 500, points: 10 }, lead({ companySize: 501 }))).toBe(0);
    expect(fitOf({ field: 'custom.size', equals: 500, points: 10 }, lead({ custom: { size: '500' } }))).toBe(
      0,
    );
    expect(fitOf({ field: 'custom.vip', equals: true, points: 10 }, lead({ custom: { vip: true } }))).toBe(
      10,
    );
    expect(fitOf({ field: 'custom.vip', equals: true, points: 10 }, lead({ custom: { vip: 'true' } }))).toBe(
      0,
    );
  });

  it('in matches any listed value, with the same equality as equals', () => {
    const rule = { field: 'industry', in: ['制造业', '汽车', 'Electronics'], points: 10 };
    expect(fitOf(rule, lead({ industry: '汽车' }))).toBe(10);
    expect(fitOf(rule, lead({ industry: ' electronics' }))).toBe(10);
    expect(fitOf(rule, lead({ industry: '化工' }))).toBe(0);
    expect(
      fitOf({ field: 'tags', in: ['vip', '老客户'], points: 10 }, lead({ tags: ['展会', '老客户'] })),
    ).toBe(10);
    expect(fitOf({ field: 'tags', in: ['vip'], points: 10 }, lead({ tags: [] }))).toBe(0);
  });

  it('contains is a case-insensitive substring match over one or several needles', () => {
    const rule = { field: 'title', contains: ['总', 'manager'], points: 10 };
    expect(fitOf(rule, lead({ title: '副总经理' }))).toBe(10);
    expect(fitOf(rule, lead({ title: 'Plant MANAGER' }))).toBe(10);
    expect(fitOf(rule, lead({ title: '工程师' }))).toBe(0);
    expect(fitOf(rule, lead({ title: null }))).toBe(0);
    expect(fitOf({ field: 'title', contains: 'cto', points: 10 }, lead({ title: 'CTO' }))).toBe(10);
  });

  it('contains on a list field matches when any element contains a needle', () => {
    const rule = { field: 'tags', contains: '学生', points: -30 };
    expect(fitOf(rule, lead({ tags: ['展会', '大学生'] }))).toBe(-30);
    expect(fitOf(rule, lead({ tags: ['展会'] }))).toBe(0);
  });

  it('contains never matches a number', () => {
    expect(fitOf({ field: 'companySize', contains: '5', points: 10 }, lead({ companySize: 500 }))).toBe(0);
  });

  it('range is inclusive at both ends', () => {
    const rule = { field: 'companySize', range: { min: 100, max: 2000 }, points: 10 };
    expect(fitOf(rule, lead({ companySize: 99 }))).toBe(0);
    expect(fitOf(rule, lead({ companySize: 100 }))).toBe(10);
    expect(fitOf(rule, lead({ companySize: 2000 }))).toBe(10);
    expect(fitOf(rule, lead({ companySize: 2001 }))).toBe(0);
  });

  it('range with one bound is open on the other side', () => {
    expect(fitOf({ field: 'budget', range: { min: 100_000 }, points: 10 }, lead({ budget: 5e9 }))).toBe(10);
    expect(fitOf({ field: 'budget', range: { min: 100_000 }, points: 10 }, lead({ budget: 99_999 }))).toBe(0);
    expect(fitOf({ field: 'budget', range: { max: 50_000 }, points: 10 }, lead({ budget: -1 }))).toBe(10);
    expect(fitOf({ field: 'budget', range: { max: 50_000 }, points: 10 }, lead({ budget: 50_001 }))).toBe(0);
  });

  it('range never matches null or a non-number', () => {
    expect(fitOf({ field: 'budget', range: { max: 50_000 }, points: 10 }, lead({ budget: null }))).toBe(0);
    expect(
      fitOf({ field: 'custom.seats', range: { min: 1 }, points: 10 }, lead({ custom: { seats: '20' } })),
    ).toBe(0);
    expect(
      fitOf({ field: 'custom.seats', range: { min: 1 }, points: 10 }, lead({ custom: { seats: 20 } })),
    ).toBe(10);
  });

  it('exists treats null, missing, blank strings and empty lists as absent', () => {
    const present = { field: 'email', exists: true, points: 10 };
    const absent = { field: 'email', exists: false, points: 10 };
    expect(fitOf(present, lead({ email: 'a@b.cn' }))).toBe(10);
    expect(fitOf(absent, lead({ email: 'a@b.cn' }))).toBe(0);
    expect(fitOf(present, lead({ email: '   ' }))).toBe(0);
    expect(fitOf(absent, lead({ email: null }))).toBe(10);
    expect(fitOf({ field: 'tags', exists: true, points: 10 }, lead({ tags: [] }))).toBe(0);
    expect(fitOf({ field: 'tags', exists: true, points: 10 }, lead({ tags: ['x'] }))).toBe(10);
    expect(fitOf({ field: 'custom.wechat_group', exists: false, points: 10 }, lead())).toBe(10);
    expect(fitOf({ field: 'custom.paid', exists: true, points: 10 }, lead({ custom: { paid: false } }))).toBe(
      10,
    );
  });

  it('reads custom.<key> from the custom fields, and source from the top level', () => {
    const rule = { field: 'custom.purchase_timeline', equals: '3个月内', points: 10 };
    expect(fitOf(rule, lead({ custom: { purchase_timeline: '3个月内' } }))).toBe(10);
    expect(fitOf(rule, lead({ custom: { purchase_timeline: '1年内' } }))).toBe(0);
    expect(fitOf({ field: 'source', equals: 'baidu', points: 10 }, lead({ source: 'baidu' }))).toBe(10);
  });

  it('sums matched rules, lists them in the breakdown, and names unlabelled rules', () => {
    const result = scoreLead(
      lead({ industry: '汽车', companySize: 300, title: '总经理', email: 'a@b.cn' }),
      [],
      config({
        fit: [
          { field: 'industry', in: ['制造业', '汽车'], points: 20, label: '目标行业' },
          { field: 'companySize', range: { min: 100, max: 2000 }, points: 15 },
          { field: 'title', contains: ['总', '经理'], points: 10 },
          { field: 'industry', equals: '汽车', points: 2 },
          { field: 'email', exists: true, points: 3 },
          { field: 'budget', range: { min: 1 }, points: 99 },
        ],
      }),
      NOW,
    );
    expect(result).toEqual({
      score: 50,
      fitScore: 50,
      behaviourScore: 0,
      grade: 'B',
      breakdown: [
        { rule: '目标行业', points: 20 },
        { rule: 'companySize 100–2000', points: 15 },
        { rule: 'title 包含 总 / 经理', points: 10 },
        { rule: 'industry = 汽车', points: 2 },
        { rule: 'email 已填写', points: 3 },
      ],
    });
  });

  it('allows a negative total', () => {
    const result = scoreLead(
      lead({ tags: ['求职'] }),
      [],
      config({ fit: [{ field: 'tags', contains: '求职', points: -30 }] }),
      NOW,
    );
    expect(result.score).toBe(-30);
    expect(result.grade).toBe('C');
  });
});

describe('scoreLead: behaviour rules', () => {
  const pricing = { activity: 'pricing_page_view', points: 10, halfLife: '7d' };
  const behaviourOf = (
    rule: ScoringConfig['behaviour'][number],
    activities: { type: string; occurredAt: Date }[],
  ) => scoreLead(lead(), activities, config({ behaviour: [rule] }), NOW);

  it('halves the points every half-life', () => {
    expect(behaviourOf(pricing, [{ type: 'pricing_page_view', occurredAt: daysAgo(0) }]).behaviourScore).toBe(
      10,
    );
    expect(behaviourOf(pricing, [{ type: 'pricing_page_view', occurredAt: daysAgo(7) }]).behaviourScore).toBe(
      5,
    );
    expect(
      behaviourOf(pricing, [{ type: 'pricing_page_view', occurredAt: daysAgo(14) }]).behaviourScore,
    ).toBe(2.5);
    expect(
      behaviourOf(pricing, [{ type: 'pricing_page_view', occurredAt: daysAgo(21) }]).behaviourScore,
    ).toBe(1.25);
  });

  it('decays continuously: half a half-life leaves 1/√2, shown to 2 decimals, rounded into the score', () => {
    const result = behaviourOf(pricing, [{ type: 'pricing_page_view', occurredAt: daysAgo(3.5) }]);
    expect(result).toEqual({
      score: 7,
      fitScore: 0,
      behaviourScore: 7.07,
      grade: 'C',
      breakdown: [{ rule: 'pricing_page_view', points: 7.07 }],
    });
  });

  it('does not decay without a half-life', () => {
    const rule = { activity: 'demo_request', points: 30, label: '申请演示' };
    const result = behaviourOf(rule, [{ type: 'demo_request', occurredAt: daysAgo(365) }]);
    expect(result.behaviourScore).toBe(30);
    expect(result.breakdown).toEqual([{ rule: '申请演示', points: 30 }]);
  });

  it('counts a future-dated activity as brand new', () => {
    const future = new Date(NOW.getTime() + 3 * DAY);
    expect(behaviourOf(pricing, [{ type: 'pricing_page_view', occurredAt: future }]).behaviourScore).toBe(10);
  });

  it('counts only the maxCount most recent activities, whatever the input order', () => {
    const activities = [21, 0, 28, 14, 7].map((d) => ({ type: 'pricing_page_view', occurredAt: daysAgo(d) }));
    const result = behaviourOf({ ...pricing, maxCount: 3 }, activities);
    // 0d, 7d, 14d: 10 + 5 + 2.5; the 21d and 28d views do not count.
    expect(result.behaviourScore).toBe(17.5);
    expect(result.score).toBe(18);
  });

  it('counts every activity without maxCount', () => {
    const activities = [0, 7, 14, 21].map((d) => ({ type: 'pricing_page_view', occurredAt: daysAgo(d) }));
    expect(behaviourOf(pricing, activities).behaviourScore).toBe(18.75);
  });

  it('ignores other activity types and leaves rules that did not fire out of the breakdown', () => {
    const result = scoreLead(
      lead(),
      [
        { type: 'email_click', occurredAt: daysAgo(14) },
        { type: 'webinar_attended', occurredAt: daysAgo(1) },
      ],
      config({
        behaviour: [
          { activity: 'demo_request', points: 30 },
          { activity: 'email_click', points: 5, halfLife: '14d', label: '点击邮件' },
        ],
      }),
      NOW,
    );
    expect(result.behaviourScore).toBe(2.5);
    expect(result.breakdown).toEqual([{ rule: '点击邮件', points: 2.5 }]);
  });

  it('adds fit and behaviour before rounding once', () => {
    const result = scoreLead(
      lead({ industry: '汽车' }),
      [
        { type: 'pricing_page_view', occurredAt: daysAgo(3.5) },
        { type: 'demo_request', occurredAt: daysAgo(2) },
      ],
      config({
        fit: [{ field: 'industry', equals: '汽车', points: 20 }],
        behaviour: [pricing, { activity: 'demo_request', points: 30 }],
      }),
      NOW,
    );
    // 20 + 7.0710678… + 30 = 57.07… → 57.
    expect(result).toEqual({
      score: 57,
      fitScore: 20,
      behaviourScore: 37.07,
      grade: 'B',
      breakdown: [
        { rule: 'industry = 汽车', points: 20 },
        { rule: 'pricing_page_view', points: 7.07 },
        { rule: 'demo_request', points: 30 },
      ],
    });
  });

  it('never returns -0', () => {
    const result = behaviourOf({ activity: 'unsubscribe', points: -0.4 }, [
      { type: 'unsubscribe', occurredAt: daysAgo(1) },
    ]);
    expect(result.score).toBe(0);
    expect(result.behaviourScore).toBe(-0.4);
  });
});

describe('grades', () => {
  const grades = { A: 60, B: 30 };

  it.each([
    [60, 'A'],
    [59, 'B'],
    [30, 'B'],
    [29, 'C'],
    [1000, 'A'],
    [-5, 'C'],
  ] as const)('gradeFor(%d) is %s with the default thresholds', (score, grade) => {
    expect(gradeFor(score, grades)).toBe(grade);
  });

  it('uses the configured thresholds', () => {
    expect(gradeFor(80, { A: 80, B: 50 })).toBe('A');
    expect(gradeFor(79, { A: 80, B: 50 })).toBe('B');
    expect(gradeFor(49, { A: 80, B: 50 })).toBe('C');
  });

  it('grades the rounded score: 59.5 rounds to 60 and is A, 29.4 rounds to 29 and is C', () => {
    const withPoints = (points: number) =>
      scoreLead(
        lead({ industry: 'x' }),
        [],
        config({ fit: [{ field: 'industry', equals: 'x', points }] }),
        NOW,
      );
    expect(withPoints(59.5).grade).toBe('A');
    expect(withPoints(59.4).grade).toBe('B');
    expect(withPoints(30).grade).toBe('B');
    expect(withPoints(29.4).grade).toBe('C');
  });
});
