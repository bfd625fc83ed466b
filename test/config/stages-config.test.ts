import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOrgConfig } from '../../src/config/load-org-config';
import conversationSchema from '../../src/config/sections/conversation.schema.json';
import { STAGE_GATE_FIELDS } from '../../src/config/sections/stages';
import stagesSchema from '../../src/config/sections/stages.schema.json';
import { DURATION_PATTERN } from '../../src/lib/duration';
import { doc, parse, problemsOf, validator } from './org-config-fixtures';

const DEFAULT_STAGES = {
  gates: {
    qualified: ['budget', 'authority', 'need', 'timeline'],
    won: ['amount'],
    lost: ['lostReason'],
  },
  cumulativeGates: true,
  lostReasons: ['预算不符', '需求不匹配', '选择了竞品', '联系不上', '暂无需求', '价格太高', '其他'],
  contactedCallbackAfter: '2d',
  autoContactOnNote: true,
};

describe('stages and conversation sections', () => {
  it('fills every default when the sections are absent', () => {
    const config = parse(doc());
    expect(config.stages).toEqual(DEFAULT_STAGES);
    expect(config.conversation).toEqual({ contextWindow: '8h' });
  });

  it('fills the defaults of what an empty or partial section leaves out', () => {
    const d = doc();
    d.stages = { gates: { qualified: ['budget', 'need'], contacted: [] }, lostReasons: ['太贵了'] };
    d.conversation = {};
    const config = parse(d);
    expect(config.stages).toEqual({
      ...DEFAULT_STAGES,
      // A stage not written keeps its gate; `[]` is an explicit "no gate".
      gates: { qualified: ['budget', 'need'], contacted: [], won: ['amount'], lost: ['lostReason'] },
      lostReasons: ['太贵了'],
    });
    expect(config.conversation).toEqual({ contextWindow: '8h' });
  });

  it('lets a gate be removed with an empty list', () => {
    const d = doc();
    d.stages = { gates: { qualified: [], won: [] }, cumulativeGates: false, autoContactOnNote: false };
    const { stages } = parse(d);
    expect(stages.gates).toEqual({ qualified: [], won: [], lost: ['lostReason'] });
    expect([stages.cumulativeGates, stages.autoContactOnNote]).toEqual([false, false]);
  });

  it('reports a bad gate field or stage name with its JSON path', () => {
    const d = doc();
    d.stages = { gates: { qualified: ['budget', 'bugdet'], opportunity: ['need', 'need'], qualifed: [] } };
    expect(problemsOf(d)).toEqual([
      '/stages/gates/qualifed: 不允许的字段 "qualifed" [additionalProperties]，是否想写 "qualified"？',
      '/stages/gates/qualified/1: 必须是以下之一：budget, authority, need, timeline, amount, lostReason [enum]',
      '/stages/gates/opportunity/1: 与 /stages/gates/opportunity/0 重复 [uniqueItems]',
    ]);
  });

  it('refuses gates that could never be met: won needing a lost reason, lost needing an amount', () => {
    const d = doc();
    d.stages = { gates: { won: ['amount', 'lostReason'], lost: ['amount', 'lostReason'] } };
    expect(problemsOf(d)).toEqual([
      '/stages/gates/won: 赢单 (won) 的门槛不能要求 lostReason（输单原因）：赢单时没有输单原因，线索将永远无法赢单 [gates]',
      '/stages/gates/lost: 输单 (lost) 的门槛不能要求 amount（成交金额）：输单没有成交金额，线索将永远无法输单 [gates]',
    ]);
  });

  it('refuses an amount or a lost reason as the gate of any other stage: it could never be met', () => {
    const d = doc();
    d.stages = { gates: { opportunity: ['budget', 'amount'], qualified: ['lostReason'] } };
    expect(problemsOf(d)).toEqual([
      '/stages/gates/opportunity: opportunity 的门槛不能要求 amount：成交金额只在赢单时填写，这个阶段将永远无法进入 [gates]',
      '/stages/gates/qualified: qualified 的门槛不能要求 lostReason：输单原因只在输单时填写，这个阶段将永远无法进入 [gates]',
    ]);
  });

  it('checks lost reasons: 1 to 30, unique, non-empty, at most 32 characters', () => {
    const tooLong = '客户认为我们的方案在设备联网和质量追溯两方面都不如竞品，且报价高出三成以上';
    const d = doc();
    d.stages = { lostReasons: ['预算不符', '', tooLong, '预算不符', '  ', 'No Budget', 'no budget'] };
    expect(problemsOf(d)).toEqual([
      '/stages/lostReasons/1: 不能为空 [minLength]',
      '/stages/lostReasons/2: 长度不能超过 32 [maxLength]',
      '/stages/lostReasons/3: 与 /stages/lostReasons/0 重复 [uniqueItems]',
      '/stages/lostReasons/4: 输单原因不能只有空白 [lostReasons]',
      '/stages/lostReasons/6: 输单原因 "no budget" 与 /stages/lostReasons/5 只差空格或大小写，成员输入时无法区分 [unique]',
    ]);

    const empty = doc();
    empty.stages = { lostReasons: [] };
    expect(problemsOf(empty)).toEqual(['/stages/lostReasons: 至少需要 1 项 [minItems]']);

    const many = doc();
    many.stages = { lostReasons: Array.from({ length: 31 }, (_, i) => `原因${i + 1}`) };
    expect(problemsOf(many)).toEqual(['/stages/lostReasons: 最多 30 项 [maxItems]']);
  });

  it('checks durations and unknown fields of both sections', () => {
    const d = doc();
    d.stages = { contactedCallbackAfter: '2 days', autoContactOnNote: 'yes' };
    d.conversation = { contextWindow: '8小时', language: 'en' };
    expect(problemsOf(d)).toEqual([
      '/stages/contactedCallbackAfter: "2 days" 不是合法的时长：应写作 30s、5m、2h、1d、2w，或组合如 1h30m [pattern]',
      '/stages/autoContactOnNote: 类型应为布尔值，实际为字符串 [type]',
      '/conversation/language: 不允许的字段 "language" [additionalProperties]',
      '/conversation/contextWindow: "8小时" 不是合法的时长：应写作 30s、5m、2h、1d、2w，或组合如 1h30m [pattern]',
    ]);
  });

  it('keeps STAGE_GATE_FIELDS and the duration patterns in step with the schemas', () => {
    expect(stagesSchema.definitions.gate.items.enum).toEqual([...STAGE_GATE_FIELDS]);
    expect(stagesSchema.properties.contactedCallbackAfter.pattern).toBe(DURATION_PATTERN);
    expect(conversationSchema.properties.contextWindow.pattern).toBe(DURATION_PATTERN);
  });

  it('leaves the example config with the defaults it documents', () => {
    const examplePath = join(__dirname, '../../config/leadrelay.example.jsonc');
    const config = parseOrgConfig(readFileSync(examplePath, 'utf8'), examplePath, {}, validator);
    expect(config.stages).toEqual(DEFAULT_STAGES);
    expect(config.conversation).toEqual({ contextWindow: '8h' });
  });
});

