import path from 'node:path';
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { DestinationStream } from 'pino';
import { describeError } from '../../src/lib/error-text';
import { createLogging } from '../../src/lib/logger';
import { sendDigest } from '../../src/reports/digest';
import { DINGTALK, type DingtalkStack, STAFF, startDingtalkStack } from '../helpers/dingtalk-stack';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

/**
 * The PII scan (RELIABILITY.md "Authorization and personal data" 3; issue 9 item 3): a realistic day
 * (intake with names, phones and e-mails, a duplicate, a refused payload, assignment, a claim, notes
 * and a lost reason quoting the phone, a release to the pool and a grab, an unclaimed grade-A lead
 * rerouted and escalated to the supervisor and the director, an activity, the digest) while every
 * log line (pino at trace, into memory) and every group payload the WeCom emulator receives is kept.
 * No full phone number, e-mail address or customer name may appear in any of them, nor on the
 * cards many people see (pool offers, escalations). Full details one-to-one to the rep who holds the
 * lead are allowed (the new-lead card), and are not scanned.
 */
const ORG = path.resolve(__dirname, 'fixtures/org.pii.jsonc');
const MEMBERS = ['ChenSup', 'ZhouDir', 'WangLei', 'LiNa', 'ZhangWei'];
const ROBOT = 'robot-pii-key';

interface Person {
  name: string;
  /** As the form sent it. */
  phone: string;
  national: string;
  email: string;
  extra: Record<string, unknown>;
}

const PEOPLE = {
  /** Grade A, never claimed: rerouted, then escalated to the supervisor and the director. */
  escalated: {
    name: '欧阳娜娜',
    phone: '139 1234 5678',
    national: '13912345678',
    email: 'nana.ouyang@example.com',
    extra: {
      company: '苏州精工机械有限公司',
      title: '总经理',
      industry: '制造业',
      need: '请致电 13912345678 或邮件 nana.ouyang@example.com 报价',
    },
  },
  /** Grade B: claimed, noted (with the phone in the note), then lost with the phone in the reason. */
  claimed: {
    name: '司马光明',
    phone: '+86 137-0000-2468',
    national: '13700002468',
    email: 'guangming.sima@example.cn',
    extra: { company: '无锡电机厂', industry: '制造业' },
  },
  /** Grade B: released to the pool by its rep, grabbed by another. */
  pooled: {
    name: 'Emily Chen',
    phone: '13600001357',
    national: '13600001357',
    email: 'emily.chen@example.org',
    extra: { company: '上海云启科技有限公司', industry: '制造业', need: '加微信 13600001357 详谈' },
  },
  /** Grade C: straight to the pool. */
  grade_c: {
    name: '诸葛亮亮',
    phone: '15800009999',
    national: '15800009999',
    email: 'zhuge.liang@example.net',
    extra: { company: '杭州小作坊' },
  },
  /** Refused at intake (an invalid phone): kept for replay, never logged. */
  refused: {
    name: '皇甫嵩嵩',
    phone: '12345678901',
    national: '12345678901',
    email: 'huangfu.song@example.com',
    extra: {},
  },
} satisfies Record<string, Person>;

/** Every spelling of a person's data that must not leak. */
function secretsOf(p: Person): string[] {
  return [p.name, p.national, `+86${p.national}`, p.phone, p.email];
}
const ALL_SECRETS = Object.values(PEOPLE).flatMap(secretsOf);

let stack: WecomStack;
let key: string;
const logLines: string[] = [];
const ids: Partial<Record<keyof typeof PEOPLE, number>> = {};
/** inbox_events.last_error of the note's failed first attempt. */
let storedError = '';

