import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { parseEnv } from '../../src/config/env';
import { loadOrgConfig } from '../../src/config/load-org-config';
import { createDatabase } from '../../src/db/client';
import { leadEvents } from '../../src/db/schema';
import { createEmulator, type Emulator } from '../../src/emulator/create-emulator';
import { createManualClock } from '../../src/lib/clock';
import { createLogging } from '../../src/lib/logger';
import { assembleRuntime } from '../../src/runtime';
import { type RunningServer, startServer } from '../../src/server';
import { createApiKey } from '../../src/sources/api-keys';
import { request } from '../helpers/http';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { WECOM, waitFor } from '../helpers/wecom-stack';

/**
 * Three LeadRelay instances on one database (each with its own pool, outbox worker and timer
 * worker), as behind a load balancer: every lead still gets one card per offer, one escalation per
 * level and one recycle, because effects are decided by unique keys and SKIP LOCKED claims, never by
 * in-process state.
 */
const ORG = path.resolve(__dirname, '../fixtures/org.sla.jsonc');
const USERS: Record<string, string> = {
  WangLei: 'rep_a',
  LiNa: 'rep_b',
  ZhangWei: 'rep_c',
  LiuYang: 'rep_d',
  WuTing: 'rep_e',
  ChenSup: 'sup',
  ZhouDir: 'dir',
};

let database: TestDatabase;
let emulator: Emulator;
const servers: RunningServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const clock = createManualClock(new Date());
  emulator = createEmulator({
    clock,
    wecom: {
      corpId: WECOM.corpId,
      corpSecret: WECOM.secret,
      agentId: WECOM.agentId,
      token: WECOM.token,
      encodingAesKey: WECOM.aesKey,
      members: Object.entries(USERS).map(([userid, name]) => ({ userid, name })),
    },
  });
  const emulatorUrl = await emulator.start(0);
  for (let i = 0; i < 3; i++) {
    const env = parseEnv({
      DATABASE_URL: database.url,
      LEADRELAY_CONFIG: ORG,
      LOG_LEVEL: 'silent',
      API_KEY_CACHE_SECONDS: '0',
      WECOM_CORP_ID: WECOM.corpId,
      WECOM_AGENT_ID: String(WECOM.agentId),
      WECOM_SECRET: WECOM.secret,
      WECOM_TOKEN: WECOM.token,
      WECOM_ENCODING_AES_KEY: WECOM.aesKey,
      WECOM_API_BASE: emulatorUrl,
      EMULATOR_URL: emulatorUrl,
      WECOM_TIMEOUT_MS: '1000',
    });
    const org = loadOrgConfig(ORG, {});
    const runtime = assembleRuntime({
      env,
      org,
      logging: createLogging({ level: 'silent' }),
      clock,
      database: createDatabase(database.url, { poolSize: 5 }),
    });
    servers.push(
      await startServer(runtime, {
        port: 0,
        host: '127.0.0.1',
        outbox: { pollMs: 20 },
        timers: { maxIdleMs: 100 },
      }),
    );
  }
  emulator.control.setCallbackUrl(`${servers[0]!.url}/callbacks/wecom`);
}, 30_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await emulator.stop();
  await database.drop();
});

it('gives each lead one card per offer, one escalation per level and one recycle across three instances', async () => {
  const key = (await createApiKey(database.db, { sourceId: 'website', now: new Date() })).key;
  const ids: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await request(`${servers[i % 3]!.url}/api/v1/leads`, {
      body: {
        name: `三实例${i}`,
        phone: `135000040${String(i).padStart(2, '0')}`,
        industry: '制造业',
        title: '总监',
      },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  // Nobody claims: each lead is rerouted once, then escalated to the supervisor (5 s) and the director (7 s).
  for (const id of ids) {
    await waitFor(
      async () => {
        const [rows] = (await database.db.execute(
          sql`SELECT COUNT(*) AS n FROM lead_events WHERE lead_id = ${id} AND type = 'sla.escalated'`,
        )) as unknown as [{ n: number }[]];
        return Number(rows[0]!.n) >= 2;
      },
      `lead ${id} escalated twice`,
      20_000,
    );
  }
  // Let every queued message go out.
  await waitFor(async () => {
    const [rows] = (await database.db.execute(
      sql`SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'`,
    )) as unknown as [{ n: number }[]];
    return Number(rows[0]!.n) === 0;
  }, 'the outbox to drain');

  for (const id of ids) {
    const events = await database.db.select().from(leadEvents).where(eq(leadEvents.leadId, id));
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect([
      count('lead.assigned'),
      count('lead.rerouted'),
      count('sla.escalated'),
      count('sla.claim_missed'),
    ]).toEqual([1, 1, 2, 1]);
    const cardsOf = (template: string) =>
      Object.keys(USERS)
        .flatMap((u) => emulator.state.cards(u))
        .filter((c) => c.card.taskId?.startsWith(`L${id}-${template}-`));
    expect(cardsOf('new-lead')).toHaveLength(2);
    const escalations = cardsOf('escalation');
    expect(escalations).toHaveLength(2);
    expect(
      emulator.state.cards('ChenSup').filter((c) => c.card.taskId?.startsWith(`L${id}-escalation-`)),
    ).toHaveLength(1);
    expect(
      emulator.state.cards('ZhouDir').filter((c) => c.card.taskId?.startsWith(`L${id}-escalation-`)),
    ).toHaveLength(1);
  }
  // Every instance's workers took part: the load really was shared.
  const fired = servers.map((s) => s.timers.counters.fired);
  expect(fired.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);

  // Two of them are claimed and then neglected: each is recycled once and offered to the pool once.
  const neglected = ids.slice(0, 2);
  for (const id of neglected) {
    const holder = Object.keys(USERS).find((u) =>
      emulator.state.cards(u).some((c) => c.card.taskId?.startsWith(`L${id}-new-lead-`) && !c.card.disabled),
    )!;
    const card = emulator.state
      .cards(holder)
      .find((c) => c.card.taskId?.startsWith(`L${id}-new-lead-`) && !c.card.disabled)!;
    await emulator.control.clickButton(holder, { taskId: card.card.taskId!, eventKey: 'claim' });
  }
  for (const id of neglected) {
    await waitFor(
      async () =>
        (
          await database.db
            .select()
            .from(leadEvents)
            .where(and(eq(leadEvents.leadId, id), eq(leadEvents.type, 'lead.recycled')))
        ).length > 0,
      `lead ${id} recycled`,
      15_000,
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  for (const id of neglected) {
    const events = await database.db.select().from(leadEvents).where(eq(leadEvents.leadId, id));
    expect(events.filter((e) => e.type === 'lead.recycled')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'sla.recycle_warned')).toHaveLength(1);
    const offers = Object.keys(USERS)
      .flatMap((u) => emulator.state.cards(u))
      .filter((c) => c.card.taskId?.startsWith(`L${id}-pool-offer-`));
    expect(offers).toHaveLength(4);
  }
}, 60_000);
