import type { CardTemplates } from '../cards/load-cards';
import type { Directory } from '../config/members';
import type { OrgConfig } from '../config/org-types';
import type { Db } from '../db/client';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { PlatformName } from '../platforms/types';

/** What lead domain actions need. Built once by the composition root (server.ts) and the CLI. */
export interface LeadDeps {
  db: Db;
  org: OrgConfig;
  directory: Directory;
  clock: Clock;
  cards: CardTemplates;
  /** Chat platforms configured in this deployment: messages are queued only for these. */
  platforms: ReadonlySet<PlatformName>;
  logger: Logger;
}
