import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatConfigError, loadOrgConfig, parseOrgConfig } from '../../src/config/load-org-config';
import { scoreLead } from '../../src/leads/scoring';
import type { ScoringInput } from '../../src/leads/types';
import { ConfigError } from '../../src/lib/errors';
import { doc, type Env, parse, problemsOf, text, validator } from './org-config-fixtures';

describe('the example config', () => {
  const examplePath = join(__dirname, '../../config/leadrelay.example.jsonc');
  const example = readFileSync(examplePath, 'utf8');

  it('passes the check with no environment variables set', () => {
    const config = parseOrgConfig(example, examplePath, {}, validator);
    expect(config.members.map((m) => m.id)).toEqual([
      'zhou_zhiming',
      'chen_jianguo',
      'wang_lei',
      'li_na',
      'zhang_wei',
      'liu_yang',
      'huang_xiaoyan',
      'lin_zhiqiang',
      'wu_ting',
      'zheng_hao',
      'zhao_min',
    ]);
    expect(config.teams.map((t) => [t.id, t.supervisor, t.director, t.timezone, t.members.length])).toEqual([
      ['east', 'chen_jianguo', 'zhou_zhiming', 'Asia/Shanghai', 4],
      ['south', 'huang_xiaoyan', 'zhou_zhiming', 'Asia/Shanghai', 3],
    ]);
    expect(config.sources.map((s) => `${s.id}:${s.channel}`)).toEqual([
      'baidu:search_ads',
      'douyin:social_ads',
      'website:web_form',
      'trade_show:trade_show',
      'referral:referral',
    ]);
    expect(config.scoring.behaviour).toEqual([
      { activity: 'pricing_page_view', points: 10, halfLife: '7d', maxCount: 3, label: '查看价格页' },
      { activity: 'demo_request', points: 30, label: '申请演示' },
      { activity: 'email_click', points: 5, halfLife: '14d', label: '点击营销邮件' },
      { activity: 'webinar_attended', points: 15, label: '参加线上研讨会' },
    ]);
    expect(config.scoring.grades).toEqual({ A: 60, B: 30 });
  });

  it('looks up no environment variable', () => {
    const looked: PropertyKey[] = [];
    const env = new Proxy<Env>({}, { get: (_, name) => void looked.push(name) });
    parseOrgConfig(example, examplePath, env, validator);
    expect(looked).toEqual([]);
  });

  it('loads from disk with an empty environment', () => {
    expect(loadOrgConfig(examplePath, {}, validator).teams.map((t) => t.id)).toEqual(['east', 'south']);
  });

  it('grades a typical target customer A with its scoring rules', () => {
    const config = parseOrgConfig(example, examplePath, {}, validator);
    const input: ScoringInput = {
      name: '孙总',
      phone: '+8613812345678',
      email: null,
      wechat: null,
      company: '苏州精工机械有限公司',
      companyKey: '苏州精工机械',
      title: '总经理',
      province: '江苏',
      city: '苏州',
      industry: '制造业',
      companySize: 300,
      companySizeText: '100-499人',
      budget: 500_000,
      budgetText: null,
      need: null,
      campaign: null,
      keyword: 'mes系统',
      landingPage: null,
      remark: null,
      externalId: null,
      tags: [],
      custom: {},
      source: 'baidu',
    };
    const result = scoreLead(input, [], config.scoring, new Date('2026-11-21T01:00:00Z'));
    // 目标行业 20 + 中型企业 15 + 决策层 10 + 华东地区 5 + 预算 15 + 手机号 5.
    expect([result.score, result.grade]).toEqual([70, 'A']);
  });
});

describe('parsing', () => {
  it('accepts comments and trailing commas', () => {
    const config = parse(`{
      // 成员 / members
      "members": [{ "id": "a", "name": "甲", "platforms": { "wecom": "A" }, }],
      /* 团队 */
      "teams": [{ "id": "t", "name": "T", "supervisor": "a", "members": ["a",], }],
      "sources": [],
    }`);
    expect(config.members.map((m) => m.id)).toEqual(['a']);
    expect(config.teams[0]!.members).toEqual(['a']);
  });

  it('reports a syntax error with its line and column', () => {
    expect(problemsOf('{\n  "members": [\n    { "id": "a" "name": "x" }\n  ]\n}')).toEqual([
      '3:17: JSON 语法错误：缺少逗号 [CommaExpected]',
    ]);
    expect(problemsOf('')).toEqual(['1:1: JSON 语法错误：缺少值 [ValueExpected]']);
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(parse(`\uFEFF${text(doc())}`).members.length).toBe(3);
  });

  it('reports a key written twice', () => {
    expect(problemsOf('{"members": [], "teams": [], "sources": [], "members": []}')).toEqual([
      '/members: 字段 "members" 重复出现，后一个会覆盖前一个 [duplicateKey]',
      '/teams: 至少需要 1 项 [minItems]',
    ]);
  });
});

