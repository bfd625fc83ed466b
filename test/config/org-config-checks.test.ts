import { type Doc, doc, parse, problemsOf } from './org-config-fixtures';

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
      'companySizeText, budget, budgetText, need, campaign, keyword, landingPage, remark, externalId, tags, source';
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
