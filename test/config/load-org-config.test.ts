// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${ENV} references in config text
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createOrgConfigValidator,
  formatConfigError,
  parseOrgConfig,
} from '../../src/config/load-org-config';
import schema from '../../src/config/org-config.schema.json';
import { scoreLead } from '../../src/leads/scoring';
import type { ScoringInput } from '../../src/leads/types';
import { DURATION_PATTERN } from '../../src/lib/duration';
import { ConfigError } from '../../src/lib/errors';

const validator = createOrgConfigValidator();
type Env = Record<string, string | undefined>;
type Doc = Record<string, unknown> & {
  members: Record<string, unknown>[];
  teams: Record<string, unknown>[];
  sources: Record<string, unknown>[];
};

/** A small valid config; each test breaks one thing. */
function doc(): Doc {
  return {
    members: [
      { id: 'zhang_san', name: '张三', platforms: { wecom: 'ZhangSan' } },
      { id: 'li_si', name: '李四', platforms: { dingtalk: '0421583926174561' } },
      { id: 'wang_wu', name: '王五', platforms: { wecom: 'WangWu', dingtalk: '0421583926174578' } },
    ],
    teams: [{ id: 'east', name: '华东大区', supervisor: 'zhang_san', members: ['li_si', 'wang_wu'] }],
    sources: [{ id: 'baidu', name: '百度推广', channel: 'search_ads' }],
  };
}

const text = (input: Doc | string) => (typeof input === 'string' ? input : JSON.stringify(input, null, 2));
const parse = (input: Doc | string, env: Env = {}) =>
  parseOrgConfig(text(input), 'org.jsonc', env, validator);

