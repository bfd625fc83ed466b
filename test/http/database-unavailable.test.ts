import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mysql from 'mysql2/promise';
import { createDatabase } from '../../src/db/client';
import { isDatabaseUnavailable } from '../../src/db/unavailable';
import { errorHandler } from '../../src/http/error-handler';
import { createLogging } from '../../src/lib/logger';

/**
 * Found by `npm run test:chaos`: while MariaDB restarted, the intake answered 500 internal_error. An
 * unreachable database is temporary: 503 with Retry-After, so lead sources and WeCom try again.
 */
const logger = createLogging({ level: 'silent' }).logger;
/** Nothing listens on port 1. */
const DEAD_URL = 'mysql://root@127.0.0.1:1/leadrelay';

async function answer(fail: () => Promise<unknown>): Promise<Response> {
  const app = new Koa();
  app.use(errorHandler(logger));
  app.use(async () => {
    await fail();
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await fetch(`http://127.0.0.1:${port}/`);
  } finally {
    server.close();
  }
}

describe('a database that cannot be reached', () => {
  it('is answered 503 with Retry-After, through drizzle and through the plain pool', async () => {
    const database = createDatabase(DEAD_URL, { poolSize: 1 });
    try {
      const viaDrizzle = await answer(() => database.db.execute('SELECT 1'));
      expect(viaDrizzle.status).toBe(503);
      expect(viaDrizzle.headers.get('retry-after')).toBe('5');
      expect(await viaDrizzle.json()).toEqual({ error: 'database_unavailable', message: expect.any(String) });
      const viaPool = await answer(() => database.pool.query('SELECT 1'));
      expect(viaPool.status).toBe(503);
    } finally {
      await database.close();
    }
  });

  it('tells connection failures from statement errors', async () => {
    const connectionError = await mysql
      .createConnection({ uri: DEAD_URL, connectTimeout: 1000 })
      .catch((error: unknown) => error);
    expect(isDatabaseUnavailable(connectionError)).toBe(true);
    expect(isDatabaseUnavailable({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true })).toBe(true);
    expect(isDatabaseUnavailable({ errno: 1053, code: 'ER_SERVER_SHUTDOWN' })).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: { code: 'ECONNRESET' } }))).toBe(true);
    expect(isDatabaseUnavailable({ errno: 1062, code: 'ER_DUP_ENTRY' })).toBe(false);
    expect(isDatabaseUnavailable({ errno: 1064, code: 'ER_PARSE_ERROR', fatal: true })).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });

  it('leaves other errors a 500', async () => {
    const res = await answer(async () => {
      throw new Error('bug');
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
  });
});
