import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { testServerUrl } from './test-db';

/**
 * One run id per `jest` invocation. Test files that need MySQL create their own database named
 * `<run id>_<random>` (test-db.ts); global-teardown drops every database of this run.
 */
export default async function globalSetup(): Promise<void> {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  process.env.LEADRELAY_TEST_RUN = `lrtest_${stamp}_${randomBytes(3).toString('hex')}`;
  try {
    const connection = await mysql.createConnection({ uri: testServerUrl(), connectTimeout: 5000 });
    await connection.end();
  } catch (error) {
    throw new Error(
      `无法连接测试数据库 ${testServerUrl()}（${(error as Error).message}）。` +
        '请启动 MariaDB/MySQL（例如 `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`），' +
        '或用 TEST_DATABASE_URL 指向可用的服务器。',
    );
  }
}