function problemsOf(input: Doc | string, env: Env = {}): string[] {
  try {
    parse(input, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the example config', () => {
  const examplePath = join(__dirname, '../../config/leadrelay.example.jsonc');
  const example = readFileSync(examplePath, 'utf8');

  it('passes the check with the environment variable it references', () => {
    const config = parseOrgConfig(example, examplePath, { WECOM_ROBOT_EAST: 'robot-key-east' }, validator);
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
    expect((config as unknown as { digest: unknown }).digest).toEqual({
      robots: { east: { wecom: 'robot-key-east' } },
    });
  });

  it('names the unset environment variable and where it is used', () => {
    expect(() => parseOrgConfig(example, examplePath, {}, validator)).toThrow(
      new ConfigError(examplePath, [
        { path: '/digest/robots/east/wecom', message: '环境变量 WECOM_ROBOT_EAST 未设置' },
      ]),
    );
  });

  it('grades a typical target customer A with its scoring rules', () => {
    const config = parseOrgConfig(example, examplePath, { WECOM_ROBOT_EAST: 'k' }, validator);
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

describe('${ENV} interpolation', () => {
  it('replaces a whole string, part of a string and several references', () => {
    const d = doc();
    d.members[0]!.name = '${REP_NAME}';
    d.teams[0]!.name = '${REGION}大区 (${REGION_EN})';
    const config = parse(d, { REP_NAME: '张三丰', REGION: '华东', REGION_EN: 'East' });
    expect(config.members[0]!.name).toBe('张三丰');
    expect(config.teams[0]!.name).toBe('华东大区 (East)');
  });

  it('turns $${X} into a literal ${X} without looking X up', () => {
    const d = doc();
    d.teams[0]!.name = '$${REGION} and ${REGION}';
    expect(parse(d, { REGION: '华东' }).teams[0]!.name).toBe('${REGION} and 华东');
  });

  it('names the JSON path of every unset variable', () => {
    const d = doc();
    d.members[1]!.name = '${REP_NAME}';
    d.digest = { robots: { east: { wecom: 'key=${WECOM_ROBOT_EAST}' } } };
    expect(problemsOf(d, { UNRELATED: 'x' })).toEqual([
      '/members/1/name: 环境变量 REP_NAME 未设置',
      '/digest/robots/east/wecom: 环境变量 WECOM_ROBOT_EAST 未设置',
    ]);
  });

  it('rejects a malformed reference instead of leaving it in place', () => {
    const d = doc();
    d.teams[0]!.name = '${region}';
    d.sources[0]!.name = '${OPEN';
    expect(problemsOf(d)).toEqual([
      '/teams/0/name: 无效的环境变量引用 "${region}"：应写作 ${NAME}（大写字母、数字、下划线）；字面量请写 $${...}',
      '/sources/0/name: 无效的环境变量引用 "${OPEN"：应写作 ${NAME}（大写字母、数字、下划线）；字面量请写 $${...}',
    ]);
  });

  it('validates the interpolated value, and reports an unset one only once', () => {
    const d = doc();
    d.timezone = '${ORG_TZ}';
    expect(problemsOf(d, { ORG_TZ: 'Mars/Olympus' })).toEqual([
      '/timezone: 无效的时区 "Mars/Olympus"：应为 IANA 时区名，如 Asia/Shanghai [timezone]',
    ]);
    expect(problemsOf(d)).toEqual(['/timezone: 环境变量 ORG_TZ 未设置']);
    expect(parse(d, { ORG_TZ: 'Asia/Urumqi' }).teams[0]!.timezone).toBe('Asia/Urumqi');
  });

  it('leaves keys alone', () => {
    const d = doc();
    d.digest = { '${KEY}': 'v' };
    expect((parse(d, { KEY: 'k' }) as unknown as { digest: unknown }).digest).toEqual({ '${KEY}': 'v' });
  });
});

describe('schema rules', () => {
  it('names a missing required field at the object that lacks it', () => {
    const d = doc();
    delete d.members[2]!.platforms;
    expect(problemsOf(d)).toEqual(['/members/2: 缺少必填字段 "platforms" [required]']);
  });

  it('names an unknown field at its own path, suggesting a near miss', () => {
    const d = doc();
    d.teams[0]!.foo = 1;
    d.members[0]!.wieght = 2;
    expect(problemsOf(d)).toEqual([
      '/members/0/wieght: 不允许的字段 "wieght" [additionalProperties]，是否想写 "weight"？',
      '/teams/0/foo: 不允许的字段 "foo" [additionalProperties]',
    ]);
  });

  it('rejects unknown root sections but accepts the future ones as objects, and $schema/$comment', () => {
    const d = doc();
    Object.assign(d, {
      $schema: './org-config.schema.json',
      $comment: '华东试点',
      routing: { rules: [] },
      sla: {},
      calendars: {},
      digest: {},
      pool: {},
      conversation: {},
      platforms: { wecom: { corpId: 'ww1' } },
    });
    expect(parse(d).members.length).toBe(3);
    expect(problemsOf({ ...doc(), rooting: {}, sla: [] })).toEqual([
      '/rooting: 不允许的字段 "rooting" [additionalProperties]，是否想写 "routing"？',
      '/sla: 类型应为对象，实际为数组 [type]',
    ]);
  });

  it('keeps a "__proto__" key as a rejected field rather than a prototype', () => {
    const input = text(doc()).replace(
      '"id": "zhang_san"',
      '"__proto__": {"active": false}, "id": "zhang_san"',
    );
    expect(problemsOf(input)).toEqual([
      '/members/0/__proto__: 不允许的字段 "__proto__" [additionalProperties]',
    ]);
  });

  it('explains numeric limits and types', () => {
    const d = doc();
    d.scoring = { grades: { A: -1, B: 'thirty' } };
    d.members[0]!.capacity = { openLeads: 2.5 };
    expect(problemsOf(d)).toEqual([
      '/members/0/capacity/openLeads: 类型应为整数，实际为数字 [type]',
      '/scoring/grades/A: 必须 >= 0 [minimum]',
      '/scoring/grades/B: 类型应为数字，实际为字符串 [type]',
    ]);
  });

  it('explains the id and duration formats with the offending value', () => {
    const d = doc();
    d.sources[0]!.id = 'Baidu Ads';
    d.scoring = { behaviour: [{ activity: 'pricing_page_view', points: 10, halfLife: '7 days' }] };
    expect(problemsOf(d)).toEqual([
      '/sources/0/id: "Baidu Ads" 不是合法的 id：只能用小写字母、数字、_ 和 -，以字母或数字开头，最长 64 个字符 [pattern]',
      '/scoring/behaviour/0/halfLife: "7 days" 不是合法的时长：应写作 30s、5m、2h、1d、2w，或组合如 1h30m [pattern]',
    ]);
  });

  it('requires at least one platform account per member', () => {
    const d = doc();
    d.members[0]!.platforms = {};
    d.members[1]!.platforms = { feishu: 'x' };
    expect(problemsOf(d)).toEqual([
      '/members/0/platforms: 缺少 wecom / dingtalk 之一 [anyOf]',
      '/members/1/platforms: 缺少 wecom / dingtalk 之一 [anyOf]',
      '/members/1/platforms/feishu: 不允许的字段 "feishu" [additionalProperties]',
    ]);
  });

  it('gives one message for a fit rule with no condition or with two', () => {
    const d = doc();
    d.scoring = {
      fit: [
        { field: 'industry', points: 10 },
        { field: 'industry', equals: '汽车', in: ['电子'], points: 10 },
        { field: 'industry', contains: '制造', points: 10 },
      ],
    };
    expect(problemsOf(d)).toEqual([
      '/scoring/fit/0: 缺少 equals / in / contains / range / exists 之一 [oneOf]',
      '/scoring/fit/1: equals 和 in 只能写一个 [oneOf]',
    ]);
  });

  it('points at the second copy of a repeated team member', () => {
    const d = doc();
    d.teams[0]!.members = ['li_si', 'wang_wu', 'li_si'];
    expect(problemsOf(d)).toEqual(['/teams/0/members/2: 与 /teams/0/members/0 重复 [uniqueItems]']);
  });

  it('uses the duration pattern of src/lib/duration.ts', () => {
    expect(schema.definitions.duration.pattern).toBe(DURATION_PATTERN);
  });
});

describe('cross-reference checks', () => {
  it('rejects duplicate member, team and source ids', () => {
    const d = doc();
    d.members.push({ id: 'li_si', name: '李四二', platforms: { wecom: 'LiSi2' } });
    d.teams.push({ id: 'east', name: '华东二部', supervisor: 'zhang_san', members: ['wang_wu'] });
    d.sources.push({ id: 'baidu', name: '百度信息流', channel: 'social_ads' });
    expect(problemsOf(d)).toEqual([
      '/members/3/id: id "li_si" 重复，已用于 /members/1 [unique]',
      '/teams/1/id: id "east" 重复，已用于 /teams/0 [unique]',
      '/sources/1/id: id "baidu" 重复，已用于 /sources/0 [unique]',
    ]);
  });

  it('requires supervisor, director and team members to be defined members', () => {
    const d = doc();
    d.teams.push({
      id: 'south',
      name: '华南大区',
      supervisor: 'huang_xiaoyan',
      director: 'zhou_zhiming',
      members: ['li_si', 'wang_wu', 'zhang_san', 'lin_zhiqiang'],
    });
    expect(problemsOf(d)).toEqual([
      '/teams/1/supervisor: 成员 "huang_xiaoyan" 不存在，请先在 members 中定义 [ref]',
      '/teams/1/director: 成员 "zhou_zhiming" 不存在，请先在 members 中定义 [ref]',
      '/teams/1/members/3: 成员 "lin_zhiqiang" 不存在，请先在 members 中定义 [ref]',
    ]);
  });

  it('rejects a departed supervisor or director, but keeps departed reps on the team', () => {
    const d = doc();
    d.members[0]!.active = false;
    d.members[1]!.active = false;
    d.teams[0]!.director = 'zhang_san';
    expect(problemsOf(d)).toEqual([
      '/teams/0/supervisor: 成员 "zhang_san" 已停用 (active: false)，不能担任主管 [ref]',
      '/teams/0/director: 成员 "zhang_san" 已停用 (active: false)，不能担任总监 [ref]',
    ]);
  });

  it('checks org and team timezones against the IANA database', () => {
    const d = doc();
    d.timezone = 'Asia/Beijing';
    d.teams[0]!.timezone = 'GMT+8';
    expect(problemsOf(d)).toEqual([
      '/timezone: 无效的时区 "Asia/Beijing"：应为 IANA 时区名，如 Asia/Shanghai [timezone]',
      '/teams/0/timezone: 无效的时区 "GMT+8"：应为 IANA 时区名，如 Asia/Shanghai [timezone]',
    ]);
  });

  it('fills a team timezone from the org and canonicalises letter case', () => {
    const d = doc();
    d.timezone = 'asia/urumqi';
    d.teams.push({
      id: 'hk',
      name: '香港',
      timezone: 'Asia/Hong_Kong',
      supervisor: 'zhang_san',
      members: ['li_si'],
    });
    const config = parse(d);
    expect(config.timezone).toBe('Asia/Urumqi');
    expect(config.teams.map((t) => t.timezone)).toEqual(['Asia/Urumqi', 'Asia/Hong_Kong']);
  });

  it('requires grade A above grade B', () => {
    const d = doc();
    d.scoring = { grades: { A: 30, B: 30 } };
    expect(problemsOf(d)).toEqual(['/scoring/grades: A 档分数线 (30) 必须高于 B 档 (30) [grades]']);
    d.scoring = { grades: { B: 70 } };
    expect(problemsOf(d)).toEqual(['/scoring/grades: A 档分数线 (60) 必须高于 B 档 (70) [grades]']);
  });

  it('rejects one platform user id on two members (WeCom ignoring case)', () => {
    const d = doc();
    d.members[1]!.platforms = { wecom: 'zhangsan', dingtalk: '0421583926174578' };
    d.members.push({ id: 'zhao_liu', name: '赵六', platforms: { dingtalk: '0421583926174578' } });
    expect(problemsOf(d)).toEqual([
      '/members/1/platforms/wecom: 企业微信 userid "zhangsan" 已被 /members/0 使用 [unique]',
      '/members/2/platforms/dingtalk: 钉钉 userId "0421583926174578" 已被 /members/1 使用 [unique]',
      '/members/3/platforms/dingtalk: 钉钉 userId "0421583926174578" 已被 /members/1 使用 [unique]',
    ]);
  });

  it('compares DingTalk user ids exactly', () => {
    const d = doc();
    d.members[0]!.platforms = { dingtalk: 'Manager7' };
    d.members[1]!.platforms = { dingtalk: 'manager7' };
    expect(parse(d).members.map((m) => m.platforms.dingtalk)).toEqual([
      'Manager7',
      'manager7',
      '0421583926174578',
    ]);
  });

  it('rejects a zero half-life and a behaviour listed twice', () => {
    const d = doc();
    d.scoring = {
      behaviour: [
        { activity: 'email_click', points: 5, halfLife: '0d' },
        { activity: 'demo_request', points: 30 },
        { activity: 'email_click', points: 3 },
      ],
    };
    expect(problemsOf(d)).toEqual([
      '/scoring/behaviour/0/halfLife: 半衰期必须大于 0 [duration]',
      '/scoring/behaviour/2/activity: 行为 "email_click" 已在 /scoring/behaviour/0 定义，重复会重复计分 [unique]',
    ]);
  });

  it('checks fit rule fields, range fields and range bounds', () => {
    const d = doc();
    d.scoring = {
      fit: [
        { field: 'industy', equals: '汽车', points: 10 },
        { field: 'title', range: { min: 1 }, points: 10 },
        { field: 'budget', range: { min: 500, max: 100 }, points: 10 },
        { field: 'custom.seats', range: { min: 10 }, points: 10 },
        { field: 'custom', exists: true, points: 10 },
      ],
    };
    const fields =
      'name, phone, email, wechat, company, companyKey, title, province, city, industry, companySize, ' +
      'companySizeText, budget, need, campaign, keyword, landingPage, remark, externalId, tags, source';
    expect(problemsOf(d)).toEqual([
      `/scoring/fit/0/field: 未知的字段 "industy"（是否想写 "industry"？）：可用 ${fields} 或 custom.<key> [field]`,
      '/scoring/fit/1/range: range 只能用于数值字段 (companySize, budget, custom.<key>)，"title" 不是 [range]',
      '/scoring/fit/2/range: min (500) 不能大于 max (100) [range]',
      `/scoring/fit/4/field: 未知的字段 "custom"：可用 ${fields} 或 custom.<key> [field]`,
    ]);
  });

  it('lists every problem of a file in one error', () => {
    const d = doc();
    delete d.members[0]!.name;
    d.teams[0]!.supervisor = 'nobody';
    d.sources[0]!.channel = 'Search Ads';
    expect(problemsOf(d)).toEqual([
      '/members/0: 缺少必填字段 "name" [required]',
      '/sources/0/channel: "Search Ads" 不是合法的 id：只能用小写字母、数字、_ 和 -，以字母或数字开头，最长 64 个字符 [pattern]',
      '/teams/0/supervisor: 成员 "nobody" 不存在，请先在 members 中定义 [ref]',
    ]);
  });

  it('still runs the cross-reference checks on a structurally broken file', () => {
    const input = {
      members: 'nope',
      teams: [null, { id: 'x', supervisor: 'ghost' }],
      sources: {},
    } as unknown as Doc;
    expect(problemsOf(input)).toEqual([
      '/members: 类型应为数组，实际为字符串 [type]',
      '/teams/0: 类型应为对象，实际为null [type]',
      '/teams/1: 缺少必填字段 "name" [required]',
      '/teams/1: 缺少必填字段 "members" [required]',
      '/sources: 类型应为数组，实际为对象 [type]',
      '/teams/1/supervisor: 成员 "ghost" 不存在，请先在 members 中定义 [ref]',
    ]);
  });
});

describe('the result', () => {
  it('has every default filled in', () => {
    expect(parse(doc())).toEqual({
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
        },
        {
          id: 'li_si',
          name: '李四',
          platforms: { dingtalk: '0421583926174561' },
          capacity: { openLeads: 200, dailyNew: 50 },
          weight: 1,
          skills: [],
          active: true,
        },
        {
          id: 'wang_wu',
          name: '王五',
          platforms: { wecom: 'WangWu', dingtalk: '0421583926174578' },
          capacity: { openLeads: 200, dailyNew: 50 },
          weight: 1,
          skills: [],
          active: true,
        },
      ],
      teams: [
        {
          id: 'east',
          name: '华东大区',
          timezone: 'Asia/Shanghai',
          supervisor: 'zhang_san',
          members: ['li_si', 'wang_wu'],
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