describe('members[].language', () => {
  it('defaults to zh and accepts en', () => {
    const d = doc();
    d.members[2]!.language = 'en';
    expect(parse(d).members.map((m) => m.language)).toEqual(['zh', 'zh', 'en']);
  });

  it('refuses any other language', () => {
    const d = doc();
    d.members[0]!.language = 'fr';
    d.members[1]!.language = 'ZH';
    expect(problemsOf(d)).toEqual([
      '/members/0/language: 必须是以下之一：zh, en [enum]',
      '/members/1/language: 必须是以下之一：zh, en [enum]',
    ]);
  });
});

describe('team digests', () => {
  it('default to 09:05 daily and Monday 09:05 weekly, and refuse a bad cron with its path', () => {
    const d = doc();
    (d.teams as Record<string, unknown>[])[0]!.digest = { cron: '61 9 * * *', weeklyCron: '5 9 * *' };
    expect(problemsOf(d)).toEqual([
      expect.stringMatching(/^\/teams\/0\/digest\/cron: "61 9 \* \* \*" 不是有效的 cron：.* \[cron\]$/),
      '/teams/0/digest/weeklyCron: "5 9 * *" 不是五段式 cron（分 时 日 月 周），例如 "5 9 * * *" 表示每天 09:05 [cron]',
    ]);
  });
});
