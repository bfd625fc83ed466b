import type { StagesConfig } from '../../src/config/sections/stages';
import { checkTransition, type GateInput, matchLostReason } from '../../src/leads/stages';

const config: StagesConfig = {
  gates: { qualified: ['budget', 'authority', 'need', 'timeline'], won: ['amount'], lost: ['lostReason'] },
  cumulativeGates: true,
  lostReasons: ['预算不符', '需求不匹配', '选择了竞品', '联系不上', '其他'],
  contactedCallbackAfter: '2d',
  autoContactOnNote: true,
};
const empty: GateInput['lead'] = {
  budget: null,
  budgetText: null,
  authority: null,
  need: null,
  purchaseTimeline: null,
};
const bant: GateInput['lead'] = {
  budget: 500000,
  budgetText: '50万',
  authority: '王总',
  need: '20台',
  purchaseTimeline: 'Q3',
};

describe('checkTransition', () => {
  it('lets a lead be contacted freely and refuses qualified until BANT is filled, naming what is missing', () => {
    expect(checkTransition(config, 'new', 'contacted', { lead: empty })).toEqual({ ok: true });
    expect(checkTransition(config, 'contacted', 'qualified', { lead: { ...empty, need: '有' } })).toEqual({
      ok: false,
      problem: 'gate',
      missing: ['budget', 'authority', 'timeline'],
      gateStage: 'qualified',
    });
    expect(checkTransition(config, 'contacted', 'qualified', { lead: bant })).toEqual({ ok: true });
  });

  it('counts a budget typed as text (年内不超过80万) as filled', () => {
    const lead = { ...bant, budget: null, budgetText: '年内不超过80万' };
    expect(checkTransition(config, 'contacted', 'qualified', { lead })).toEqual({ ok: true });
  });

  it('with cumulative gates, a jump forward needs the gates it skips; without, only the target', () => {
    expect(checkTransition(config, 'new', 'opportunity', { lead: empty })).toMatchObject({
      ok: false,
      missing: ['budget', 'authority', 'need', 'timeline'],
    });
    expect(checkTransition(config, 'contacted', 'won', { lead: empty, amount: 80000 })).toMatchObject({
      ok: false,
      missing: ['budget', 'authority', 'need', 'timeline'],
    });
    const loose = { ...config, cumulativeGates: false };
    expect(checkTransition(loose, 'new', 'opportunity', { lead: empty })).toEqual({ ok: true });
    expect(checkTransition(loose, 'contacted', 'won', { lead: empty, amount: 80000 })).toEqual({ ok: true });
  });

  it('won needs a positive amount; lost needs a reason', () => {
    expect(checkTransition(config, 'opportunity', 'won', { lead: bant })).toMatchObject({
      missing: ['amount'],
    });
    expect(checkTransition(config, 'opportunity', 'won', { lead: bant, amount: 0 })).toMatchObject({
      missing: ['amount'],
    });
    expect(checkTransition(config, 'opportunity', 'won', { lead: bant, amount: 80000 })).toEqual({
      ok: true,
    });
    expect(checkTransition(config, 'new', 'lost', { lead: empty })).toMatchObject({
      missing: ['lostReason'],
    });
    expect(checkTransition(config, 'new', 'lost', { lead: empty, lostReason: '预算不符' })).toEqual({
      ok: true,
    });
  });

  it('moving back needs no gate, a won lead stays won, a lost one may be reopened, the same stage is no change', () => {
    expect(checkTransition(config, 'opportunity', 'contacted', { lead: empty })).toEqual({ ok: true });
    expect(checkTransition(config, 'won', 'contacted', { lead: bant })).toEqual({
      ok: false,
      problem: 'closed',
    });
    expect(checkTransition(config, 'lost', 'contacted', { lead: empty })).toEqual({ ok: true });
    expect(checkTransition(config, 'lost', 'qualified', { lead: empty })).toMatchObject({ problem: 'gate' });
    expect(checkTransition(config, 'nurture', 'nurture', { lead: empty })).toEqual({
      ok: false,
      problem: 'same_stage',
    });
    expect(checkTransition(config, 'qualified', 'nurture', { lead: empty })).toEqual({ ok: true });
  });
});

describe('matchLostReason', () => {
  const reasons = config.lostReasons;
  it('finds the configured reason at the start of what was typed and keeps the rest as detail', () => {
    expect(matchLostReason(reasons, '预算不符')).toEqual({ reason: '预算不符', detail: '' });
    expect(matchLostReason(reasons, '预算不符，客户只有5万')).toEqual({
      reason: '预算不符',
      detail: '客户只有5万',
    });
    expect(matchLostReason(reasons, '客户最后选择了竞品 A 公司')).toEqual({
      reason: '选择了竞品',
      detail: '客户最后选择了竞品 A 公司',
    });
  });
  it('refuses words that name no configured reason', () => {
    expect(matchLostReason(reasons, '不想说')).toBeNull();
    expect(matchLostReason(reasons, '   ')).toBeNull();
  });
});
