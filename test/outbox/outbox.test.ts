import { eq, sql } from 'drizzle-orm';
import { outbox } from '../../src/db/schema';
import { createLogging } from '../../src/lib/logger';
import { claimDueMessages } from '../../src/outbox/claim-due-messages';
import { completeMessage } from '../../src/outbox/complete-message';
import { enqueueOutbox } from '../../src/outbox/enqueue';
import { createOutboxWorker } from '../../src/outbox/worker';
import type { ChatPlatform, OutboundMessage, RenderedRequest, SendResult } from '../../src/platforms/types';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

/** A platform that records what it was asked to send and answers from a script. */
function createFakePlatform(options: { limit?: number; window?: number } = {}) {
  const sent: RenderedRequest[] = [];
  let renders = 0;
  let script: ((request: RenderedRequest) => SendResult | Promise<SendResult>) | undefined;
  const platform: ChatPlatform = {
    name: 'wecom',
    render(message: OutboundMessage, { dedupeKey }) {
      renders++;
      // The render counter makes a second render differ: retries must reuse the frozen first one.
      return {
        api: 'fake/send',
        body: JSON.stringify({ dedupeKey, message, render: renders }),
        ambiguousRetryWindowMs: options.window ?? 3_600_000,
      };
    },
    async send(request) {
      sent.push(request);
      return script ? script(request) : { ok: true, platformMessageId: `m${sent.length}` };
    },
    pacing(message) {
      const to =
        message.kind === 'card_update'
          ? message.userIds[0]
          : message.to.kind === 'user'
            ? message.to.userId
            : message.to.groupKey;
      return { target: `fake:${to}`, limits: [{ perSeconds: 60, max: options.limit ?? 1000 }] };
    },
  };
  return { platform, sent, setScript: (s: typeof script) => (script = s) };
}

const text = (userId: string, n: number): OutboundMessage => ({
  kind: 'text',
  to: { kind: 'user', userId },
  text: `消息 ${n}`,
});
const logger = createLogging({ level: 'silent' }).logger;
const policy = { maxAttempts: 3, backoff: { baseMs: 1000, maxMs: 10_000 }, random: () => 0.5 };

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.execute(sql`DELETE FROM outbox`);
  await database.db.execute(sql`DELETE FROM outbox_attempts`);
});

async function enqueue(items: { key: string; userId: string }[]) {
  await enqueueOutbox(
    database.db,
    items.map((item, i) => ({ dedupeKey: item.key, platform: 'wecom', message: text(item.userId, i) })),
    new Date(),
  );
}

async function rowsByKey() {
  const rows = await database.db.select().from(outbox);
  return new Map(rows.map((r) => [r.dedupeKey, r]));
}

