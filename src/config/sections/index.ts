import { checkCalendars } from './calendars';
import calendars from './calendars.schema.json';
import conversation from './conversation.schema.json';
import pool from './pool.schema.json';
import privacy from './privacy.schema.json';
import { checkRouting } from './routing';
import routing from './routing.schema.json';
import sla from './sla.schema.json';
import { checkStages } from './stages';
import stages from './stages.schema.json';

/**
 * Sections of the org config that grow with features (routing, SLA, calendars, pool, stages,
 * conversation, privacy) live in their own schema files, referenced from the root schema by `$id`, so each
 * feature owns its part of the config. Cross-reference checks of a section (a rule naming a team
 * that does not exist) are listed in `SECTION_CHECKS` and run after the schema passes.
 */
export const SECTION_SCHEMAS = [routing, sla, calendars, pool, stages, conversation, privacy];

export type SectionCheck = (config: Record<string, unknown>) => { path: string; message: string }[];

export const SECTION_CHECKS: SectionCheck[] = [checkCalendars, checkRouting, checkStages];
