import { checkRouting, routingOf } from '../../src/config/sections/routing';
import { ConfigError } from '../../src/lib/errors';
import { parseOrg, routingDoc } from './routing-fixtures';

type Loose = Record<string, unknown>;

function withRouting(routing: unknown): Loose {
  return { ...routingDoc(), routing };
}

/** Schema problems (the loader) plus the section's own check, as `path: message`. */
function problemsOf(doc: Loose): string[] {
  const out: string[] = [];
  try {
    parseOrg(doc);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.push(...err.problems.map((p) => `${p.path}: ${p.message}`));
  }
  out.push(...checkRouting(doc).map((p) => `${p.path}: ${p.message}`));
  return out;
}

describe('the routing section schema', () => {
  it('accepts the fixture and fills the defaults', () => {
    const org = parseOrg();
    const routing = routingOf(org);
    expect(routing.stickyOwner).toBe(true);
    expect(routing.rules.map((r) => r.team)).toEqual(['south', 'cap', 'south', 'cap']);
    expect(checkRouting(routingDoc())).toEqual([]);
    const minimal = parseOrg(withRouting({ fallbackTeam: 'south' }));
    expect(routingOf(minimal)).toEqual({ rules: [], fallbackTeam: 'south', stickyOwner: true });
    // Without a fallback the first team takes what no rule matches.
    const noFallback = parseOrg(withRouting({ rules: [] }));
    expect(routingOf(noFallback)).toEqual({ rules: [], fallbackTeam: 'east', stickyOwner: true });
  });

  it('without a routing section sends everything to the first team', () => {
    const { routing: _dropped, ...doc } = routingDoc();
    expect(routingOf(parseOrg(doc))).toEqual({ rules: [], fallbackTeam: 'east', stickyOwner: true });
  });

  it('is strict: unknown fields, bad grades and empty lists are refused', () => {
    const problems = problemsOf(
      withRouting({
        rules: [
          { match: { provence: ['江苏'] }, team: 'east' },
          { match: { grade: ['D'], city: [] }, team: 'east' },
          { match: { custom: { vip: [{ nested: true }] } }, team: 'east' },
          { match: { source: 'baidu' }, team: 'Bad Team' },
        ],
        stickyOwner: 'yes',
        windowHours: 0,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/routing\/rules\/0\/match\/provence: 不允许的字段 "provence".*"province"/),
        '/routing/rules/1/match/grade/0: 必须是以下之一：A, B, C [enum]',
        '/routing/rules/1/match/city: 至少需要 1 项 [minItems]',
        '/routing/rules/2/match/custom/vip/0: 类型应为字符串或数字或布尔值，实际为对象 [type]',
        '/routing/rules/3/match/source: 类型应为数组，实际为字符串 [type]',
        expect.stringMatching(/^\/routing\/rules\/3\/team: "Bad Team" 不是合法的 id/),
        '/routing/stickyOwner: 类型应为布尔值，实际为字符串 [type]',
        '/routing/windowHours: 必须 >= 1 [minimum]',
      ]),
    );
  });

  it('refuses a match without conditions', () => {
    const problems = problemsOf(withRouting({ rules: [{ match: {}, team: 'east' }], fallbackTeam: 'east' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/routing\/rules\/0\/match: 至少需要 1 个字段，可选：province, city/),
        expect.stringMatching(/^\/routing\/rules\/0\/match: 匹配条件为空.*\[match\]$/),
      ]),
    );
  });
});

describe('checkRouting', () => {
  it('names teams that do not exist, with a hint for a typo', () => {
    const problems = checkRouting(
      withRouting({
        rules: [{ match: { province: ['江苏'] }, team: 'soth' }],
        fallbackTeam: 'west',
      }),
    );
    expect(problems).toEqual([
      { path: '/routing/fallbackTeam', message: '团队 "west" 不存在，请先在 teams 中定义 [ref]' },
      {
        path: '/routing/rules/0/team',
        message: '团队 "soth" 不存在（是否想写 "south"？），请先在 teams 中定义 [ref]',
      },
    ]);
  });

  it('names unknown sources, duplicate rule names and empty conditions', () => {
    const problems = checkRouting(
      withRouting({
        rules: [
          { name: 'r', match: { source: ['baidu', 'baido'] }, team: 'east' },
          { name: 'r', match: { custom: {} }, team: 'east' },
          { match: { custom: { vip: [] } }, team: 'east' },
        ],
        fallbackTeam: 'east',
      }),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      '/routing/rules/0/match/source/1: 来源 "baido" 不存在（是否想写 "baidu"？），可用：website, baidu [ref]',
      '/routing/rules/1/name: 规则名 "r" 已用于 /routing/rules/0，时间线和报表将无法区分 [unique]',
      '/routing/rules/1/match: 匹配条件为空，会匹配所有线索并使后面的规则失效；兜底请用 fallbackTeam [match]',
      '/routing/rules/2/match/custom/vip: 自定义字段 "vip" 没有列出任何值，该规则永远不会匹配 [match]',
    ]);
  });

  it('reads a broken section defensively', () => {
    expect(checkRouting({ routing: 'nope' })).toEqual([]);
    expect(checkRouting({ routing: { rules: [null, 3, { match: null }] } })).toEqual([]);
  });
});