describe('the result', () => {
  it('fills the SLA and pool sections with the field defaults of PRODUCT.md', () => {
    const config = parse(doc());
    expect(config.pool).toEqual({
      maxGrabsPerDay: 20,
      maxOpenLeads: 200,
      reclaimCooldown: '3d',
      offerToTeam: true,
    });
    expect(config.sla.policies.A).toMatchObject({
      clock: 'wall',
      claimWithin: '5m',
      unclaimedEscalation: [
        { after: '2h', notify: 'supervisor' },
        { after: '4h', notify: 'director' },
      ],
      recycleAfter: '24h',
      recycleWarningBefore: '2h',
      stagnationAfter: '7d',
      cadence: '7d',
    });
    expect([config.sla.policies.B.cadence, config.sla.policies.C.cadence]).toEqual(['14d', '30d']);
  });

  it('has every default filled in', () => {
    // The feature sections' defaults are checked on their own (above; stages and conversation in
    // stages-config.test.ts).
    const {
      sla: _sla,
      pool: _pool,
      stages: _stages,
      conversation: _conversation,
      privacy: _privacy,
      ...rest
    } = parse(doc());
    expect(rest).toEqual({
      timezone: 'Asia/Shanghai',
      members: [
        {
          id: 'zhang_san',
          name: '张三',
          platforms: { wecom: 'ZhangSan' },
          capacity: { openLeads: 200, dailyNew: 50 },
          weight: 1,
          skills: [],
          active: true,
          language: 'zh',
        },
        {
          id: 'li_si',
          name: '李四',
          platforms: { dingtalk: '0421583926174561' },
          capacity: { openLeads: 200, dailyNew: 50 },
          weight: 1,
          skills: [],
          active: true,
          language: 'zh',
        },
        {
          id: 'wang_wu',
          name: '王五',
          platforms: { wecom: 'WangWu', dingtalk: '0421583926174578' },
          capacity: { openLeads: 200, dailyNew: 50 },
          weight: 1,
          skills: [],
          active: true,
          language: 'zh',
        },
      ],
      teams: [
        {
          id: 'east',
          name: '华东大区',
          timezone: 'Asia/Shanghai',
          supervisor: 'zhang_san',
          members: ['li_si', 'wang_wu'],
          digest: { enabled: true, cron: '5 9 * * *', weeklyCron: '5 9 * * 1' },
        },
      ],
      sources: [{ id: 'baidu', name: '百度推广', channel: 'search_ads' }],
      scoring: { fit: [], behaviour: [], grades: { A: 60, B: 30 } },
    });
  });

  it('fills defaults inside a partly written section', () => {
    const d = doc();
    d.members[0]!.capacity = { openLeads: 80 };
    d.scoring = { grades: { A: 70 } };
    const config = parse(d);
    expect(config.members[0]!.capacity).toEqual({ openLeads: 80, dailyNew: 50 });
    expect(config.scoring).toEqual({ fit: [], behaviour: [], grades: { A: 70, B: 30 } });
  });

  it('is deeply frozen', () => {
    const config = parse(doc());
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.members[0]!.capacity)).toBe(true);
    expect(Object.isFrozen(config.teams[0]!.members)).toBe(true);
    expect(() => {
      (config.members[0]!.capacity as { openLeads: number }).openLeads = 1;
    }).toThrow(TypeError);
    expect(() => config.scoring.fit.push({ field: 'industry', exists: true, points: 1 })).toThrow(TypeError);
  });

  it('does not share default objects between members or between loads', () => {
    const first = parse(doc());
    const second = parse(doc());
    expect(first.members[0]!.skills).not.toBe(first.members[1]!.skills);
    expect(first.members[0]!.capacity).not.toBe(second.members[0]!.capacity);
  });
});

describe('formatConfigError', () => {
  it('prints one numbered line per problem under a header', () => {
    const err = new ConfigError('config/leadrelay.jsonc', [
      { path: '/members/2', message: '缺少必填字段 "platforms" [required]' },
      { path: '/teams/0/foo', message: '不允许的字段 "foo" [additionalProperties]' },
    ]);
    expect(formatConfigError(err)).toBe(
      [
        '配置文件 config/leadrelay.jsonc 有 2 个问题 (2 problems):',
        '  1. /members/2: 缺少必填字段 "platforms" [required]',
        '  2. /teams/0/foo: 不允许的字段 "foo" [additionalProperties]',
      ].join('\n'),
    );
  });

  it('uses the singular and leaves out an empty path', () => {
    const err = new ConfigError('org.jsonc', [{ path: '', message: '无法读取配置文件：ENOENT' }]);
    expect(formatConfigError(err)).toBe(
      '配置文件 org.jsonc 有 1 个问题 (1 problem):\n  1. 无法读取配置文件：ENOENT',
    );
  });
});