beforeAll(async () => {
  const destination: DestinationStream = { write: (line: string) => void logLines.push(line) };
  stack = await startWecomStack({
    orgFile: ORG,
    members: MEMBERS.map((userid) => ({ userid, name: userid })),
    groupRobots: [{ key: ROBOT, name: '华东销售群' }],
    logging: createLogging({ level: 'trace', destination }),
    server: { digests: false },
  });
  key = await stack.app.createKey('website');
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

async function postLead(p: Person, extra: Record<string, unknown> = {}) {
  return request(`${stack.app.url}/api/v1/leads`, {
    body: { name: p.name, phone: p.phone, email: p.email, ...p.extra, ...extra },
    headers: { authorization: `Bearer ${key}` },
  });
}

const textsTo = (userid: string) =>
  (stack.emulator.state.chat(userid)?.messages ?? [])
    .filter((m) => m.direction === 'out' && m.msgtype === 'text')
    .map((m) => m.text ?? '');

async function say(userid: string, text: string): Promise<string> {
  const before = textsTo(userid).length;
  expect((await stack.emulator.control.sendText(userid, text)).ok).toBe(true);
  return waitFor(() => textsTo(userid)[before], `the reply to "${text}"`);
}

const cardOf = (userid: string, leadId: number, template: string) =>
  stack.emulator.state.cards(userid).find((c) => c.card.taskId?.startsWith(`L${leadId}-${template}-`));

async function holderOf(leadId: number): Promise<string> {
  return waitFor(() => MEMBERS.find((u) => cardOf(u, leadId, 'new-lead')), `the new-lead card of #${leadId}`);
}

async function dbValue(query: ReturnType<typeof sql>): Promise<unknown> {
  const [rows] = (await stack.app.database.db.execute(query)) as unknown as [Record<string, unknown>[]];
  return Object.values(rows[0] ?? {})[0];
}

function leaks(text: string): string[] {
  return ALL_SECRETS.filter((secret) => text.includes(secret));
}

describe('a realistic day, scanned', () => {
  it('runs: intake, duplicate, refusal, claim, notes, lost, release, grab, escalation, activity, digest', async () => {
    for (const who of ['escalated', 'claimed', 'pooled', 'grade_c'] as const) {
      const res = await postLead(PEOPLE[who]);
      expect(res.status).toBe(201);
      ids[who] = res.body.id;
    }
    // The same person again with a new e-mail: merged into the lead.
    const again = await postLead(PEOPLE.claimed, { email: 'sima.new@example.cn' });
    expect([again.status, again.body.status]).toEqual([200, 'merged']);
    const refused = await postLead(PEOPLE.refused);
    expect(refused.status).toBe(422);

    // Claim, a note quoting the customer's contact details, then lost with the phone in the reason.
    const claimedBy = await holderOf(ids.claimed!);
    expect(await say(claimedBy, `认领 ${ids.claimed}`)).toContain(`已认领 #${ids.claimed}`);
    // The notes table is out for a moment (an outage, a migration): the note's first attempt fails
    // with a database error, which is logged and kept in inbox_events.last_error; the retry records it.
    await stack.app.database.db.execute(sql`RENAME TABLE lead_notes TO lead_notes_away`);
    const noted = say(
      claimedBy,
      `#${ids.claimed} 司马光明说改用手机 13700002468，邮箱 guangming.sima@example.cn\n预算：50万`,
    );
    storedError = String(
      await waitFor(
        () => dbValue(sql`SELECT last_error FROM inbox_events WHERE last_error IS NOT NULL LIMIT 1`),
        'the failed first attempt',
      ),
    );
    await stack.app.database.db.execute(sql`RENAME TABLE lead_notes_away TO lead_notes`);
    expect(await noted).toContain(`已记录到 #${ids.claimed}`);
    expect(await say(claimedBy, `输单 ${ids.claimed} 预算不符 客户电话13700002468`)).toContain('预算不符');

    // Released to the pool, grabbed by another rep.
    const releasedBy = await holderOf(ids.pooled!);
    const card = cardOf(releasedBy, ids.pooled!, 'new-lead')!;
    expect(
      (
        await stack.emulator.control.clickButton(releasedBy, {
          taskId: card.card.taskId!,
          buttonText: '退回公海',
        })
      ).ok,
    ).toBe(true);
    const grabber = await waitFor(
      () => MEMBERS.find((u) => u !== releasedBy && cardOf(u, ids.pooled!, 'pool-offer')),
      'a pool offer',
    );
    expect(await say(grabber, `认领 ${ids.pooled}`)).toContain(`#${ids.pooled}`);

    // An activity for the claimed lead (admin key).
    const activity = await request(`${stack.app.url}/api/v1/leads/${ids.claimed}/activities`, {
      body: { type: 'demo_request', data: { email: PEOPLE.claimed.email, page: '/pricing' } },
      headers: { authorization: 'Bearer test-admin-key-0123456789' },
    });
    expect(activity.status).toBe(201);

    // The grade-A lead nobody claims: rerouted, then escalated to the supervisor and the director.
    await waitFor(
      () => cardOf('ChenSup', ids.escalated!, 'escalation'),
      'the escalation to the supervisor',
      20_000,
    );
    await waitFor(
      () => cardOf('ZhouDir', ids.escalated!, 'escalation'),
      'the escalation to the director',
      20_000,
    );

    // The digest of today (sent "tomorrow"), through the group robot.
    const deps = stack.app.server.deps;
    const team = deps.org.teams.find((t) => t.id === 'east')!;
    const tomorrow = new Date(stack.clock.now().getTime() + 86_400_000);
    expect(await sendDigest(deps, { team, kind: 'daily', at: tomorrow })).toBe('sent');
    stack.app.server.outbox.notify();
    await waitFor(
      () => (stack.emulator.state.group(ROBOT)?.messages.length ?? 0) >= 2,
      'the digest in the group',
    );
    // Everything queued has gone out.
    await waitFor(
      async () =>
        Number(await dbValue(sql`SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')`)) === 0,
      'the outbox drained',
      20_000,
    );
  }, 90_000);

  it('no group payload carries a full phone, e-mail or customer name', () => {
    const group = stack.emulator.state.group(ROBOT)!;
    expect(group.messages.map((m) => m.msgtype)).toEqual(expect.arrayContaining(['markdown', 'image']));
    const markdown = JSON.stringify(group.messages.find((m) => m.msgtype === 'markdown')!.body);
    // The lost lead reached the digest by its reason's category; the rep's detail (with the phone) not.
    expect(markdown).toContain('预算不符');
    for (const message of group.messages) {
      expect({ seq: message.seq, leaks: leaks(JSON.stringify(message.body)) }).toEqual({
        seq: message.seq,
        leaks: [],
      });
    }
  });

  it('no card many people see (pool offers, escalations) carries them either', () => {
    let seen = 0;
    for (const userid of MEMBERS) {
      for (const message of stack.emulator.state.cards(userid)) {
        if (!/^L\d+-(?:pool-offer|escalation)-/.test(message.card.taskId ?? '')) continue;
        seen += 1;
        expect({
          userid,
          task: message.card.taskId,
          leaks: leaks(JSON.stringify(message.card.card)),
        }).toEqual({
          userid,
          task: message.card.taskId,
          leaks: [],
        });
      }
    }
    expect(seen).toBeGreaterThanOrEqual(3);
  });

  it('no log line carries them, the failed statement included', () => {
    expect(logLines.length).toBeGreaterThan(50);
    expect(logLines.some((line) => line.includes('lead_notes'))).toBe(true);
    const leaking = logLines.filter((line) => leaks(line).length > 0);
    expect(leaking).toEqual([]);
  });

  it('nor the error text kept in the database while the note waited for its retry', () => {
    expect(storedError).toContain('lead_notes');
    expect(leaks(storedError)).toEqual([]);
  });
});

describe('error logs and stored error text (regressions found by the scan)', () => {
  const phone = '+8613912345678';
  const failedInsert = () =>
    new DrizzleQueryError(
      'insert into `lead_notes` (`lead_id`, `text`) values (?, ?)',
      [42, `欧阳娜娜 ${phone} nana.ouyang@example.com`],
      Object.assign(new Error(`Duplicate entry '${phone}-phone' for key 'PRIMARY'`), {
        code: 'ER_DUP_ENTRY',
        errno: 1062,
        sqlState: '23000',
        sqlMessage: `Duplicate entry '${phone}-phone' for key 'PRIMARY'`,
        sql: `insert into lead_notes values (42, '欧阳娜娜 ${phone}')`,
      }),
    );

  function capture(): { lines: string[]; logger: ReturnType<typeof createLogging>['logger'] } {
    const lines: string[] = [];
    const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
    return { lines, logger: createLogging({ level: 'trace', destination }).logger };
  }

  it('a failed statement is logged by its SQL and error code, without its parameters', () => {
    const { lines, logger } = capture();
    logger.error({ err: failedInsert() }, 'inbound event processing failed');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line.err.type).toBe('DrizzleQueryError');
    expect(line.err.message).toContain('insert into `lead_notes`');
    expect(line.err.cause).toMatchObject({ code: 'ER_DUP_ENTRY', errno: 1062 });
    expect(lines[0]).not.toContain('欧阳娜娜');
    expect(lines[0]).not.toContain('13912345678');
    expect(lines[0]).not.toContain('nana.ouyang@example.com');
    expect(line.err.params).toBeUndefined();
  });

  it('phone numbers and e-mails in any other log field or message are masked', () => {
    const { lines, logger } = capture();
    logger.warn(
      { reason: `客户 13912345678 / nana.ouyang@example.com`, nested: { to: [phone] } },
      `call ${phone}`,
    );
    logger.info({ err: `Failed query: select 1\nparams: ${phone}` }, 'string error');
    const text = lines.join('\n');
    expect(text).not.toMatch(/13912345678|nana\.ouyang@example\.com/);
    expect(text).toContain('139****5678');
  });

  it('describeError, used for last_error columns, drops the values too', () => {
    const text = describeError(failedInsert());
    expect(text).toMatch(/^DrizzleQueryError: Failed query: insert into `lead_notes`/);
    expect(text).toContain("Duplicate entry '…'");
    expect(text).not.toMatch(/13912345678|欧阳娜娜|nana\.ouyang/);
  });
});

describe('DingTalk: the team group and the custom robot', () => {
  let dt: DingtalkStack;
  let dtKey: string;
  const person = PEOPLE.pooled;

  beforeAll(async () => {
    dt = await startDingtalkStack({ server: { digests: false } });
    dtKey = await dt.app.createKey('website');
  }, 60_000);
  afterAll(async () => {
    await dt?.close();
  });

  it('the pool offer posted in the group and the digest posted by the robot carry no full contact details', async () => {
    const res = await request(`${dt.app.url}/api/v1/leads`, {
      body: { name: person.name, phone: person.phone, email: person.email, ...person.extra },
      headers: { authorization: `Bearer ${dtKey}` },
    });
    expect(res.status).toBe(201);
    const leadId = res.body.id as number;
    const cardIn = (space: { userId: string } | { group: string }, template: string) =>
      dt.dingtalk.state.cards(space).find((c) => c.outTrackId.startsWith(`L${leadId}-${template}-`));
    const holder = await waitFor(
      () => ([STAFF.rep_a, STAFF.rep_b] as string[]).find((u) => cardIn({ userId: u }, 'new-lead')),
      'the new-lead card',
    );
    const card = cardIn({ userId: holder }, 'new-lead')!;
    await dt.dingtalk.control.clickButton(holder, { outTrackId: card.outTrackId, action: 'release' });
    const offer = await waitFor(() => cardIn({ group: DINGTALK.group }, 'pool-offer'), 'the group offer');

    const deps = dt.app.server.deps;
    const team = deps.org.teams.find((t) => t.id === 'east')!;
    const tomorrow = new Date(dt.clock.now().getTime() + 86_400_000);
    expect(await sendDigest(deps, { team, kind: 'daily', at: tomorrow })).toBe('sent');
    dt.app.server.outbox.notify();
    const posts = await waitFor(() => {
      const p = dt.dingtalk.state.robotPosts('华东战报机器人');
      return p.length > 0 ? p : undefined;
    }, 'the digest post');

    const groupPayloads = [
      ...dt.dingtalk.state.cards({ group: DINGTALK.group }).map((c) => JSON.stringify(c)),
      ...(dt.dingtalk.state.group(DINGTALK.group)?.messages ?? []).map((m) => JSON.stringify(m)),
      ...posts.map((m) => JSON.stringify(m)),
    ];
    expect(JSON.stringify(offer)).toContain('136****1357');
    for (const payload of groupPayloads) expect(leaks(payload)).toEqual([]);
  }, 60_000);
});
