import { join } from 'node:path';
import schema from '../../cards/schema.json';
import { FORMATTER_NAMES } from '../../src/cards/formatters';
import { CardTemplateError, loadCardTemplates, REQUIRED_CARD_TEMPLATES } from '../../src/cards/load-cards';
import { cardsDir, cleanUp, problemsOf, SHIPPED_CARDS } from './card-fixtures';

type Button = { actionId: string; text: string; style: string };
type Field = { label: string; value: string };

afterEach(cleanUp);

describe('the shipped card templates', () => {
  it('load, and include every required template', () => {
    const templates = loadCardTemplates(SHIPPED_CARDS);
    expect(Object.keys(templates).sort()).toEqual([...REQUIRED_CARD_TEMPLATES].sort());
  });

  it('come back frozen, down to the buttons', () => {
    const templates = loadCardTemplates(SHIPPED_CARDS);
    expect(Object.isFrozen(templates)).toBe(true);
    expect(Object.isFrozen(templates['new-lead']!.buttons[0])).toBe(true);
    expect(templates['new-lead']).not.toHaveProperty('$schema');
  });

  it('carry the buttons the domain handles', () => {
    const templates = loadCardTemplates(SHIPPED_CARDS);
    const buttons = Object.fromEntries(
      Object.entries(templates).map(([name, t]) => [name, t.buttons.map((b) => `${b.actionId}:${b.text}`)]),
    );
    expect(buttons).toEqual({
      'new-lead': ['claim:认领', 'release:退回公海'],
      'pool-offer': ['grab:抢单'],
      escalation: ['reassign_next:改派给下一位', 'take_over:我来跟进'],
      reminder: ['followed_up:已跟进', 'snooze_1d:推迟一天'],
      detail: ['followed_up:已跟进', 'snooze_1d:推迟一天'],
      claimed: [],
      closed: [],
    });
  });

  it('load again from a fresh copy (no state kept between calls)', () => {
    expect(problemsOf(cardsDir())).toEqual([]);
    expect(loadCardTemplates(SHIPPED_CARDS)).toEqual(loadCardTemplates(SHIPPED_CARDS));
  });
});

describe('schema.json', () => {
  it('lists exactly the formatters the renderer knows', () => {
    const pattern = schema.definitions.templateText.pattern;
    expect(pattern).toContain(`(?:${FORMATTER_NAMES.join('|')})`);
  });
});