describe('outbox', () => {
  it('writes one row per dedupe key however often the same effect is enqueued', async () => {
    await enqueue([{ key: 'lead:1:card', userId: 'u1' }]);
    await enqueue([{ key: 'lead:1:card', userId: 'u1' }]);
    expect((await rowsByKey()).size).toBe(1);
  });

  it('two workers on one database never send a row twice', async () => {
    const fake = createFakePlatform();
    fake.setScript(async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      return { ok: true };
    });
    await enqueue(Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, userId: `u${i % 7}` })));
    const platforms = new Map([['wecom', fake.platform]]);
    const workers = [1, 2].map(() =>
      createOutboxWorker({
        db: database.db,
        platforms,
        logger,
        options: { concurrency: 8, pollMs: 10, policy },
      }),
    );
    for (const w of workers) w.start();
    for (let i = 0; i < 200; i++) {
      const [rows] = (await database.db.execute(
        sql`SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'`,
      )) as unknown as [{ n: number }[]];
      if (Number(rows[0]!.n) === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(workers.map((w) => w.stop()));
    const keys = fake.sent.map((r) => JSON.parse(r.body).dedupeKey);
    expect(keys).toHaveLength(200);
    expect(new Set(keys).size).toBe(200);
    expect(workers[0]!.counters.sent + workers[1]!.counters.sent).toBe(200);
    expect(workers[0]!.counters.sent).toBeGreaterThan(0);
    expect(workers[1]!.counters.sent).toBeGreaterThan(0);
  });

  it('a worker paused past its lease cannot mark the row sent; the re-claim sends the frozen bytes', async () => {
    const fake = createFakePlatform();
    const platforms = new Map([['wecom', fake.platform]]);
    await enqueue([{ key: 'paused', userId: 'u1' }]);
    const stalled = await claimDueMessages(database.db, { limit: 10, leaseMs: 30_000, platforms });
    expect(stalled.claimed).toHaveLength(1);
    // The first worker freezes (SIGSTOP, GC pause…) until its lease has run out.
    await database.db.execute(
      sql`UPDATE outbox SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE dedupe_key = 'paused'`,
    );
    const second = await claimDueMessages(database.db, { limit: 10, leaseMs: 30_000, platforms });
    expect(second.claimed).toHaveLength(1);
    expect(second.claimed[0]!.request.body).toBe(stalled.claimed[0]!.request.body);
    expect(second.claimed[0]!.leaseToken).not.toBe(stalled.claimed[0]!.leaseToken);
    expect(await completeMessage(database.db, second.claimed[0]!, { ok: true }, policy)).toBe('sent');
    // The stalled worker wakes up and reports its own send: nothing changes.
    expect(await completeMessage(database.db, stalled.claimed[0]!, { ok: true }, policy)).toBe('lease_lost');
    expect(
      await completeMessage(
        database.db,
        stalled.claimed[0]!,
        { ok: false, outcome: 'retry', code: 'x', message: 'x' },
        policy,
      ),
    ).toBe('lease_lost');
    const row = (await rowsByKey()).get('paused')!;
    expect([row.status, row.attempts]).toEqual(['sent', 2]);
  });

  it('retries with backoff on retryable failures, dead-letters after the last attempt', async () => {
    const fake = createFakePlatform();
    const platforms = new Map([['wecom', fake.platform]]);
    fake.setScript(() => ({ ok: false, outcome: 'retry', code: '-1', message: '系统繁忙' }));
    await enqueue([{ key: 'flaky', userId: 'u1' }]);
    const worker = createOutboxWorker({ db: database.db, platforms, logger, options: { policy } });
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await worker.runOnce()).toBe(1);
      const row = (await rowsByKey()).get('flaky')!;
      if (attempt < 3) {
        expect(row.status).toBe('pending');
        const [[{ wait }]] = (await database.db.execute(
          sql`SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), next_attempt_at) / 1000 AS wait FROM outbox WHERE id = ${row.id}`,
        )) as unknown as [[{ wait: number }]];
        // Equal jitter with random 0.5: 0.75 × 1 s, then 0.75 × 2 s.
        expect(Number(wait)).toBeGreaterThan(750 * 2 ** (attempt - 1) - 200);
        expect(Number(wait)).toBeLessThanOrEqual(750 * 2 ** (attempt - 1));
        expect(await worker.runOnce()).toBe(0);
        await database.db.execute(sql`UPDATE outbox SET next_attempt_at = NOW(3) WHERE id = ${row.id}`);
      } else {
        expect(row.status).toBe('dead');
        expect(row.lastError).toBe('-1: 系统繁忙');
      }
    }
    expect(worker.counters.dead).toBe(1);
    // Every attempt sent the same frozen bytes.
    expect(new Set(fake.sent.map((r) => r.body)).size).toBe(1);
  });

  it('stops at once on a permanent error', async () => {
    const fake = createFakePlatform();
    fake.setScript(() => ({ ok: false, outcome: 'permanent', code: '81013', message: '接收人无效' }));
    await enqueue([{ key: 'bad-user', userId: 'ghost' }]);
    const worker = createOutboxWorker({
      db: database.db,
      platforms: new Map([['wecom', fake.platform]]),
      logger,
      options: { policy },
    });
    await worker.runOnce();
    expect((await rowsByKey()).get('bad-user')!.status).toBe('dead');
  });

  it('retries an ambiguous send inside the safe window and marks it maybe_sent after', async () => {
    const fake = createFakePlatform({ window: 60_000 });
    fake.setScript(() => ({ ok: false, outcome: 'ambiguous', code: 'timeout', message: '超时' }));
    await enqueue([{ key: 'amb', userId: 'u1' }]);
    const worker = createOutboxWorker({
      db: database.db,
      platforms: new Map([['wecom', fake.platform]]),
      logger,
      options: { policy },
    });
    await worker.runOnce();
    expect((await rowsByKey()).get('amb')!.status).toBe('pending');
    await database.db.execute(
      sql`UPDATE outbox SET next_attempt_at = NOW(3), first_attempt_at = NOW(3) - INTERVAL 2 MINUTE WHERE dedupe_key = 'amb'`,
    );
    await worker.runOnce();
    expect((await rowsByKey()).get('amb')!.status).toBe('maybe_sent');
    expect(worker.counters.maybeSent).toBe(1);
  });

  it('does not re-send a crashed attempt past the safe window', async () => {
    const fake = createFakePlatform({ window: 0 });
    const platforms = new Map([['wecom', fake.platform]]);
    await enqueue([{ key: 'crash', userId: 'u1' }]);
    await claimDueMessages(database.db, { limit: 1, leaseMs: 30_000, platforms });
    await database.db.execute(
      sql`UPDATE outbox SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE dedupe_key = 'crash'`,
    );
    const report = await claimDueMessages(database.db, { limit: 1, leaseMs: 30_000, platforms });
    expect([report.claimed.length, report.maybeSent]).toEqual([0, 1]);
    expect((await rowsByKey()).get('crash')!.status).toBe('maybe_sent');
  });

  it('paces per recipient across claimers: the excess waits for a free slot, nothing is dropped', async () => {
    const fake = createFakePlatform({ limit: 30 });
    const platforms = new Map([['wecom', fake.platform]]);
    await enqueue([
      ...Array.from({ length: 40 }, (_, i) => ({ key: `burst${i}`, userId: 'busy' })),
      { key: 'other', userId: 'calm' },
    ]);
    const [a, b] = await Promise.all([
      claimDueMessages(database.db, { limit: 25, leaseMs: 30_000, platforms }),
      claimDueMessages(database.db, { limit: 25, leaseMs: 30_000, platforms }),
    ]);
    const claimed = [...a.claimed, ...b.claimed];
    expect(
      claimed.filter(
        (c) => c.message.kind === 'text' && c.message.to.kind === 'user' && c.message.to.userId === 'busy',
      ),
    ).toHaveLength(30);
    expect(claimed.some((c) => c.dedupeKey === 'other')).toBe(true);
    const [[pending]] = (await database.db.execute(
      sql`SELECT COUNT(*) AS n, MIN(TIMESTAMPDIFF(SECOND, NOW(3), next_attempt_at)) AS wait FROM outbox WHERE status = 'pending'`,
    )) as unknown as [[{ n: number; wait: number }]];
    // The rest of the 40 wait about a minute (till the first attempts leave the window).
    expect(Number(pending.n)).toBe(10);
    expect(Number(pending.wait)).toBeGreaterThanOrEqual(58);
    expect(Number(pending.wait)).toBeLessThanOrEqual(60);
  });

  it('dead-letters a message its platform cannot render without blocking the others', async () => {
    const fake = createFakePlatform();
    const render = fake.platform.render;
    fake.platform.render = (message, options) => {
      if (options.dedupeKey === 'unrenderable') throw new Error('task_id 含非法字符');
      return render(message, options);
    };
    await enqueue([
      { key: 'unrenderable', userId: 'u1' },
      { key: 'fine', userId: 'u1' },
    ]);
    const worker = createOutboxWorker({
      db: database.db,
      platforms: new Map([['wecom', fake.platform]]),
      logger,
      options: { policy },
    });
    await worker.runOnce();
    const rows = await rowsByKey();
    expect([rows.get('unrenderable')!.status, rows.get('fine')!.status]).toEqual(['dead', 'sent']);
    expect(rows.get('unrenderable')!.lastError).toBe('render: task_id 含非法字符');
  });

  it('treats "already accepted" after an earlier attempt as maybe_sent, on a first attempt as dead', async () => {
    const fake = createFakePlatform();
    let calls = 0;
    fake.setScript(() =>
      ++calls === 1
        ? { ok: false, outcome: 'ambiguous', code: 'timeout', message: '超时' }
        : {
            ok: false,
            outcome: 'permanent',
            code: 'wecom_42014',
            message: 'task_id 已存在',
            alreadyAccepted: true,
          },
    );
    await enqueue([{ key: 'dup-task', userId: 'u1' }]);
    const worker = createOutboxWorker({
      db: database.db,
      platforms: new Map([['wecom', fake.platform]]),
      logger,
      options: { policy },
    });
    await worker.runOnce();
    await database.db.execute(sql`UPDATE outbox SET next_attempt_at = NOW(3) WHERE dedupe_key = 'dup-task'`);
    await worker.runOnce();
    expect((await rowsByKey()).get('dup-task')!.status).toBe('maybe_sent');

    fake.setScript(() => ({
      ok: false,
      outcome: 'permanent',
      code: 'wecom_42014',
      message: 'task_id 已存在',
      alreadyAccepted: true,
    }));
    await enqueue([{ key: 'first-try', userId: 'u1' }]);
    await worker.runOnce();
    expect((await rowsByKey()).get('first-try')!.status).toBe('dead');
  });

  it('a single-use request refused on a resend after a cut-off answer is maybe_sent, not dead (chaos)', async () => {
    // Found by `npm run test:chaos`: update_template_card applied by WeCom, the answer cut off, the
    // resend refused (the response_code was used up) and the row dead-lettered although delivered.
    const fake = createFakePlatform({ window: Number.POSITIVE_INFINITY });
    let calls = 0;
    fake.setScript(() =>
      ++calls === 1
        ? { ok: false, outcome: 'ambiguous', code: 'net_ECONNRESET', message: '连接被重置' }
        : { ok: false, outcome: 'permanent', code: 'wecom_40058', message: 'response_code 已使用' },
    );
    await enqueue([{ key: 'card:L1:settle', userId: 'u1' }]);
    const worker = createOutboxWorker({
      db: database.db,
      platforms: new Map([['wecom', fake.platform]]),
      logger,
      options: { policy },
    });
    await worker.runOnce();
    await database.db.execute(sql`UPDATE outbox SET next_attempt_at = NOW(3)`);
    await worker.runOnce();
    expect(calls).toBe(2);
    expect((await rowsByKey()).get('card:L1:settle')!.status).toBe('maybe_sent');

    // The same refusal on a first attempt is a real error: dead, and alerted.
    await enqueue([{ key: 'card:L2:settle', userId: 'u1' }]);
    await worker.runOnce();
    expect((await rowsByKey()).get('card:L2:settle')!.status).toBe('dead');
  });

  it('records a success in one round trip on the batch pool, still fenced by the lease token', async () => {
    const fake = createFakePlatform();
    const platforms = new Map([['wecom', fake.platform]]);
    await enqueueOutbox(
      database.db,
      [
        {
          dedupeKey: 'batch-card',
          platform: 'wecom',
          cardId: 'L2-new',
          message: {
            kind: 'card',
            to: { kind: 'user', userId: 'LiNa' },
            cardId: 'L2-new',
            card: { template: 'new-lead', title: 't', fields: [], buttons: [] },
          },
        },
      ],
      new Date(),
    );
    const stalled = await claimDueMessages(database.db, { limit: 1, leaseMs: 30_000, platforms });
    await database.db.execute(
      sql`UPDATE outbox SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE dedupe_key = 'batch-card'`,
    );
    const fresh = await claimDueMessages(database.db, { limit: 1, leaseMs: 30_000, platforms });
    const ok = { ok: true as const, updateToken: 'rc-batch', platformMessageId: 'msg-9' };
    expect(await completeMessage(database.db, stalled.claimed[0]!, ok, policy, database.batchPool)).toBe(
      'lease_lost',
    );
    const [[none]] = (await database.db.execute(
      sql`SELECT COUNT(*) AS n FROM card_update_tokens WHERE card_id = 'L2-new'`,
    )) as unknown as [[{ n: number }]];
    expect(Number(none.n)).toBe(0);
    expect(await completeMessage(database.db, fresh.claimed[0]!, ok, policy, database.batchPool)).toBe(
      'sent',
    );
    const row = (await rowsByKey()).get('batch-card')!;
    expect([row.status, row.result]).toEqual(['sent', { platformMessageId: 'msg-9', hasUpdateToken: true }]);
    const [[token]] = (await database.db.execute(
      sql`SELECT token FROM card_update_tokens WHERE card_id = 'L2-new' AND user_id = 'LiNa'`,
    )) as unknown as [[{ token: string }]];
    expect(token.token).toBe('rc-batch');
  });

  it('records a card-update token returned by the send', async () => {
    const fake = createFakePlatform();
    fake.setScript(() => ({ ok: true, updateToken: 'rc-1' }));
    await enqueueOutbox(
      database.db,
      [
        {
          dedupeKey: 'card-1',
          platform: 'wecom',
          cardId: 'L1-new',
          message: {
            kind: 'card',
            to: { kind: 'user', userId: 'WangLei' },
            cardId: 'L1-new',
            card: { template: 'new-lead', title: 't', fields: [], buttons: [] },
          },
        },
      ],
      new Date(),
    );
    const worker = createOutboxWorker({
      db: database.db,
      platforms: new Map([['wecom', fake.platform]]),
      logger,
      options: { policy },
    });
    await worker.runOnce();
    const [[token]] = (await database.db.execute(
      sql`SELECT token FROM card_update_tokens WHERE card_id = 'L1-new' AND user_id = 'WangLei'`,
    )) as unknown as [[{ token: string }]];
    expect(token.token).toBe('rc-1');
    expect((await database.db.select().from(outbox).where(eq(outbox.dedupeKey, 'card-1')))[0]!.status).toBe(
      'sent',
    );
  });
});
