import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { buildCli } from '../../src/cli/main';
import { parseEnv } from '../../src/config/env';
import { leadEvents, leads, timers } from '../../src/db/schema';
import { purgeExpiredLeads } from '../../src/privacy/purge';
import { nextPurge, PURGE_TIMER_KIND, privacyTimerHandlers } from '../../src/privacy/purge-timer';
import { doc, problemsOf } from '../config/org-config-fixtures';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';
import { findInDatabase } from './helpers';

/**
 * Retention (issue 9 item 4; RELIABILITY.md "Authorization and personal data" 4): intake sets each
 * lead's `retain_until` from `privacy.retentionDays` (default 730), a new submission of the same person
 * renews it, and the daily purge (a timer row per local date) anonymises the leads past it: their
 * contact details, notes, identities, activities, cards and messages go; the row and its stage
 * history stay for the figures. Idempotent, and it leaves every other lead alone.
 */
const ORG = path.resolve(__dirname, '../abuse/fixtures/org.pii.jsonc');
const MEMBERS = ['ChenSup', 'ZhouDir', 'WangLei', 'LiNa', 'ZhangWei'];
const DAY = 86_400_000;

const OLD = { name: '东方明月', phone: '13811112222', email: 'mingyue@example.com' };
const LEGACY = { name: '慕容复兴', phone: '13633334444', email: 'murong@example.com' };
const FRESH = { name: '令狐冲冲', phone: '13555556666', email: 'linghu@example.com' };
const secretsOf = (p: typeof OLD) => [p.name, p.phone, `+86${p.phone}`, p.email];

let stack: WecomStack;
let key: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  stack = await startWecomStack({
    orgFile: ORG,
    members: MEMBERS.map((userid) => ({ userid, name: userid })),
  });
  key = await stack.app.createKey('website');
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const deps = () => ({
  db: stack.app.database.db,
  org: stack.app.server.deps.org,
  logger: stack.app.server.deps.logger,
  now: () => stack.clock.now(),
});

async function post(p: typeof OLD, extra: Record<string, unknown> = {}) {
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { name: p.name, phone: p.phone, email: p.email, industry: '制造业', ...extra },
    headers: { authorization: `Bearer ${key}` },
  });
  expect([200, 201]).toContain(res.status);
  return res.body.id as number;
}

/** Time as the app sees it (the manual clock), `ms` ago. */
const ago = (ms: number) => new Date(stack.clock.now().getTime() - ms);
const setLead = (id: number, set: Partial<typeof leads.$inferInsert>) =>
  stack.app.database.db.update(leads).set(set).where(eq(leads.id, id));

const lead = async (id: number) =>
  (await stack.app.database.db.select().from(leads).where(eq(leads.id, id)))[0];

describe('the retention date', () => {
  it('is set at intake, privacy.retentionDays (730 by default) after it, and renewed by a new submission', async () => {
    const now = stack.clock.now();
    ids.old = await post(OLD);
    expect((await lead(ids.old))!.retainUntil!.getTime()).toBe(now.getTime() + 730 * DAY);
    stack.clock.set(new Date(now.getTime() + 10 * DAY));
    expect(await post(OLD, { need: '再次咨询' })).toBe(ids.old);
    expect((await lead(ids.old))!.retainUntil!.getTime()).toBe(now.getTime() + 740 * DAY);
    stack.clock.set(now);
  });

  it('is configurable, at least 30 days', () => {
    const d = doc();
    d.privacy = { retentionDays: 7 };
    expect(problemsOf(d).join('\n')).toMatch(/\/privacy\/retentionDays/);
    d.privacy = { retentionDays: 30, purgeAt: '25:00' };
    expect(problemsOf(d).join('\n')).toMatch(/\/privacy\/purgeAt/);
  });
});