describe('a broken template is reported with file, JSON path and rule', () => {
  it('7 buttons', () => {
    const dir = cardsDir({
      'new-lead': (t) => ({
        ...t,
        buttons: Array.from({ length: 7 }, (_, i) => ({
          actionId: `a${i}`,
          text: `按钮${i}`,
          style: 'default',
        })),
      }),
    });
    expect(problemsOf(dir)).toEqual(['new-lead.json: /buttons: 最多 6 个按钮 [maxItems]']);
  });

  it('7 field rows', () => {
    const dir = cardsDir({
      reminder: (t) => ({
        ...t,
        fields: [...(t.fields as Field[]), { label: '行业', value: '{{lead.industry}}' }],
      }),
    });
    expect(problemsOf(dir)).toEqual(['reminder.json: /fields: 最多 6 行 [maxItems]']);
  });

  it('a bad actionId', () => {
    const dir = cardsDir({
      'pool-offer': (t) => ({ ...t, buttons: [{ actionId: 'Grab-Now', text: '抢单', style: 'primary' }] }),
    });
    expect(problemsOf(dir)).toEqual([
      'pool-offer.json: /buttons/0/actionId: "Grab-Now" 不是合法的 actionId：以小写字母开头，只能用小写字母、数字和 _，最长 32 个字符 [pattern]',
    ]);
  });

  it('button text over 10 characters, and a placeholder in button text', () => {
    const dir = cardsDir({
      'new-lead': (t) => {
        const [claim, release] = t.buttons as Button[];
        return {
          ...t,
          buttons: [
            { ...claim, text: '{{x}}认领' },
            { ...release, text: '退回公海让其他同事来跟进' },
          ],
        };
      },
    });
    expect(problemsOf(dir)).toEqual([
      'new-lead.json: /buttons/0/text: "{{x}}认领" 不能有占位符或花括号：这里只能写固定文字 [pattern]',
      'new-lead.json: /buttons/1/text: 最多 10 个字符 [maxLength]',
    ]);
  });

  it('an unknown formatter, named once (not also as a schema pattern failure)', () => {
    const dir = cardsDir({
      'pool-offer': (t) => {
        const fields = [...(t.fields as Field[])];
        fields[1] = { label: '电话', value: '{{lead.phone | maskphone}}' };
        fields[4] = { label: '需求', value: '{{lead.need | upper}}' };
        return { ...t, fields };
      },
    });
    expect(problemsOf(dir)).toEqual([
      'pool-offer.json: /fields/1/value: 占位符 {{lead.phone | maskphone}} 用了未知的格式 "maskphone"，是否想写 "maskPhone"？（可用：maskPhone, maskName, redact, time, duration） [unknownFormatter]',
      'pool-offer.json: /fields/4/value: 占位符 {{lead.need | upper}} 用了未知的格式 "upper"（可用：maskPhone, maskName, redact, time, duration） [unknownFormatter]',
    ]);
  });

  it('an unknown placeholder root, and an unknown key under a known root', () => {
    const dir = cardsDir({
      escalation: (t) => ({
        ...t,
        title: '超时升级 · {{leed.grade}} 级线索',
        description: '{{member.nmae}} 未按时处理',
      }),
      reminder: (t) => ({ ...t, quote: '{{customer.remark}}' }),
    });
    expect(problemsOf(dir)).toEqual([
      'escalation.json: /title: 占位符 {{leed.grade}} 的 "leed" 不是可用的数据，是否想写 "lead"？（可用：lead, member, team, deadline, minutes, missed, reason, claimedAt, recent） [unknownRoot]',
      'escalation.json: /description: 占位符 {{member.nmae}} 的 "member.nmae" 不存在，是否想写 "member.name"？（可用：member.name） [unknownPath]',
      'reminder.json: /quote: 占位符 {{customer.remark}} 的 "customer" 不是可用的数据（可用：lead, member, team, deadline, minutes, missed, reason, claimedAt, recent） [unknownRoot]',
    ]);
  });

  it('a formatter used on the wrong kind of value, and malformed placeholders', () => {
    const dir = cardsDir({
      reminder: (t) => ({
        ...t,
        emphasis: { value: '{{lead.name | time}}', label: '{{ deadline | time | maskName }}' },
        quote: '请跟进 {{reason',
      }),
    });
    expect(problemsOf(dir)).toEqual([
      'reminder.json: /quote: "请跟进 {{reason" 中有未闭合的 {{ 或单独的花括号；占位符应写作 {{lead.name}} 或 {{lead.phone | maskPhone}} [placeholderSyntax]',
      'reminder.json: /emphasis/value: 占位符 {{lead.name | time}}：time 只能用于时间，而 lead.name 是文字 [formatterType]',
      'reminder.json: /emphasis/label: 占位符 {{ deadline | time | maskName }} 写法有误：应为 {{路径}} 或 {{路径 | 格式}}，如 {{lead.name}}、{{lead.phone | maskPhone}} [placeholderSyntax]',
    ]);
  });

  it('a missing required template', () => {
    const dir = cardsDir({ closed: () => null });
    expect(problemsOf(dir)).toEqual([
      'closed.json: /: 缺少必需的卡片模板 "closed"（文件不存在） [requiredTemplate]',
    ]);
    expect(() => loadCardTemplates(dir)).toThrow(
      `${join(dir, 'closed.json')}: /: 缺少必需的卡片模板 "closed"（文件不存在） [requiredTemplate]`,
    );
  });

  it('fields the schema does not know, wrong types, missing required fields', () => {
    const dir = cardsDir({
      claimed: (t) => {
        const { title: _title, ...rest } = t;
        return { ...rest, setled: '已认领', buttons: {} };
      },
      closed: (t) => ({
        ...t,
        fields: [
          { label: '客户', value: '' },
          { label: '原因是什么呢', text: '{{reason}}' },
        ],
      }),
    });
    expect(problemsOf(dir)).toEqual([
      'claimed.json: /: 缺少必填字段 "title" [required]',
      'claimed.json: /setled: 不允许的字段 "setled"，是否想写 "settled"？ [additionalProperties]',
      'claimed.json: /buttons: 类型应为数组 [type]',
      'closed.json: /fields/0/value: 不能为空 [minLength]',
      'closed.json: /fields/1: 缺少必填字段 "value" [required]',
      'closed.json: /fields/1/text: 不允许的字段 "text" [additionalProperties]',
      'closed.json: /fields/1/label: 最多 5 个字符 [maxLength]',
    ]);
  });

  it('a name that is not the file name, duplicate action ids, settled text on a card with buttons', () => {
    const dir = cardsDir({
      reminder: (t) => {
        const [done] = t.buttons as Button[];
        return { ...t, name: 'remind', buttons: [done, { ...done, text: '跟进完了' }], settled: '已处理' };
      },
    });
    expect(problemsOf(dir)).toEqual([
      'reminder.json: /name: 模板名 "remind" 与文件名不符，应为 "reminder" [nameMatchesFile]',
      'reminder.json: /buttons/1/actionId: 与 /buttons/0 重复 [uniqueActionId]',
      'reminder.json: /settled: settled 是卡片结束后代替按钮显示的文字，有 settled 的模板不能再有按钮 [settledWithoutButtons]',
    ]);
  });

  it('a JSON syntax error, with line and column', () => {
    const dir = cardsDir({ closed: () => '{\n  "name": "closed",\n  "title": "已失效",\n}\n' });
    expect(problemsOf(dir)).toEqual(['closed.json: 4:1: JSON 语法错误 [PropertyNameExpected]']);
  });

  it('an extra template is checked like the shipped ones', () => {
    const dir = cardsDir({
      'stage-alert': () => ({
        name: 'stage-alert',
        title: '{{lead.stageName}} 停留过久',
        fields: [],
        buttons: [],
      }),
    });
    expect(problemsOf(dir)).toEqual([
      'stage-alert.json: /title: 占位符 {{lead.stageName}} 的 "lead.stageName" 不存在（可用：lead.id, lead.name, lead.phone, lead.company, lead.title, lead.province, lead.city, lead.industry, lead.need, lead.sourceName, lead.grade, lead.score, lead.budget, lead.authority, lead.timeline, lead.stage） [unknownPath]',
    ]);
  });

  it('all problems of all files in one error', () => {
    const dir = cardsDir({
      'new-lead': (t) => ({
        ...t,
        buttons: [
          ...(t.buttons as Button[]),
          { actionId: 'x', text: '这个按钮的文字实在太长了', style: 'default' },
        ],
      }),
      'pool-offer': (t) => ({ ...t, title: '{{lead.grade | duration}} 级' }),
      reminder: () => null,
    });
    let error: unknown;
    try {
      loadCardTemplates(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CardTemplateError);
    const { problems, message } = error as CardTemplateError;
    expect(problems.map((p) => `${p.file}: ${p.path}`)).toEqual([
      `${join(dir, 'new-lead.json')}: /buttons/2/text`,
      `${join(dir, 'pool-offer.json')}: /title`,
      `${join(dir, 'reminder.json')}: /`,
    ]);
    expect(message).toBe(
      [
        '卡片模板有 3 个问题:',
        `  ${join(dir, 'new-lead.json')}: /buttons/2/text: 最多 10 个字符 [maxLength]`,
        `  ${join(dir, 'pool-offer.json')}: /title: 占位符 {{lead.grade | duration}}：duration 只能用于数字，而 lead.grade 是文字 [formatterType]`,
        `  ${join(dir, 'reminder.json')}: /: 缺少必需的卡片模板 "reminder"（文件不存在） [requiredTemplate]`,
      ].join('\n'),
    );
  });

  it('a missing directory or schema', () => {
    expect(() => loadCardTemplates(join(SHIPPED_CARDS, 'nope'))).toThrow(/无法读取卡片模板目录.*\[readDir\]/);
    const dir = cardsDir({ schema: () => null });
    expect(problemsOf(dir)).toEqual([
      expect.stringMatching(/^schema\.json: \/: 无法加载卡片模板的 schema：.*\[schema\]$/),
    ]);
  });
});
