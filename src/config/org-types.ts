import type { CalendarConfig } from './sections/calendars';
import type { ConversationConfig } from './sections/conversation';
import type { PrivacyConfig } from './sections/privacy';
import type { RoutingSection } from './sections/routing';
import type { PoolConfig, SlaConfig } from './sections/sla';
import type { StagesConfig } from './sections/stages';

export type { ConversationConfig } from './sections/conversation';
export type { PoolConfig, SlaConfig, SlaPolicy } from './sections/sla';
export type { GateField, StagesConfig } from './sections/stages';

/**
 * The org config: one JSON(C) file the admin writes. Validated by `org-config.schema.json` and the
 * section schemas in `sections/` (ajv), then by cross-reference checks (`org-config-checks.ts` and
 * each section's check). Sections other than members, teams and sources are optional and default
 * from their schemas, so an old file keeps loading as features are added.
 */
export interface OrgConfig {
  /** IANA timezone used where a team does not set its own. Default "Asia/Shanghai". */
  timezone: string;
  members: MemberConfig[];
  teams: TeamConfig[];
  sources: SourceConfig[];
  scoring: ScoringConfig;
  /** Routing rules to teams, sticky owner (sections/routing.schema.json). */
  routing?: RoutingSection;
  /** Service levels per grade (sections/sla.schema.json); defaults filled by the schema. */
  sla: SlaConfig;
  /** The public pool (sections/pool.schema.json). */
  pool: PoolConfig;
  /** Business calendars by id (sections/calendars.schema.json), referenced from `TeamConfig.calendar`. */
  calendars?: Record<string, CalendarConfig>;
  /** Stage gates, lost reasons, the call-back after contact (sections/stages.schema.json); defaults filled. */
  stages: StagesConfig;
  /** Chat with the bot (sections/conversation.schema.json); defaults filled. */
  conversation: ConversationConfig;
  /**
   * Retention of personal data (sections/privacy.schema.json); defaults filled when loaded from a file.
   * Optional so configs built in code keep compiling: read it with `privacyOf` (sections/privacy.ts).
   */
  privacy?: PrivacyConfig;
}

export interface MemberConfig {
  /** Stable LeadRelay id: lowercase letters, digits, `_` and `-`. */
  id: string;
  /** Display name (Chinese usually). */
  name: string;
  /** The member's user id on each chat platform (WeCom userid, DingTalk staffId). At least one. */
  platforms: { wecom?: string; dingtalk?: string };
  /** Open-lead and per-day caps used by routing. */
  capacity: { openLeads: number; dailyNew: number };
  /** Weighted round-robin weight, default 1. 0 = never routed automatically. */
  weight: number;
  skills: string[];
  /** false for a departed member: kept for history, never routed to, cannot act. */
  active: boolean;
  /** Language of the bot's replies to this member. Default 'zh'. */
  language: 'zh' | 'en';
}

export interface TeamConfig {
  id: string;
  name: string;
  /** Defaults to the org timezone. */
  timezone: string;
  /** Member ids. */
  supervisor: string;
  director?: string;
  /** Id of a calendar in `OrgConfig.calendars`; business-time SLA clocks of this team count its hours. */
  calendar?: string;
  /** Digests in the team's group chat (filled by the schema's defaults when loaded from a file). */
  digest?: TeamDigestConfig;
  /** The team's DingTalk group: pool offers to its DingTalk members are posted there once. */
  dingtalk?: { openConversationId: string };
  members: string[];
}

export interface TeamDigestConfig {
  enabled: boolean;
  /** Daily digest (yesterday's figures), five-field cron in the team's timezone. Default `5 9 * * *`. */
  cron: string;
  /** Weekly digest (last Monday to Sunday). Default `5 9 * * 1`. */
  weeklyCron: string;
  /**
   * The group robots: WeCom webhook key, DingTalk custom robot (access token + signing secret).
   * Without one the digest is computed but not posted.
   */
  robot?: { wecom?: string; dingtalk?: { accessToken: string; secret: string } };
}

export interface SourceConfig {
  /** Stable id, used in API keys (`leadrelay keys create baidu`) and reports. */
  id: string;
  name: string;
  /** Channel for reports, e.g. "search_ads", "social_ads", "web_form", "trade_show", "referral". */
  channel: string;
  /** Standard Webhooks signing required of this source's requests (src/sources/webhook-signature.ts). */
  signing?: { secrets: string[]; toleranceSeconds: number };
}

export type FitRule = {
  /** Lead field (see ScoringInput), or `custom.<key>` for a custom field. */
  field: string;
  points: number;
  /** Shown in the lead's score breakdown. */
  label?: string;
} & (
  | { equals: string | number | boolean }
  | { in: (string | number)[] }
  /** Substring match (case-insensitive); an array matches if any element is contained. */
  | { contains: string | string[] }
  /** Inclusive numeric range on a numeric field (companySize, budget, custom numbers). */
  | { range: { min?: number; max?: number } }
  | { exists: boolean }
);

export interface BehaviourRule {
  /** Activity type, e.g. `pricing_page_view`, `demo_request`, `email_click`. */
  activity: string;
  points: number;
  /** Exponential decay: an activity this old counts half. Duration string (`7d`). */
  halfLife?: string;
  /** At most this many activities of this type count. */
  maxCount?: number;
  label?: string;
}

export interface ScoringConfig {
  fit: FitRule[];
  behaviour: BehaviourRule[];
  /** Minimum scores for grade A and B; anything below B is C. Defaults A=60, B=30. */
  grades: { A: number; B: number };
}

export type Grade = 'A' | 'B' | 'C';
