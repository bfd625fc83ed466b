import { leadIdentities, leads } from '../../src/db/schema';
import {
  findPersonLeads,
  needlesOf,
  normaliseQuery,
  PersonQueryError,
  redactNeedles,
} from '../../src/privacy/person';
import { scrubEventData } from '../../src/privacy/remove-lead-data';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

/** Finding a person's leads, and the strings that identify them in free text. */
let database: TestDatabase;
const now = new Date('2026-11-21T02:00:00Z');

beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await database.drop();
});

async function insertLead(fields: Partial<typeof leads.$inferInsert>): Promise<number> {
  const [result] = await database.db
    .insert(leads)
    .values({ sourceId: 'website', tags: [], custom: {}, createdAt: now, updatedAt: now, ...fields });
  return result.insertId;
}

describe('findPersonLeads', () => {
  it('finds every lead of the person: by phone, then by the e-mails those leads have, the WeChat field too', async () => {
    const a = await insertLead({ name: '张三丰', phone: '+8613800001111', email: 'zsf@example.com' });
    // Submitted later with only the e-mail: another lead of the same person.
    const b = await insertLead({ name: '张三丰', email: 'zsf@example.com' });
    // The phone typed into the WeChat field, kept as the national number.
    const c = await insertLead({ name: '张三丰', wechat: '13800001111' });
    // Found only through an identity row (merged details).
    const d = await insertLead({ name: '张君宝', email: 'junbao@example.com' });
    await database.db
      .insert(leadIdentities)
      .values({ kind: 'email', value: 'zsf.old@example.com', leadId: d, createdAt: now });
    await insertLead({ name: '无关的人', phone: '+8613900002222' });

    const byPhone = await findPersonLeads(database.db, { phone: '138 0000 1111' });
    expect(byPhone.map((l) => l.id)).toEqual([a, b, c]);
    expect((await findPersonLeads(database.db, { email: 'ZSF.old@Example.com' })).map((l) => l.id)).toEqual([
      d,
    ]);
    expect((await findPersonLeads(database.db, { leadId: b })).map((l) => l.id)).toEqual([a, b, c]);
    expect(await findPersonLeads(database.db, { email: 'nobody@example.com' })).toEqual([]);
  });

  it('refuses a query that is not exactly one valid phone, e-mail or lead id', () => {
    expect(() => normaliseQuery({})).toThrow(PersonQueryError);
    expect(() => normaliseQuery({ phone: '1', email: 'a@b.cn' })).toThrow(PersonQueryError);
    expect(() => normaliseQuery({ phone: '12345' })).toThrow(/手机号/);
    expect(() => normaliseQuery({ email: 'not-an-email' })).toThrow(/邮箱/);
    expect(() => normaliseQuery({ leadId: -1 })).toThrow(/线索编号/);
    expect(normaliseQuery({ phone: '+86 138-0000-1111' })).toEqual({ phone: '+8613800001111' });
  });
});

describe('needles and redaction', () => {
  const needles = needlesOf([
    { name: '张三丰', phone: '+8613800001111', email: 'zsf@example.com', wechat: 'zsf_wechat' },
  ]);

  it('covers the name, both spellings of the phone, the e-mail and the WeChat id', () => {
    expect(needles.map((n) => n.text).sort()).toEqual(
      ['+8613800001111', '13800001111', 'zsf@example.com', 'zsf_wechat', '张三丰'].sort(),
    );
  });

  it('masks them in free text, but never a phone inside a longer run of digits (a message id)', () => {
    expect(redactNeedles('张三丰 +8613800001111 / 13800001111 zsf@example.com', needles)).toBe(
      '张** 138****1111 / 138****1111 z***@example.com',
    );
    expect(redactNeedles('{"eventId":"7213800001111000"}', needles)).toBe('{"eventId":"7213800001111000"}');
  });

  it('keeps only the non-personal keys of a timeline event', () => {
    expect(
      scrubEventData(
        {
          from: 'new',
          to: 'lost',
          reason: '预算不符',
          detail: '张三丰说 13800001111',
          text: '笔记',
          fields: { budget: 1 },
        },
        needles,
      ),
    ).toEqual({ from: 'new', to: 'lost', reason: '预算不符' });
  });
});
