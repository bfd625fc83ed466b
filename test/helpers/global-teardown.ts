import mysql from 'mysql2/promise';
import { testServerUrl } from './test-db';

/** Drops every database this run created, including those of test files that crashed. */
export default async function globalTeardown(): Promise<void> {
  const run = process.env.LEADRELAY_TEST_RUN;
  if (!run) return;
  const connection = await mysql.createConnection({ uri: testServerUrl() });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${run}\\_%`],
    );
    for (const row of rows) await connection.query(`DROP DATABASE IF EXISTS \`${row.name}\``);
  } finally {
    await connection.end();
  }
}
