import { createHash } from 'node:crypto';
import { type DedupeKey, dedupeKeys, nameMatchKey } from '../../src/leads/dedupe-keys';
import { normaliseLead } from '../../src/leads/normalise';
import type { NormalisedLead } from '../../src/leads/types';

const BASE: NormalisedLead = {
  name: null,
  phone: null,
  email: null,
  wechat: null,
  company: null,
  companyKey: null,
  title: null,
  province: null,
  city: null,
  industry: null,
  companySize: null,
  companySizeText: null,
  budget: null,
  budgetText: null,
  need: null,
  campaign: null,
  keyword: null,
  landingPage: null,
  remark: null,
  externalId: null,
  tags: [],
  custom: {},
};

const sha = (value: string) => `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;

describe('dedupeKeys', () => {
  it.each<[string, Partial<NormalisedLead>, DedupeKey[]]>([
    ['no keys for an empty lead', {}, []],
    ['phone', { phone: '+8613812345678' }, [{ kind: 'phone', value: '+8613812345678' }]],
    ['email', { email: 'foo@qq.com' }, [{ kind: 'email', value: 'foo@qq.com' }]],
    ['wechat', { wechat: 'zhangsan_88' }, [{ kind: 'wechat', value: 'zhangsan_88' }]],
    [
      'a phone-number WeChat id stays a wechat key',
      { wechat: '13812345678' },
      [{ kind: 'wechat', value: '13812345678' }],
    ],
    [
      'all kinds, in a fixed order',
      {
        name: '张三',
        phone: '+8613812345678',
        email: 'foo@qq.com',
        wechat: 'zhangsan_88',
        companyKey: '腾讯科技深圳',
      },
      [
        { kind: 'phone', value: '+8613812345678' },
        { kind: 'email', value: 'foo@qq.com' },
        { kind: 'wechat', value: 'zhangsan_88' },
        { kind: 'company_contact', value: '腾讯科技深圳|张三' },
      ],
    ],
    [
      'company_contact uses the normalised name',
      { name: ' Ｚｈａｎｇ  San ', companyKey: 'acme' },
      [{ kind: 'company_contact', value: 'acme|zhangsan' }],
    ],
    ['no company_contact without a name', { companyKey: 'acme' }, []],
    ['no company_contact with a blank name', { companyKey: 'acme', name: ' \u3000 ' }, []],
    ['no company_contact without a company key', { name: '张三', company: '个人' }, []],
    ['empty strings are not keys', { phone: '', email: '', wechat: '', companyKey: '', name: '张三' }, []],
  ])('%s', (_, fields, expected) => {
    expect(dedupeKeys({ ...BASE, ...fields })).toEqual(expected);
  });

  it('keeps a value of exactly 191 characters', () => {
    const companyKey = '公'.repeat(188);
    expect(dedupeKeys({ ...BASE, companyKey, name: '张三' })).toEqual([
      { kind: 'company_contact', value: `${companyKey}|张三` },
    ]);
  });

  it('counts characters, not UTF-16 units or bytes', () => {
    const name = '😀'.repeat(100); // 200 UTF-16 units, 100 characters
    expect(dedupeKeys({ ...BASE, companyKey: 'acme', name })).toEqual([
      { kind: 'company_contact', value: `acme|${name}` },
    ]);
  });

  it('hashes a value longer than 191 characters', () => {
    const companyKey = '公'.repeat(189);
    const keys = dedupeKeys({ ...BASE, companyKey, name: '张三' });
    expect(keys).toEqual([{ kind: 'company_contact', value: sha(`${companyKey}|张三`) }]);
    expect(keys[0]!.value).toHaveLength(71);
    expect(keys[0]!.value).toBe(
      `sha256:${createHash('sha256')
        .update(`${'公'.repeat(189)}|张三`)
        .digest('hex')}`,
    );
  });

  it('hashes a long email', () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(150)}.com`;
    expect(dedupeKeys({ ...BASE, email })).toEqual([{ kind: 'email', value: sha(email) }]);
    expect(sha(email)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('gives the same keys to two spellings of the same lead', () => {
    const a = normaliseLead({
      name: '张 三',
      phone: '+86 138 1234 5678',
      email: 'ZhangSan@QQ.com',
      company: '腾讯科技（深圳）有限公司',
    }).lead;
    const b = normaliseLead({
      name: '张三',
      phone: '１３８－１２３４－５６７８',
      email: ' zhangsan＠qq．com ',
      company: '腾讯科技(深圳)有限公司 ',
    }).lead;
    const expected: DedupeKey[] = [
      { kind: 'phone', value: '+8613812345678' },
      { kind: 'email', value: 'zhangsan@qq.com' },
      { kind: 'company_contact', value: '腾讯科技深圳|张三' },
    ];
    expect(dedupeKeys(a)).toEqual(expected);
    expect(dedupeKeys(b)).toEqual(expected);
  });
});

describe('nameMatchKey', () => {
  it.each<[string | null | undefined, string | null]>([
    ['张三', '张三'],
    [' 张 三 ', '张三'],
    ['John  Smith', 'johnsmith'],
    ['ＪＯＨＮ　ＳＭＩＴＨ', 'johnsmith'],
    ['', null],
    ['  ', null],
    [null, null],
    [undefined, null],
  ])('%p → %p', (input, expected) => {
    expect(nameMatchKey(input)).toBe(expected);
  });
});
