import type { GateField, StagesConfig } from '../config/sections/stages';
import type { LeadRow } from './lead-record';

/** The sales stages (PRODUCT.md 9): new → contacted → qualified → opportunity → won / lost, plus nurture. */
export const STAGES = ['new', 'contacted', 'qualified', 'opportunity', 'won', 'lost', 'nurture'] as const;
export type Stage = (typeof STAGES)[number];

/** The forward chain; won comes after opportunity. Lost and nurture are reachable from any open stage. */
const CHAIN: readonly Stage[] = ['new', 'contacted', 'qualified', 'opportunity', 'won'];

export const CLOSED: ReadonlySet<string> = new Set(['won', 'lost']);

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

const NAMES: Record<'zh' | 'en', Record<Stage, string>> = {
  zh: {
    new: '新线索',
    contacted: '已联系',
    qualified: '已确认需求',
    opportunity: '商机',
    won: '赢单',
    lost: '输单',
    nurture: '培育',
  },
  en: {
    new: 'new',
    contacted: 'contacted',
    qualified: 'qualified',
    opportunity: 'opportunity',
    won: 'won',
    lost: 'lost',
    nurture: 'nurture',
  },
};

export function stageName(stage: string, language: 'zh' | 'en' = 'zh'): string {
  return isStage(stage) ? NAMES[language][stage] : stage;
}

const FIELD_NAMES: Record<'zh' | 'en', Record<GateField, string>> = {
  zh: {
    budget: '预算',
    authority: '决策人',
    need: '需求',
    timeline: '时间',
    amount: '成交金额',
    lostReason: '输单原因',
  },
  en: {
    budget: 'budget',
    authority: 'authority',
    need: 'need',
    timeline: 'timeline',
    amount: 'amount',
    lostReason: 'reason',
  },
};

export function gateFieldName(field: GateField, language: 'zh' | 'en' = 'zh'): string {
  return FIELD_NAMES[language][field];
}

/** What the lead will hold after the change: its row plus what the command brings (amount, reason). */
export interface GateInput {
  lead: Pick<LeadRow, 'budget' | 'budgetText' | 'authority' | 'need' | 'purchaseTimeline'>;
  amount?: number | undefined;
  lostReason?: string | undefined;
}

function has(field: GateField, input: GateInput): boolean {
  const { lead } = input;
  switch (field) {
    case 'budget':
      return lead.budget !== null || !!lead.budgetText?.trim();
    case 'authority':
      return !!lead.authority?.trim();
    case 'need':
      return !!lead.need?.trim();
    case 'timeline':
      return !!lead.purchaseTimeline?.trim();
    case 'amount':
      return input.amount !== undefined && input.amount > 0;
    case 'lostReason':
      return !!input.lostReason;
  }
}

export type TransitionCheck =
  | { ok: true }
  | { ok: false; problem: 'same_stage' | 'closed' }
  | { ok: false; problem: 'gate'; missing: GateField[]; gateStage: Stage };

/**
 * May a lead move from `from` to `to`, given the config's gates? Pure. Backward moves and reopening a
 * lost lead need no gate; a won lead stays won. With `cumulativeGates`, a forward jump along the chain
 * (new → opportunity) also needs the gates of the stages it skips, so no lead becomes an opportunity
 * without what qualifying asks for. The missing fields are listed in gate order, each once.
 */
export function checkTransition(
  config: StagesConfig,
  from: string,
  to: Stage,
  input: GateInput,
): TransitionCheck {
  if (from === to) return { ok: false, problem: 'same_stage' };
  if (from === 'won') return { ok: false, problem: 'closed' };
  const stagesToCheck: Stage[] = [];
  const fromAt = CHAIN.indexOf(from as Stage);
  const toAt = CHAIN.indexOf(to);
  if (config.cumulativeGates && toAt > 0 && fromAt >= 0 && toAt > fromAt) {
    stagesToCheck.push(...CHAIN.slice(fromAt + 1, toAt + 1));
  } else if (config.cumulativeGates && toAt > 0 && fromAt < 0) {
    // From nurture or lost back into the chain: the gates up to the target apply.
    stagesToCheck.push(...CHAIN.slice(1, toAt + 1));
  } else if (toAt < 0 || toAt > fromAt || fromAt < 0) {
    stagesToCheck.push(to);
  }
  const missing: GateField[] = [];
  let gateStage: Stage = to;
  for (const stage of stagesToCheck) {
    if (stage === 'new') continue;
    for (const field of config.gates[stage] ?? []) {
      if (!has(field, input) && !missing.includes(field)) {
        if (missing.length === 0) gateStage = stage;
        missing.push(field);
      }
    }
  }
  return missing.length > 0 ? { ok: false, problem: 'gate', missing, gateStage } : { ok: true };
}

/**
 * The configured lost reason a member's words name: exact match, or the reason at the start of what
 * was typed (`预算不符，客户只有5万` → 预算不符, detail 客户只有5万), or a reason contained in it.
 */
export function matchLostReason(
  reasons: readonly string[],
  typed: string,
): { reason: string; detail: string } | null {
  const text = typed.trim();
  if (!text) return null;
  const fold = (s: string) => s.toLowerCase().replace(/[\s，,。.;；:：、]/g, '');
  const t = fold(text);
  const exact = reasons.find((r) => fold(r) === t);
  if (exact) return { reason: exact, detail: '' };
  const byLength = [...reasons].sort((a, b) => b.length - a.length);
  const prefix = byLength.find((r) => t.startsWith(fold(r)));
  if (prefix) {
    const detail = text.slice(prefix.length).replace(/^[\s，,。.;；:：、]+/, '');
    return { reason: prefix, detail };
  }
  const contained = byLength.find((r) => fold(r).length >= 2 && t.includes(fold(r)));
  return contained ? { reason: contained, detail: text } : null;
}
