import { type RoutingConfig, type RoutingMatch, ruleLabel } from '../config/sections/routing';

/** The lead fields routing rules look at. `source` is the source id. */
export interface RoutableLead {
  province?: string | null;
  city?: string | null;
  industry?: string | null;
  source?: string | null;
  campaign?: string | null;
  grade?: string | null;
  custom?: Record<string, string | number | boolean | null> | null;
}

export interface TeamMatch {
  teamId: string;
  /** The rule's name (or `rules[<index>]`), or `fallbackTeam` when no rule matched. */
  rule: string;
}

/**
 * The team of a lead: the first rule whose every condition matches, else the fallback team. Pure, so
 * `leadrelay config check` and tests can explain a routing decision without a database.
 */
export function matchTeam(routing: RoutingConfig, lead: RoutableLead): TeamMatch {
  for (const [i, rule] of routing.rules.entries()) {
    if (matches(rule.match, lead)) return { teamId: rule.team, rule: ruleLabel(rule, i) };
  }
  return { teamId: routing.fallbackTeam, rule: 'fallbackTeam' };
}

function matches(match: RoutingMatch, lead: RoutableLead): boolean {
  const inList = (values: readonly string[] | undefined, value: string | null | undefined, key = fold) => {
    if (values === undefined) return true;
    if (value === null || value === undefined) return false;
    const wanted = key(value);
    return wanted !== '' && values.some((v) => key(v) === wanted);
  };
  if (!inList(match.province, lead.province, regionKey)) return false;
  if (!inList(match.city, lead.city, regionKey)) return false;
  if (!inList(match.industry, lead.industry)) return false;
  if (!inList(match.source, lead.source)) return false;
  if (!inList(match.campaign, lead.campaign)) return false;
  if (!inList(match.grade, lead.grade)) return false;
  if (match.campaignPrefix) {
    const campaign = lead.campaign ? fold(lead.campaign) : '';
    if (campaign === '' || !match.campaignPrefix.some((p) => campaign.startsWith(fold(p)))) return false;
  }
  for (const [key, values] of Object.entries(match.custom ?? {})) {
    const value = lead.custom?.[key];
    if (value === null || value === undefined) return false;
    // A web form may send `true` or "true", 3 or "3": compare as text so both spellings match.
    if (!values.some((v) => fold(String(v)) === fold(String(value)))) return false;
  }
  return true;
}

/** Trimmed, full-width folded (NFKC: `ＡＢＣ` is `abc`), inner whitespace collapsed, lower-cased. */
export function fold(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

// Administrative suffixes people write or leave out: 江苏 / 江苏省, 上海 / 上海市, 广西 / 广西壮族自治区,
// 苏州 / 苏州市. Longest first, so 壮族自治区 goes before 自治区.
const REGION_SUFFIXES = [
  '维吾尔自治区',
  '壮族自治区',
  '回族自治区',
  '特别行政区',
  '自治区',
  '地区',
  '省',
  '市',
];

/**
 * Matching key of a province or city name: folded and without its administrative suffix. At least two
 * characters stay, so a one-character stem is never produced (沙市 stays 沙市).
 */
export function regionKey(value: string): string {
  const s = fold(value);
  for (const suffix of REGION_SUFFIXES) {
    if (s.endsWith(suffix) && s.length - suffix.length >= 2) return s.slice(0, -suffix.length);
  }
  return s;
}
