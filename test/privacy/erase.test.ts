import path from 'node:path';
import { sql } from 'drizzle-orm';
import { buildCli } from '../../src/cli/main';
import { parseEnv } from '../../src/config/env';
import type { CallbackOutcome } from '../../src/emulator/wecom/types';
import { request } from '../helpers/http';
import { ADMIN_KEY } from '../helpers/test-app';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';
import { findInDatabase } from './helpers';

/**
 * `leadrelay privacy erase` (issue 9 item 4; RELIABILITY.md "Authorization and personal data" 4): a
 * person with data in every table (lead, identities, timeline, notes, activities, cards and their
 * update tokens, inbox messages, outbox messages sent and queued, a refused submission, an
 * idempotency record, the rep's current lead), and another person who must keep theirs. After the
 * erase, a scan of every row of every table finds nothing of the first person.
 */
const ORG = path.resolve(__dirname, '../abuse/fixtures/org.pii.jsonc');
const MEMBERS = ['ChenSup', 'ZhouDir', 'WangLei', 'LiNa', 'ZhangWei'];

const P = {
  name: '欧阳娜娜',
  phone: '139-1234-5678',
  national: '13912345678',
  e164: '+8613912345678',
  email: 'nana.ouyang@example.com',
  email2: 'nana.work@example.com',
};
const Q = { name: '上官婉儿', phone: '13700009876', email: 'wan.er@example.com' };
const P_SECRETS = [P.name, P.national, P.e164, P.email, P.email2, P.phone];

let stack: WecomStack;
let key: string;
let pLead: number;
let qLead: number;
let noteMessage: CallbackOutcome;

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

async function cli(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const program = buildCli({
    out: (line) => lines.push(line),
    env: () => parseEnv({ DATABASE_URL: stack.app.database.url, LEADRELAY_CONFIG: ORG }),
  });
  await program.parseAsync(['privacy', 'erase', ...args], { from: 'user' });
  return lines;
}

const textsTo = (userid: string) =>
  (stack.emulator.state.chat(userid)?.messages ?? [])
    .filter((m) => m.direction === 'out' && m.msgtype === 'text')
    .map((m) => m.text ?? '');

async function say(userid: string, text: string): Promise<CallbackOutcome> {
  const before = textsTo(userid).length;
  const outcome = await stack.emulator.control.sendText(userid, text);
  expect(outcome.ok).toBe(true);
  await waitFor(() => textsTo(userid)[before], `the reply to "${text}"`);
  return outcome;
}

const cardOf = (userid: string, leadId: number, template: string) =>
  stack.emulator.state.cards(userid).find((c) => c.card.taskId?.startsWith(`L${leadId}-${template}-`));

