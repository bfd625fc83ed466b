import type { RoutingConfig } from '../../src/config/sections/routing';
import { matchTeam, regionKey } from '../../src/routing/match-team';

const routing: RoutingConfig = {
  rules: [
    { name: 'east-provinces', match: { province: ['江苏', '上海市', '广西壮族自治区'] }, team: 'east' },
    { match: { city: ['深圳市'], industry: ['电子', 'Semiconductor'] }, team: 'south' },
    { name: 'big-fair', match: { custom: { booth_visit: [true], region_code: [21, 'sh'] } }, team: 'fair' },
    { name: 'a-only', match: { grade: ['A'], source: ['baidu'] }, team: 'vip' },
    { name: '1111', match: { campaignPrefix: ['2026双11'] }, team: 'promo' },
    { name: 'exact-campaign', match: { campaign: ['Spring Launch'] }, team: 'spring' },
  ],
  fallbackTeam: 'general',
  stickyOwner: true,
};

describe('matchTeam', () => {
  it('matches Chinese provinces with or without their administrative suffix', () => {
    for (const province of ['江苏', '江苏省', ' 江苏省 ', '上海', '上海市', '广西', '广西壮族自治区']) {
      expect(matchTeam(routing, { province })).toEqual({ teamId: 'east', rule: 'east-provinces' });
    }
    expect(matchTeam(routing, { province: '浙江省' }).teamId).toBe('general');
  });

  it('needs every condition of a rule, and names an unnamed rule by its position', () => {
    expect(matchTeam(routing, { city: '深圳', industry: '电子' })).toEqual({
      teamId: 'south',
      rule: 'rules[1]',
    });
    expect(matchTeam(routing, { city: '深圳', industry: ' semiconductor ' }).teamId).toBe('south');
    expect(matchTeam(routing, { city: '深圳' }).teamId).toBe('general');
    expect(matchTeam(routing, { industry: '电子' }).teamId).toBe('general');
  });

  it('compares custom fields as text, trimmed and case-insensitively', () => {
    expect(matchTeam(routing, { custom: { booth_visit: true, region_code: 21 } }).teamId).toBe('fair');
    expect(matchTeam(routing, { custom: { booth_visit: 'TRUE', region_code: ' SH ' } }).teamId).toBe('fair');
    expect(matchTeam(routing, { custom: { booth_visit: '21', region_code: 21 } }).teamId).toBe('general');
    expect(matchTeam(routing, { custom: { booth_visit: true } }).teamId).toBe('general');
    expect(matchTeam(routing, { custom: { booth_visit: true, region_code: null } }).teamId).toBe('general');
  });

  it('matches grade and source together', () => {
    expect(matchTeam(routing, { grade: 'A', source: 'baidu' }).teamId).toBe('vip');
    expect(matchTeam(routing, { grade: 'a', source: 'BAIDU' }).teamId).toBe('vip');
    expect(matchTeam(routing, { grade: 'B', source: 'baidu' }).teamId).toBe('general');
  });

  it('matches campaign prefixes and exact campaigns', () => {
    expect(matchTeam(routing, { campaign: '2026双11-华东-搜索' }).teamId).toBe('promo');
    expect(matchTeam(routing, { campaign: '2025双11' }).teamId).toBe('general');
    expect(matchTeam(routing, { campaign: 'spring launch' }).teamId).toBe('spring');
    expect(matchTeam(routing, { campaign: 'spring launch 2' }).teamId).toBe('general');
  });

  it('lets the first matching rule win', () => {
    const lead = { province: '江苏', grade: 'A', source: 'baidu', campaign: '2026双11' };
    expect(matchTeam(routing, lead).teamId).toBe('east');
  });

  it('sends a lead no rule matches to the fallback team', () => {
    expect(matchTeam(routing, {})).toEqual({ teamId: 'general', rule: 'fallbackTeam' });
    expect(matchTeam({ ...routing, rules: [] }, { province: '江苏' }).teamId).toBe('general');
  });
});

describe('regionKey', () => {
  it('drops one administrative suffix but never down to one character', () => {
    expect(regionKey('新疆维吾尔自治区')).toBe('新疆');
    expect(regionKey('内蒙古自治区')).toBe('内蒙古');
    expect(regionKey('香港特别行政区')).toBe('香港');
    expect(regionKey('苏州市')).toBe('苏州');
    expect(regionKey('沙市')).toBe('沙市');
    expect(regionKey('ＳＨＡＮＧＨＡＩ')).toBe('shanghai');
  });
});
