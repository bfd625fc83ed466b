import { sql } from 'drizzle-orm';
import { migrationStatus, readJournal, runMigrations } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('applies every shipped migration and reports none pending', async () => {
    const status = await migrationStatus(database.db, readJournal());
    expect(status.expected).toBeGreaterThan(0);
    expect(status).toEqual({ expected: status.expected, applied: status.expected, pending: 0 });
  });

  it('is idempotent and safe when several instances migrate at once', async () => {
    await Promise.all([1, 2, 3].map(() => runMigrations(database.db, database.pool)));
    const status = await migrationStatus(database.db, readJournal());
    expect(status.pending).toBe(0);
  });

  it('stores times in UTC with millisecond precision', async () => {
    const [rows] = (await database.db.execute(
      sql`SELECT @@session.time_zone AS tz, DATETIME_PRECISION AS p FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'leads' AND COLUMN_NAME = 'created_at'`,
    )) as unknown as [{ tz: string; p: number }[]];
    expect(rows[0]).toEqual({ tz: '+00:00', p: 3 });
  });
});