async function count(table: string, where = 'TRUE'): Promise<number> {
  const [rows] = (await stack.app.database.db.execute(
    sql.raw(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`),
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]!.n);
}

describe('a person with data everywhere', () => {
  it('is set up: intake with an Idempotency-Key, a merge, a refusal, a claim by card, a note, a reminder, an activity, 我的', async () => {
    const first = await request(`${stack.app.url}/api/v1/leads`, {
      body: {
        name: P.name,
        phone: P.phone,
        email: P.email,
        company: '苏州精工机械有限公司',
        industry: '制造业',
      },
      headers: { authorization: `Bearer ${key}`, 'idempotency-key': 'p-first' },
    });
    expect(first.status).toBe(201);
    pLead = first.body.id;
    const merged = await request(`${stack.app.url}/api/v1/leads`, {
      body: { name: P.name, phone: P.national, email: P.email2, need: `回电 ${P.national}` },
      headers: { authorization: `Bearer ${key}` },
    });
    expect([merged.status, merged.body.id]).toEqual([200, pLead]);
    // Refused (a bad landing page) and kept for replay, with the person's details in it.
    const refused = await request(`${stack.app.url}/api/v1/leads`, {
      body: { name: P.name, phone: P.phone, landingPage: 'not a url' },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(refused.status).toBe(422);
    const other = await request(`${stack.app.url}/api/v1/leads`, {
      body: { name: Q.name, phone: Q.phone, email: Q.email, industry: '制造业' },
      headers: { authorization: `Bearer ${key}` },
    });
    qLead = other.body.id;

    const holder = await waitFor(
      () => MEMBERS.find((u) => cardOf(u, pLead, 'new-lead')),
      'the new-lead card',
    );
    const card = cardOf(holder, pLead, 'new-lead')!;
    expect(
      (await stack.emulator.control.clickButton(holder, { taskId: card.card.taskId!, buttonText: '认领' }))
        .ok,
    ).toBe(true);
    await waitFor(
      async () => (await count('leads', `id = ${pLead} AND owner_id IS NOT NULL`)) === 1,
      'the claim',
    );
    noteMessage = await say(holder, `#${pLead} ${P.name}说新邮箱 ${P.email2}，手机 ${P.phone}\n预算：50万`);
    await say(holder, `提醒 ${pLead} 明天下午3点 回访${P.name}`);
    await say(holder, '我的');
    // A detail card: its send answer leaves an update token for the card.
    await stack.emulator.control.sendText(holder, `详情 ${pLead}`);
    await waitFor(() => cardOf(holder, pLead, 'detail'), 'the detail card');
    const activity = await request(`${stack.app.url}/api/v1/leads/${pLead}/activities`, {
      body: { type: 'demo_request', data: { email: P.email } },
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(activity.status).toBe(201);
    // Q is handled too, so the erase has neighbours to leave alone.
    const qHolder = await waitFor(() => MEMBERS.find((u) => cardOf(u, qLead, 'new-lead')), 'Q card');
    await say(qHolder, `认领 ${qLead}`);
    await say(qHolder, `#${qLead} ${Q.name}要报价`);
    await waitFor(
      async () => (await count('outbox', "status IN ('pending','sending')")) === 0,
      'the outbox drained',
    );

    const found = await findInDatabase(stack.app.database, P_SECRETS);
    // Before: the person is in all of these.
    expect(Object.keys(found).sort()).toEqual(
      expect.arrayContaining([
        'inbox_events',
        'lead_events',
        'lead_identities',
        'lead_notes',
        'leads',
        'outbox',
        'rejected_payloads',
        'timers',
        'activities',
      ]),
    );
    // And in these, by its id only.
    for (const [table, where] of [
      ['cards', `lead_id = ${pLead}`],
      ['card_update_tokens', `card_id LIKE 'L${pLead}-%'`],
      ['idempotency_keys', `lead_id = ${pLead}`],
      ['member_focus', `lead_id = ${pLead}`],
    ] as const) {
      expect({ table, some: (await count(table, where)) > 0 }).toEqual({ table, some: true });
    }
  }, 60_000);

  it('a dry run reports what would go and changes nothing', async () => {
    const before = await findInDatabase(stack.app.database, P_SECRETS);
    const lines = await cli(['--phone', P.phone, '--dry-run']);
    expect(lines[0]).toBe(`线索 (leads): #${pLead}`);
    expect(lines).toContain('leads: 1 条删除 (deleted)');
    expect(lines.at(-1)).toContain('dry run');
    expect(await findInDatabase(stack.app.database, P_SECRETS)).toEqual(before);
  });

  it('erases the person from every table, prints what it removed, and leaves the other person alone', async () => {
    const lines = await cli(['--email', P.email2]);
    expect(lines[0]).toBe(`线索 (leads): #${pLead}`);
    for (const table of [
      'leads',
      'lead_identities',
      'lead_events',
      'lead_notes',
      'activities',
      'timers',
      'cards',
      'card_update_tokens',
      'idempotency_keys',
      'member_focus',
      'rejected_payloads',
    ]) {
      expect(lines.find((l) => l.startsWith(`${table}:`))).toMatch(/条删除/);
    }
    expect(lines.find((l) => l.startsWith('outbox:'))).toMatch(/条删除/);
    expect(lines.find((l) => l.startsWith('inbox_events:'))).toMatch(/条脱敏/);
    expect(lines.at(-1)).toBe('已删除 (erased)');

    expect(await findInDatabase(stack.app.database, P_SECRETS)).toEqual({});
    expect(await count('leads', `id = ${pLead}`)).toBe(0);
    // The other person is untouched.
    const q = await findInDatabase(stack.app.database, [Q.name, `+86${Q.phone}`, Q.email]);
    expect(q.leads).toEqual([Q.name, `+86${Q.phone}`, Q.email]);
    expect(q.lead_notes).toEqual([Q.name]);
  });

  it('a late WeCom retry of the erased note changes nothing, and erasing again finds nobody', async () => {
    const again = await stack.emulator.control.redeliver(noteMessage);
    expect(again.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await findInDatabase(stack.app.database, P_SECRETS)).toEqual({});
    expect(await cli(['--phone', P.national])).toEqual([
      '没有找到这个人的线索 (no lead of this person)',
      '已删除 (erased)',
    ]);
  });

  it('refuses a query it cannot match on, saying why', async () => {
    await expect(cli(['--phone', '12345'])).rejects.toThrow(/手机号/);
    await expect(cli([])).rejects.toThrow(/--phone、--email 或 --lead/);
    await expect(cli(['--lead', '999999'])).rejects.toThrow(/不存在/);
  });
});
