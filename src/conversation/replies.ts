import type { GateField } from '../config/sections/stages';
import { gateFieldName, type Stage, stageName } from '../leads/stages';
import { dateTimeFormat } from '../lib/date-formats';

/**
 * Every sentence the bot says in chat, in Chinese (default) and English (`members[].language`).
 * Short, with the lead and what changed; refusals say who may act or what to type instead.
 */
export type Language = 'zh' | 'en';

export function formatLocalTime(at: Date, timeZone: string, language: Language): string {
  const f = dateTimeFormat(language === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone,
    month: language === 'en' ? 'short' : 'numeric',
    day: 'numeric',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return f.format(at);
}

export function formatYuan(amount: number, language: Language): string {
  const plain = amount.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (language === 'en') return `¥${plain}`;
  if (amount >= 10_000 && amount % 100 === 0) return `${amount / 10_000}万元（${plain} 元）`;
  return `${plain} 元`;
}

const BANT_EXAMPLES: Partial<Record<GateField, string>> = {
  budget: '预算：50万',
  authority: '决策人：王总',
  need: '需求：20 台设备',
  timeline: '时间：Q3',
};

const BANT_EXAMPLES_EN: Partial<Record<GateField, string>> = {
  budget: 'budget: 500k',
  authority: 'authority: Mr Wang',
  need: 'need: 20 machines',
  timeline: 'timeline: Q3',
};

export function bantExample(missing: GateField[], language: Language): string {
  const table = language === 'en' ? BANT_EXAMPLES_EN : BANT_EXAMPLES;
  return missing
    .map((f) => table[f])
    .filter((x): x is string => !!x)
    .join('\n');
}

export function fieldList(fields: GateField[], language: Language): string {
  return fields.map((f) => gateFieldName(f, language)).join(language === 'en' ? ', ' : '、');
}

export function stageLabel(stage: string, language: Language): string {
  return language === 'en' ? stageName(stage, 'en') : `「${stageName(stage, 'zh')}」`;
}

export const HELP: Record<Language, string> = {
  zh: [
    'LeadRelay 助手，直接打字即可：',
    '· 跟进笔记：直接写，记到你当前的线索；或在开头写 #123',
    '  笔记里写「预算：50万」「决策人：王总」「需求：…」「时间：Q3」会填入 BANT',
    '· 认领 123　· 详情 123　· 我的　· 公海',
    '· 阶段 123 商机（新线索/已联系/已确认/商机/培育）',
    '· 赢单 123 8万　· 输单 123 预算不符',
    '· 提醒 123 明天下午3点 回访',
    '· 请假 3天　· 回来了',
    '· 主管：转派 123 李娜',
    '英文也可以：claim / stage / won / lost / remind / mine / pool / away / back / show / reassign / help',
  ].join('\n'),
  en: [
    'LeadRelay assistant. Just type:',
    '· a note: any text goes to your current lead; start with #123 to choose one',
    '  lines like "budget: 500k", "authority: Mr Wang", "need: …", "timeline: Q3" fill BANT',
    '· claim 123 · show 123 · mine · pool',
    '· stage 123 opportunity (new/contacted/qualified/opportunity/nurture)',
    '· won 123 80000 · lost 123 <reason>',
    '· remind 123 tomorrow 15:00 call back',
    '· away 3d · back',
    '· supervisors: reassign 123 <member>',
    'Chinese commands work too: 认领 / 阶段 / 赢单 / 输单 / 提醒 / 我的 / 公海 / 请假 / 回来了 / 详情 / 转派 / 帮助',
  ].join('\n'),
};

/** What to type instead, per command, for replies to unreadable commands. */
export const USAGE: Record<Language, Record<string, string>> = {
  zh: {
    claim: '认领 123',
    stage: '阶段 123 商机（可选：新线索、已联系、已确认、商机、培育、赢单、输单）',
    won: '赢单 123 8万',
    lost: '输单 123 预算不符',
    remind: '提醒 123 明天下午3点 回访',
    away: '请假 3天，或 请假 到周五',
    show: '详情 123',
    reassign: '转派 123 李娜',
    note: '#123 客户下周来厂参观',
  },
  en: {
    claim: 'claim 123',
    stage: 'stage 123 opportunity (new, contacted, qualified, opportunity, nurture, won, lost)',
    won: 'won 123 80000',
    lost: 'lost 123 <reason>',
    remind: 'remind 123 tomorrow 15:00 call back',
    away: 'away 3d',
    show: 'show 123',
    reassign: 'reassign 123 <member>',
    note: '#123 visiting our factory next week',
  },
};

export function stageChangedText(
  lead: string,
  from: string,
  to: Stage,
  extra: { amount?: number | null; reason?: string | null },
  language: Language,
): string {
  if (language === 'en') {
    if (to === 'won')
      return `Won: ${lead}${extra.amount ? `, amount ${formatYuan(extra.amount, 'en')}` : ''}. Congratulations!`;
    if (to === 'lost') return `Marked ${lead} as lost${extra.reason ? ` (reason: ${extra.reason})` : ''}.`;
    return `${lead}: stage ${stageName(from, 'en')} → ${stageName(to, 'en')}.`;
  }
  if (to === 'won')
    return `恭喜赢单！${lead}，成交金额 ${extra.amount ? formatYuan(extra.amount, 'zh') : '未填'}。`;
  if (to === 'lost') return `已将 ${lead} 标记为输单${extra.reason ? `，原因：${extra.reason}` : ''}。`;
  return `已将 ${lead} 的阶段从${stageLabel(from, 'zh')}改为${stageLabel(to, 'zh')}。`;
}

/**
 * The chat answer to a refused card click, or null when the click worked or the card itself shows the
 * answer (claimed by someone else: the card says by whom).
 */
export function cardRefusalText(
  deps: { org: { pool: { maxGrabsPerDay: number; reclaimCooldown: string } } },
  outcome: string,
  member: { language?: Language } | undefined,
): string | null {
  const en = member?.language === 'en';
  switch (outcome) {
    case 'unknown_member':
      return en
        ? 'You are not a LeadRelay member (or no longer active); ask your admin.'
        : '你不在 LeadRelay 的成员名单中（或已停用），请联系管理员。';
    case 'not_authorised':
      return en
        ? 'This is not your lead: only its owner and the team supervisor or director may do that.'
        : '这不是你的线索：只有负责人及其团队主管、总监可以操作。';
    case 'not_in_team':
      return en ? "This lead is not in your team's pool." : '这条线索不在你所在团队的公海里。';
    case 'daily_limit':
      return en
        ? `You have used today's ${deps.org.pool.maxGrabsPerDay} grabs.`
        : `今天的抢单次数已用完（每天 ${deps.org.pool.maxGrabsPerDay} 次）。`;
    case 'open_leads_limit':
      return en
        ? 'You hold the maximum number of open leads; close or release some first.'
        : '你手上未结的线索已达上限，请先推进或退回一些再抢。';
    case 'cooldown':
      return en
        ? `You gave this lead up recently; wait ${deps.org.pool.reclaimCooldown} before grabbing it again.`
        : `你最近退回或被收回过这条线索，${deps.org.pool.reclaimCooldown} 内不能再抢。`;
    case 'unknown_card':
      return en ? 'This card is no longer valid.' : '这张卡片已失效。';
    default:
      return null;
  }
}
