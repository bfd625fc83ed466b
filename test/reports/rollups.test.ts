import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import type mysql from 'mysql2/promise';
import { MIGRATIONS_FOLDER, readJournal } from '../../src/db/migrate';
import { appendEvents } from '../../src/leads/timeline';
import { syncReportEventsTeam } from '../../src/leads/timeline-rollups';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { local, seedReportData } from './report-data';

/**
 * The report rollups (src/leads/timeline-rollups.ts): kept by appendEvents as events are appended,
 * and filled in by drizzle/0006_report_rollups.sql for the rows that existed before it. Both must
 * say what the events say; the reports tests (figures.test.ts, routes.test.ts) read them.
 */
const MIGRATION = '0006_report_rollups';
const ROLLUP_COLUMNS = [
  'stages_reached',
  'first_assigned_at',
  'first_assignee_id',
  'last_offered_at',
  'first_claimed_at',
  'first_claimed_by',
  'first_claim_offered_at',
  'first_response_at',
  'first_response_by',
];

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedReportData(database.db);
});

afterAll(async () => {
  await database.drop();
});

async function rollups(pool: mysql.Pool) {
  const [leads] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT id, ${ROLLUP_COLUMNS.join(', ')} FROM leads ORDER BY id`,
  );
  const [claimers] = await pool.query<mysql.RowDataPacket[]>(
    'SELECT lead_id, member_id FROM lead_claimers ORDER BY lead_id, member_id',
  );
  const [events] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT lead_id, team_id, type, created_at, stage_left, stay_micros, ladder FROM report_events
     ORDER BY lead_id, created_at, id`,
  );
  return {
    leads: leads.map((row) => ({ ...row })),
    claimers: claimers.map((row) => ({ ...row })),
    events: events.map(
      (row): Record<string, unknown> => ({
        ...row,
        stay_micros: row.stay_micros === null ? null : Number(row.stay_micros),
      }),
    ),
  };
}

const at = (text: string) => local(text);
const lead = async (id: number) => (await rollups(database.pool)).leads.find((l) => l.id === id);

describe('the report rollups appendEvents keeps', () => {
  it('hold the firsts of a lead offered, rerouted, claimed and followed up (L2)', async () => {
    expect(await lead(2)).toEqual({
      id: 2,
      stages_reached: 0,
      first_assigned_at: at('11-20 09:00'),
      first_assignee_id: 'rep_b',
      last_offered_at: at('11-20 09:30'),
      first_claimed_at: at('11-20 09:40'),
      first_claimed_by: 'rep_a',
      first_claim_offered_at: at('11-20 09:30'),
      first_response_at: at('11-20 11:00'),
      first_response_by: 'rep_a',
    });
  });

  it('keep the first claim of a lead claimed twice from the pool, and both claimers (L4)', async () => {
    expect(await lead(4)).toMatchObject({
      first_assigned_at: null,
      first_assignee_id: null,
      last_offered_at: null,
      first_claimed_at: at('11-20 12:00'),
      first_claimed_by: 'rep_b',
      first_claim_offered_at: null,
      first_response_at: null,
    });
    const { claimers } = await rollups(database.pool);
    expect(claimers.filter((c) => c.lead_id === 4)).toEqual([
      { lead_id: 4, member_id: 'rep_a' },
      { lead_id: 4, member_id: 'rep_b' },
    ]);
  });

  it('collect every stage a stage change named; a change by the admin is no response (L1, L7)', async () => {
    // new 1 + contacted 2 + qualified 4 + opportunity 8 + won 16
    expect(await lead(1)).toMatchObject({ stages_reached: 31, first_response_at: at('11-20 01:00') });
    // new 1 + nurture 64
    expect(await lead(7)).toMatchObject({
      stages_reached: 65,
      first_response_at: null,
      first_response_by: null,
    });
  });

  it('leave a later first alone', async () => {
    const before = await lead(2);
    await appendEvents(
      database.db,
      [{ leadId: 2, type: 'lead.claimed', actor: { type: 'member', id: 'rep_c' }, data: { via: 'chat' } }],
      at('11-20 20:00'),
    );
    expect(await lead(2)).toEqual(before);
    const { claimers } = await rollups(database.pool);
    expect(claimers.filter((c) => c.lead_id === 2).map((c) => c.member_id)).toEqual(['rep_a', 'rep_c']);
  });
});

