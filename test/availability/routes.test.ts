import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { availabilityRoutes } from '../../src/availability/routes';
import { memberAvailability } from '../../src/db/schema';
import { errorHandler } from '../../src/http/error-handler';
import { createManualClock } from '../../src/lib/clock';
import { createLogging } from '../../src/lib/logger';
import { request } from '../helpers/http';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { insertLead, routingDeps } from '../routing/routing-fixtures';

const ADMIN_KEY = 'test-admin-key-0123456789';
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
let database: TestDatabase;
let server: Server;
let base: string;
const clock = createManualClock('2026-11-21T01:00:00.000Z');

beforeAll(async () => {
  database = await createTestDatabase();
  const { org, directory } = routingDeps();
  // The router as app.ts mounts it, behind the same error middleware.
  const app = new Koa();
  app.use(errorHandler(createLogging({ level: 'silent' }).logger));
  const router = availabilityRoutes({
    db: database.db,
    org,
    directory,
    clock,
    env: { ADMIN_API_KEY: ADMIN_KEY },
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/members`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await database.drop();
});
beforeEach(async () => {
  await database.db.delete(memberAvailability);
});

describe('PUT /api/v1/members/:id/away', () => {
  it('sets a member away with a duration and shows their status', async () => {
    const res = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: auth,
      body: { until: '3d', reason: '年假' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      memberId: 'b',
      status: 'away',
      awayUntil: '2026-11-24T01:00:00.000Z',
      reason: '年假',
      setBy: 'admin:api',
      teams: ['east'],
    });
    const local = await request(`${base}/c/away`, {
      method: 'PUT',
      headers: auth,
      body: { until: '2026-11-25' },
    });
    expect(local.body.awayUntil).toBe('2026-11-24T16:00:00.000Z');
  });

  it('rejects in order: 415, 401, 400, 422, then 404 for an unknown member', async () => {
    const text = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'text/plain' },
      raw: '{}',
    });
    expect(text.status).toBe(415);
    const anonymous = await request(`${base}/b/away`, { method: 'PUT', body: { until: '3d' } });
    expect(anonymous.status).toBe(401);
    const wrongKey = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: { authorization: 'Bearer wrong-key-0123456789' },
      body: { until: '3d' },
    });
    expect(wrongKey.status).toBe(401);
    const malformed = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      raw: '{"until":',
    });
    expect(malformed.status).toBe(400);
    const invalid = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: auth,
      body: { until: 'next week', note: 'x' },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.issues).toEqual([{ path: 'note', message: '未知字段' }]);
    const badTime = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: auth,
      body: { until: 'next week' },
    });
    expect(badTime.status).toBe(422);
    expect(badTime.body.issues[0].path).toBe('until');
    expect(badTime.body.issues[0].message).toMatch(/^离开截止时间：应为时长/);
    const past = await request(`${base}/b/away`, {
      method: 'PUT',
      headers: auth,
      body: { until: '2026-11-20T00:00:00Z' },
    });
    expect(past.status).toBe(422);
    const unknown = await request(`${base}/ghost/away`, {
      method: 'PUT',
      headers: auth,
      body: { until: '3d' },
    });
    expect(unknown.status).toBe(404);
    const departed = await request(`${base}/d/away`, { method: 'PUT', headers: auth, body: { until: '3d' } });
    expect(departed.status).toBe(409);
    expect(await database.db.select().from(memberAvailability)).toEqual([]);
  });
});

describe('DELETE /api/v1/members/:id/away', () => {
  it('brings a member back, and says whether they were away', async () => {
    await request(`${base}/b/away`, { method: 'PUT', headers: auth, body: { until: '3d' } });
    const back = await request(`${base}/b/away`, { method: 'DELETE', headers: auth });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ memberId: 'b', status: 'available', awayUntil: null, wasAway: true });
    const again = await request(`${base}/b/away`, { method: 'DELETE', headers: auth });
    expect(again.body.wasAway).toBe(false);
    expect((await request(`${base}/b/away`, { method: 'DELETE' })).status).toBe(401);
  });
});

describe('GET /api/v1/members', () => {
  it('lists members with status and open leads, for the admin only', async () => {
    await insertLead(database.db, { ownerId: 'a', stage: 'contacted' });
    await request(`${base}/b/away`, { method: 'PUT', headers: auth, body: { until: '4h', reason: '出差' } });
    const res = await request(base, { headers: auth });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.members.map((m: { memberId: string }) => [m.memberId, m]));
    expect(byId.a).toMatchObject({ status: 'available', openLeads: 1 });
    expect(byId.b).toMatchObject({ status: 'away', awayUntil: '2026-11-21T05:00:00.000Z', reason: '出差' });
    expect(byId.d).toMatchObject({ status: 'inactive' });
    expect((await request(base)).status).toBe(401);
  });
});
