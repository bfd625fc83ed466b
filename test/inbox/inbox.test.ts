import { eq, sql } from 'drizzle-orm';
import { inboxEvents } from '../../src/db/schema';
import { createInbox } from '../../src/inbox/inbox';
import { createLogging } from '../../src/lib/logger';
import type { InboundEvent } from '../../src/platforms/types';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const logger = createLogging({ level: 'silent' }).logger;
let n = 0;
const textEvent = (): InboundEvent => ({
  platform: 'wecom',
  kind: 'text',
  eventId: `msg-${++n}`,
  userId: 'WangLei',
  text: '客户说下周再联系',
  at: new Date('2026-11-21T01:00:00Z'),
});

async function rowOf(eventId: string) {
  const [row] = await database.db.select().from(inboxEvents).where(eq(inboxEvents.eventId, eventId));
  return row!;
}

describe('inbox', () => {
  it('stores an event once, processes it after the answer, and refuses a duplicate delivery', async () => {
    const handled: string[] = [];
    const inbox = createInbox({
      db: database.db,
      pool: database.pool,
      logger,
      now: () => new Date(),
      handle: async (event) => {
        handled.push(event.eventId);
      },
    });
    const event = textEvent();
    expect(await inbox.accept(event, 'corp')).toBe('accepted');
    expect(await inbox.accept(event, 'corp')).toBe('duplicate');
    await inbox.stop();
    expect(handled).toEqual([event.eventId]);
    expect((await rowOf(event.eventId)).status).toBe('done');
  });

  it('the sweeper finishes, exactly once, an event whose process died after storing it', async () => {
    const handled: string[] = [];
    const handle = async (event: InboundEvent) => {
      handled.push(event.eventId);
    };
    // A process stores the event and dies before handling it: its lease runs out.
    const crashed = createInbox({
      db: database.db,
      pool: database.pool,
      logger,
      now: () => new Date(),
      handle: () => new Promise(() => undefined),
    });
    const event = textEvent();
    await crashed.accept(event, 'corp');
    await database.db.execute(
      sql`UPDATE inbox_events SET lease_until = NOW(3) - INTERVAL 1 SECOND, received_at = NOW(3) - INTERVAL 1 MINUTE WHERE event_id = ${event.eventId}`,
    );
    const survivors = [1, 2].map(() =>
      createInbox({ db: database.db, pool: database.pool, logger, now: () => new Date(), handle }),
    );
    await Promise.all(survivors.map((s) => s.sweep()));
    await Promise.all(survivors.map((s) => s.sweep()));
    expect(handled).toEqual([event.eventId]);
    expect((await rowOf(event.eventId)).status).toBe('done');
  });

  it('retries a failing handler later and gives up after the last attempt', async () => {
    let calls = 0;
    const inbox = createInbox({
      db: database.db,
      pool: database.pool,
      logger,
      now: () => new Date(),
      handle: async () => {
        calls++;
        throw new Error('数据库暂时不可用');
      },
    });
    const event = textEvent();
    await inbox.accept(event, 'corp');
    await inbox.stop();
    let row = await rowOf(event.eventId);
    expect([row.status, row.lastError, calls]).toEqual(['received', '数据库暂时不可用', 1]);
    for (let i = 0; i < 10 && row.status === 'received'; i++) {
      await database.db.execute(
        sql`UPDATE inbox_events SET lease_until = NOW(3) - INTERVAL 1 SECOND, received_at = NOW(3) - INTERVAL 1 MINUTE WHERE id = ${row.id}`,
      );
      await inbox.sweep();
      row = await rowOf(event.eventId);
    }
    expect(row.status).toBe('failed');
    expect(calls).toBe(8);
  });
});
