/**
 * The `privacy` section (issue 9 item 4; RELIABILITY.md "Authorization and personal data" 4), schema
 * privacy.schema.json, which fills every default.
 */
export interface PrivacyConfig {
  /** Days personal data is kept after the lead's last submission. */
  retentionDays: number;
  /** `HH:MM`, org timezone: when the daily purge runs. */
  purgeAt: string;
}

/** What an org config without a `privacy` section means (the schema's defaults). */
export const DEFAULT_PRIVACY: PrivacyConfig = { retentionDays: 730, purgeAt: '03:30' };

/** The privacy settings of an org config that may predate the section. */
export function privacyOf(org: { privacy?: PrivacyConfig }): PrivacyConfig {
  return { ...DEFAULT_PRIVACY, ...org.privacy };
}

/** A lead's retention date: its last submission plus the retention period. */
export function retainUntil(org: { privacy?: PrivacyConfig }, submittedAt: Date): Date {
  return new Date(submittedAt.getTime() + privacyOf(org).retentionDays * 86_400_000);
}
