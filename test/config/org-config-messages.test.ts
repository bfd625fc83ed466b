import schema from '../../src/config/org-config.schema.json';
import { DURATION_PATTERN } from '../../src/lib/duration';
import { doc, parse, problemsOf, text } from './org-config-fixtures';

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
    d.sources[0]!.ID = 'x';
    d.sources[0]!.na = 'x';
    expect(problemsOf(d)).toEqual([
      '/members/0/wieght: 不允许的字段 "wieght" [additionalProperties]，是否想写 "weight"？',
      '/teams/0/foo: 不允许的字段 "foo" [additionalProperties]',
      '/sources/0/ID: 不允许的字段 "ID" [additionalProperties]，是否想写 "id"？',
      '/sources/0/na: 不允许的字段 "na" [additionalProperties]',
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