describe('report_events', () => {
  const H = 3_600_000_000; // µs
  it('holds the period events of a lead with its team, each stay and each ladder (L8)', async () => {
    const { events } = await rollups(database.pool);
    expect(events.filter((e) => e.lead_id === 8)).toEqual([
      {
        lead_id: 8,
        team_id: 'east',
        type: 'lead.stage_changed',
        created_at: at('11-18 11:00'),
        stage_left: 'new',
        stay_micros: 1 * H,
        ladder: null,
      },
      {
        lead_id: 8,
        team_id: 'east',
        type: 'sla.reminded',
        created_at: at('11-20 02:00'),
        stage_left: null,
        stay_micros: null,
        ladder: 'follow_up',
      },
      {
        lead_id: 8,
        team_id: 'east',
        type: 'sla.escalated',
        created_at: at('11-20 04:00'),
        stage_left: null,
        stay_micros: null,
        ladder: 'follow_up',
      },
      {
        lead_id: 8,
        team_id: 'east',
        type: 'lead.stage_changed',
        created_at: at('11-20 11:00'),
        stage_left: 'contacted',
        stay_micros: 48 * H,
        ladder: null,
      },
      {
        lead_id: 8,
        team_id: 'east',
        type: 'lead.stage_changed',
        created_at: at('11-20 17:00'),
        stage_left: 'qualified',
        stay_micros: 6 * H,
        ladder: null,
      },
      {
        lead_id: 8,
        team_id: 'east',
        type: 'sla.escalated',
        created_at: at('11-21 00:00:00.000'),
        stage_left: null,
        stay_micros: null,
        ladder: 'stagnation',
      },
    ]);
    // Recycling, claim misses; nothing for offers, claims or notes.
    expect(events.filter((e) => e.lead_id === 4).map((e) => e.type)).toEqual(['lead.recycled']);
    expect(events.filter((e) => e.lead_id === 5).map((e) => e.type)).toEqual([
      'sla.claim_missed',
      'sla.escalated',
    ]);
  });

  it('follows the lead to another team', async () => {
    const teams = async () => [
      ...new Set((await rollups(database.pool)).events.filter((e) => e.lead_id === 8).map((e) => e.team_id)),
    ];
    await database.pool.query("UPDATE leads SET team_id = 'west' WHERE id = 8");
    await syncReportEventsTeam(database.db, 8);
    expect(await teams()).toEqual(['west']);
    await database.pool.query("UPDATE leads SET team_id = 'east' WHERE id = 8");
    await syncReportEventsTeam(database.db, 8);
    expect(await teams()).toEqual(['east']);
  });
});

describe('drizzle/0006_report_rollups.sql', () => {
  it('fills them in for the rows written before it, as appendEvents keeps them', async () => {
    const kept = await rollups(database.pool);
    // Back to the schema before the migration, with the same leads and events, and run it again.
    await database.pool.query('DROP TABLE lead_claimers, report_events');
    await database.pool.query(
      `ALTER TABLE leads ${ROLLUP_COLUMNS.map((c) => `DROP COLUMN ${c}`).join(', ')}`,
    );
    // The migrations up to this one, so a later one (already applied) is not run twice.
    const journal = readJournal();
    const upTo = journal.entries.findIndex((e) => e.tag === MIGRATION);
    expect(upTo).toBeGreaterThan(0);
    const folder = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-rollups-'));
    try {
      mkdirSync(path.join(folder, 'meta'));
      const entries = journal.entries.slice(0, upTo + 1);
      writeFileSync(path.join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries }));
      for (const e of entries)
        copyFileSync(path.join(MIGRATIONS_FOLDER, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
      await database.pool.query('DELETE FROM __drizzle_migrations WHERE created_at >= ?', [
        journal.entries[upTo]!.when,
      ]);
      await migrate(database.db, { migrationsFolder: folder, migrationsTable: '__drizzle_migrations' });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }

    const filled = await rollups(database.pool);
    expect(filled).toEqual(kept);
    expect(filled.leads.filter((l) => l.first_claimed_at !== null).length).toBeGreaterThan(5);
    expect(filled.events.length).toBeGreaterThan(20);
  });
});