describe('the purge', () => {
  it('anonymises the leads past retention, from every table, and nothing else', async () => {
    // OLD gets a claim, a note and a reminder; LEGACY predates the column (no retain_until, created
    // three years ago); FRESH is recent.
    const holder = await waitFor(
      () =>
        MEMBERS.find((u) =>
          stack.emulator.state.cards(u).some((c) => c.card.taskId?.startsWith(`L${ids.old}-new-lead-`)),
        ),
      'the card of OLD',
    );
    await stack.emulator.control.sendText(holder, `认领 ${ids.old}`);
    await waitFor(async () => (await lead(ids.old))!.ownerId !== null, 'the claim');
    await stack.emulator.control.sendText(holder, `#${ids.old} ${OLD.name}说改用 ${OLD.phone}\n预算：50万`);
    await waitFor(
      async () =>
        (await stack.app.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, ids.old))).some(
          (e) => e.type === 'lead.stage_changed',
        ),
      'the note',
    );
    ids.legacy = await post(LEGACY);
    ids.fresh = await post(FRESH);
    await setLead(ids.legacy, { retainUntil: null, createdAt: ago(1100 * DAY) });
    await setLead(ids.old, { retainUntil: ago(DAY) });
    await waitFor(async () => {
      const [rows] = (await stack.app.database.db.execute(
        sql`SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')`,
      )) as unknown as [{ n: number }[]];
      return Number(rows[0]!.n) === 0;
    }, 'the outbox drained');
    expect(Object.keys(await findInDatabase(stack.app.database, secretsOf(OLD)))).toContain('lead_notes');

    const result = await purgeExpiredLeads(deps());
    expect(result.leadIds.sort()).toEqual([ids.old, ids.legacy].sort());
    expect(result.counts.leads).toEqual({ deleted: 0, scrubbed: 2 });

    expect(await findInDatabase(stack.app.database, [...secretsOf(OLD), ...secretsOf(LEGACY)])).toEqual({});
    expect(Object.keys(await findInDatabase(stack.app.database, secretsOf(FRESH)))).toContain('leads');

    // The row stays for the figures: its stage, team, source and history, without anyone in it.
    const row = (await lead(ids.old))!;
    expect(row).toMatchObject({ name: null, phone: null, email: null, stage: 'contacted', teamId: 'east' });
    expect(row.anonymisedAt).toEqual(stack.clock.now());
    const events = await stack.app.database.db
      .select()
      .from(leadEvents)
      .where(eq(leadEvents.leadId, ids.old));
    expect(events.find((e) => e.type === 'lead.stage_changed')!.data).toMatchObject({
      from: 'new',
      to: 'contacted',
    });
    expect(events.find((e) => e.type === 'lead.note_added')!.data).not.toHaveProperty('text');
  }, 60_000);

  it('removes messages and refused submissions older than the retention period, whoever they name', async () => {
    const db = stack.app.database.db;
    const old = ago(731 * DAY);
    await db.execute(sql`INSERT INTO inbox_events (platform, app_id, event_id, kind, event, status, received_at)
      VALUES ('wecom', 'x', 'old-1', 'text', ${JSON.stringify({ text: `${FRESH.name} 我的` })}, 'done', ${old})`);
    await db.execute(sql`INSERT INTO outbox (dedupe_key, platform, kind, message, status, next_attempt_at, created_at)
      VALUES ('old-reply', 'wecom', 'text', ${JSON.stringify({ text: FRESH.phone })}, 'sent', ${old}, ${old}),
             ('old-queued', 'wecom', 'text', '{}', 'pending', ${ago(-DAY)}, ${old})`);
    await db.execute(sql`INSERT INTO rejected_payloads (reason_code, issues, body, received_at, updated_at)
      VALUES ('validation_failed', '[]', ${Buffer.from(`{"phone":"${FRESH.phone}"}`)}, ${old}, ${old})`);
    const result = await purgeExpiredLeads(deps());
    expect(result.leadIds).toEqual([]);
    expect(result.counts).toEqual({
      inbox_events: { deleted: 1, scrubbed: 0 },
      outbox: { deleted: 1, scrubbed: 0 },
      rejected_payloads: { deleted: 1, scrubbed: 0 },
    });
    // A message not yet finished is never swept (this one is not due, so the running worker leaves it).
    const [rows] = (await db.execute(
      sql`SELECT dedupe_key AS k FROM outbox WHERE created_at = ${old}`,
    )) as unknown as [{ k: string }[]];
    expect(rows.map((r) => r.k)).toEqual(['old-queued']);
  });

  it('is idempotent, and the same person submitting again is a new lead', async () => {
    expect((await purgeExpiredLeads(deps())).leadIds).toEqual([]);
    const again = await post(OLD);
    expect(again).not.toBe(ids.old);
    expect((await lead(again))!.name).toBe(OLD.name);
  });

  it('runs daily as a timer row per local date, and catches up a missed day once', async () => {
    const org = stack.app.server.deps.org;
    // 02:00 UTC is 10:00 in Shanghai: today's 03:30 has passed, so tomorrow's.
    expect(nextPurge(org, new Date('2026-11-21T02:00:00Z'))).toEqual({
      at: new Date('2026-11-21T19:30:00Z'),
      date: '2026-11-22',
    });
    expect(nextPurge(org, new Date('2026-11-21T19:00:00Z')).date).toBe('2026-11-22');
    // The server scheduled the next one at start.
    const scheduled = await stack.app.database.db
      .select()
      .from(timers)
      .where(eq(timers.kind, PURGE_TIMER_KIND));
    expect(scheduled.map((t) => t.effectKey)).toEqual([
      `privacy:purge:${nextPurge(org, stack.clock.now()).date}`,
    ]);

    // A run: anonymises what expired and schedules the following day.
    ids.late = await post(FRESH, { email: 'late@example.com', phone: '13900001111', name: '公孙晚晚' });
    await setLead(ids.late, { retainUntil: ago(1000) });
    const handler = privacyTimerHandlers({
      db: stack.app.database.db,
      org,
      clock: stack.clock,
      logger: stack.app.server.deps.logger,
    })[PURGE_TIMER_KIND]!;
    const [due] = scheduled;
    await handler({ ...due!, payload: due!.payload } as never);
    expect((await lead(ids.late))!.anonymisedAt).not.toBeNull();
    const after = await stack.app.database.db.select().from(timers).where(eq(timers.kind, PURGE_TIMER_KIND));
    expect(after.length).toBe(1);
  });

  it('leadrelay privacy purge --dry-run counts, purge anonymises', async () => {
    const id = await post({ name: '夏侯惇惇', phone: '13722223333', email: 'xiahou@example.com' });
    await setLead(id, { retainUntil: ago(DAY) });
    const run = async (args: string[]) => {
      const lines: string[] = [];
      await buildCli({
        out: (line) => lines.push(line),
        env: () => parseEnv({ DATABASE_URL: stack.app.database.url, LEADRELAY_CONFIG: ORG }),
      }).parseAsync(['privacy', 'purge', ...args], { from: 'user' });
      return lines;
    };
    expect(await run(['--dry-run'])).toEqual(['超过保留期的线索 (leads past retention): 1']);
    const lines = await run([]);
    expect(lines.at(-1)).toBe('已匿名化 1 条线索 (anonymised 1 leads)');
    expect(lines).toContain('leads: 1 条脱敏 (scrubbed)');
    expect((await lead(id))!.phone).toBeNull();
  });
});
