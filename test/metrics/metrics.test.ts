import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/client';
import { createMetrics } from '../../src/metrics/metrics';
import { type Backlog, backlogQuery, readBacklog } from '../../src/metrics/read-backlog';
import { request } from '../helpers/http';
import { startTestApp, type TestApp } from '../helpers/test-app';

/**
 * GET /metrics on the real server (workers off, so the backlog stays as the test leaves it) over
 * real HTTP: intake counters per source, request durations per route template, and the backlog
 * gauges read from MariaDB at scrape time.
 */
let app: TestApp;
let db: Db | undefined;

beforeAll(async () => {
  // The backlog is read from the test database, known once the app has created it; no cache, so
  // every scrape sees the rows the test just wrote.
  const metrics = createMetrics({ readBacklog: () => readBacklog(db!), cacheMs: 0, now: () => Date.now() });
  app = await startTestApp({ server: { workers: false, metrics } });
  db = app.database.db;
});
afterAll(async () => {
  await app.close();
});

/** The value of one sample line, e.g. `leadrelay_intake_total{source="website",outcome="created"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (wanted.every((w) => labelText.split(',').includes(w))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

async function scrape(headers: Record<string, string> = {}): Promise<string> {
  const res = await request(`${app.url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.body as string;
}

describe('backlog gauges (read from MySQL at scrape time)', () => {
  it('are zero on an empty database', async () => {
    const text = await scrape();
    expect(sample(text, 'leadrelay_backlog_up')).toBe(1);
    expect(sample(text, 'leadrelay_outbox_messages', { status: 'pending' })).toBe(0);
    expect(sample(text, 'leadrelay_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sample(text, 'leadrelay_timer_lag_seconds')).toBe(0);
    expect(sample(text, 'leadrelay_timers_due')).toBe(0);
  });

  it('count pending and dead messages, the oldest pending age and the timer lag, by the database clock', async () => {
    await db!.execute(sql`INSERT INTO outbox (dedupe_key, platform, kind, message, status, next_attempt_at, created_at)
      VALUES ('m:old', 'wecom', 'text', '{}', 'pending', NOW(3), NOW(3) - INTERVAL 90 SECOND),
             ('m:new', 'wecom', 'text', '{}', 'pending', NOW(3) + INTERVAL 1 MINUTE, NOW(3) - INTERVAL 5 SECOND),
             ('m:dead', 'wecom', 'text', '{}', 'dead', NOW(3), NOW(3) - INTERVAL 1 HOUR),
             ('m:sent', 'wecom', 'text', '{}', 'sent', NOW(3), NOW(3) - INTERVAL 2 HOUR)`);
    await db!.execute(sql`INSERT INTO timers (effect_key, kind, payload, due_at, status, created_at)
      VALUES ('t:late', 'test.kind', '{}', NOW(3) - INTERVAL 30 SECOND, 'pending', NOW(3)),
             ('t:later', 'test.kind', '{}', NOW(3) + INTERVAL 1 HOUR, 'pending', NOW(3)),
             ('t:done', 'test.kind', '{}', NOW(3) - INTERVAL 1 HOUR, 'done', NOW(3))`);
    await db!.execute(sql`INSERT INTO inbox_events (platform, app_id, event_id, kind, event, status, received_at)
      VALUES ('wecom', 'app', 'e1', 'text', '{}', 'received', NOW(3))`);
    try {
      const text = await scrape();
      expect(sample(text, 'leadrelay_outbox_messages', { status: 'pending' })).toBe(2);
      expect(sample(text, 'leadrelay_outbox_messages', { status: 'dead' })).toBe(1);
      expect(sample(text, 'leadrelay_outbox_messages', { status: 'sending' })).toBe(0);
      const age = sample(text, 'leadrelay_outbox_oldest_pending_age_seconds')!;
      expect(age).toBeGreaterThanOrEqual(90);
      expect(age).toBeLessThan(100);
      expect(sample(text, 'leadrelay_timers_due')).toBe(1);
      const lag = sample(text, 'leadrelay_timer_lag_seconds')!;
      expect(lag).toBeGreaterThanOrEqual(30);
      expect(lag).toBeLessThan(40);
      expect(sample(text, 'leadrelay_inbox_unprocessed_events')).toBe(1);
    } finally {
      await db!.execute(sql`DELETE FROM outbox WHERE dedupe_key LIKE 'm:%'`);
      await db!.execute(sql`DELETE FROM timers WHERE effect_key LIKE 't:%'`);
      await db!.execute(sql`DELETE FROM inbox_events WHERE event_id = 'e1'`);
    }
  });

  it('reads only index ranges (EXPLAIN: no full scan of outbox or timers)', async () => {
    await db!.execute(sql`ANALYZE TABLE outbox, timers, inbox_events`);
    const [rows] = (await db!.execute(sql`EXPLAIN ${backlogQuery()}`)) as unknown as [
      { table: string | null; type: string | null; key: string | null }[],
    ];
    for (const row of rows.filter((r) => r.table && ['outbox', 'timers', 'inbox_events'].includes(r.table))) {
      expect(row.type).not.toBe('ALL');
    }
  });
});

describe('intake counters and request durations', () => {
  it('count created, merged, rejected and replayed submissions per source', async () => {
    const key = await app.createKey('website');
    const auth = { authorization: `Bearer ${key}` };
    const lead = { name: '张伟', phone: '13812340001', company: '苏州精工机械有限公司' };
    expect((await request(`${app.url}/api/v1/leads`, { body: lead, headers: auth })).status).toBe(201);
    expect((await request(`${app.url}/api/v1/leads`, { body: lead, headers: auth })).status).toBe(200);
    const bad = await request(`${app.url}/api/v1/leads`, { body: { phone: 'not a phone' }, headers: auth });
    expect(bad.status).toBe(422);
    const once = { ...auth, 'idempotency-key': 'metrics-1' };
    const other = { name: '李娜', phone: '13812340002' };
    expect((await request(`${app.url}/api/v1/leads`, { body: other, headers: once })).status).toBe(201);
    const replay = await request(`${app.url}/api/v1/leads`, { body: other, headers: once });
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    // Unauthenticated requests are not a source's submissions.
    expect((await request(`${app.url}/api/v1/leads`, { body: lead })).status).toBe(401);

    const text = await scrape();
    const count = (outcome: string) => sample(text, 'leadrelay_intake_total', { source: 'website', outcome });
    expect([count('created'), count('merged'), count('rejected'), count('replayed')]).toEqual([2, 1, 1, 1]);
    // Durations by route template and final status (the error handler's, not the router's).
    const route = '/api/v1/leads';
    const observed = (status: string) =>
      sample(text, 'leadrelay_http_request_duration_seconds_count', { route, method: 'POST', status });
    // The idempotent replay answers the first 201 again.
    expect(observed('201')).toBe(3);
    expect(observed('422')).toBe(1);
    expect(observed('401')).toBe(1);
    expect(text).not.toContain('13812340001');
  });

  it('labels a lead read with its template, never the raw path', async () => {
    await request(`${app.url}/api/v1/leads/1`, {
      headers: { authorization: 'Bearer test-admin-key-0123456789' },
    });
    const text = await scrape();
    expect(
      sample(text, 'leadrelay_http_request_duration_seconds_count', { route: '/api/v1/leads/:id' }),
    ).toBe(1);
    expect(text).not.toContain('route="/api/v1/leads/1"');
  });
});

describe('METRICS_TOKEN', () => {
  it('when set, a scrape needs it as a Bearer token; the same bare 401 otherwise', async () => {
    const deps = app.server.deps;
    const guarded = createApp({ ...deps, env: { ...deps.env, METRICS_TOKEN: 'scrape-token-0123456789' } });
    const server = http.createServer(guarded.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      expect((await request(url)).status).toBe(401);
      expect(
        (await request(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status,
      ).toBe(401);
      const res = await request(url, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(res.status).toBe(200);
      expect(res.body).toContain('leadrelay_intake_total');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('createMetrics', () => {
  const backlog: Backlog = {
    outbox: { pending: 3, sending: 0, maybeSent: 0, dead: 0 },
    outboxOldestPendingSeconds: 12,
    timersDue: 0,
    timerLagSeconds: 0,
    inboxUnprocessed: 0,
  };

  it('shares one backlog read among the gauges of a scrape and among scrapes within cacheMs', async () => {
    let reads = 0;
    let now = 0;
    const metrics = createMetrics({
      readBacklog: async () => {
        reads++;
        return backlog;
      },
      cacheMs: 5000,
      now: () => now,
    });
    await Promise.all([metrics.render(), metrics.render()]);
    expect(reads).toBe(1);
    now = 4000;
    await metrics.render();
    expect(reads).toBe(1);
    now = 5001;
    expect(sample(await metrics.render(), 'leadrelay_outbox_messages', { status: 'pending' })).toBe(3);
    expect(reads).toBe(2);
  });

  it('answers with NaN gauges and backlog_up 0 when MySQL cannot be read, and tries again next scrape', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const metrics = createMetrics({
      readBacklog: async () => {
        if (fail) throw new Error('ECONNREFUSED');
        return backlog;
      },
      onBacklogError: (error) => errors.push(error),
      now: () => 0,
    });
    const text = await metrics.render();
    expect(sample(text, 'leadrelay_backlog_up')).toBe(0);
    expect(sample(text, 'leadrelay_outbox_oldest_pending_age_seconds')).toBeNaN();
    expect(sample(text, 'leadrelay_outbox_messages', { status: 'pending' })).toBeUndefined();
    expect(errors).toHaveLength(1);
    fail = false;
    expect(sample(await metrics.render(), 'leadrelay_backlog_up')).toBe(1);
  });

  it('keeps registries apart: two servers in one process never share counters', async () => {
    const a = createMetrics({ now: () => 0 });
    const b = createMetrics({ now: () => 0 });
    a.countIntake('website', 'created');
    expect(sample(await a.render(), 'leadrelay_intake_total', { outcome: 'created' })).toBe(1);
    expect(sample(await b.render(), 'leadrelay_intake_total', { outcome: 'created' })).toBeUndefined();
    expect(await b.render()).not.toContain('leadrelay_backlog_up');
  });
});
