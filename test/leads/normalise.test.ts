import { createHash } from 'node:crypto';
import {
  companyMatchKey,
  fitKeyLength,
  normaliseEmail,
  normaliseLead,
  normalisePhone,
  normaliseWechat,
  toHalfWidth,
} from '../../src/leads/normalise';
import type { NormalisedLead } from '../../src/leads/types';

const NOT_MOBILE_HINT = 'phone 只接受手机号，固定电话等其他号码请填写在 remark 字段';

describe('toHalfWidth', () => {
  it.each<[string, string]>([
    ['１３８１２３４５６７８', '13812345678'],
    ['ＡＢＣｘｙｚ', 'ABCxyz'],
    ['ｆｏｏ＠ｑｑ．ｃｏｍ', 'foo@qq.com'],
    ['＋８６　１３８', '+86 138'],
    ['（深圳）', '(深圳)'],
    ['～！＃', '~!#'],
    // CJK and CJK punctuation outside U+FF01–FF5E stay as they are.
    ['腾讯科技。、', '腾讯科技。、'],
    ['①㈱', '①㈱'],
    ['abc 123', 'abc 123'],
    ['', ''],
  ])('%p → %p', (input, expected) => {
    expect(toHalfWidth(input)).toBe(expected);
  });
});

describe('normalisePhone', () => {
  it.each<[string, string]>([
    ['13812345678', '+8613812345678'],
    ['+86 138 1234 5678', '+8613812345678'],
    ['+8613812345678', '+8613812345678'],
    ['0086-13812345678', '+8613812345678'],
    ['0086 138 1234 5678', '+8613812345678'],
    ['86 13812345678', '+8613812345678'],
    ['8613812345678', '+8613812345678'],
    ['138-1234-5678', '+8613812345678'],
    ['138 1234 5678', '+8613812345678'],
    ['138.1234.5678', '+8613812345678'],
    ['(+86)13812345678', '+8613812345678'],
    ['(+86) 138-1234-5678', '+8613812345678'],
    ['+86(0)13812345678', '+8613812345678'],
    ['013812345678', '+8613812345678'],
    ['１３８１２３４５６７８', '+8613812345678'],
    ['＋８６　１３８－１２３４－５６７８', '+8613812345678'],
    ['（＋８６）１３８１２３４５６７８', '+8613812345678'],
    ['  13812345678  ', '+8613812345678'],
    ['\u200b13812345678\u200b', '+8613812345678'],
    // Current mainland mobile ranges.
    ['13012345678', '+8613012345678'],
    ['14512345678', '+8614512345678'],
    ['15012345678', '+8615012345678'],
    ['16612345678', '+8616612345678'],
    ['17012345678', '+8617012345678'],
    ['18612345678', '+8618612345678'],
    ['19912345678', '+8619912345678'],
    ['19212345678', '+8619212345678'],
    // Foreign mobiles with an explicit country code.
    ['+852 9123 4567', '+85291234567'],
    ['00852 6123 4567', '+85261234567'],
    ['+886 912 345 678', '+886912345678'],
    ['+65 9123 4567', '+6591234567'],
    ['+81 90-1234-5678', '+819012345678'],
    ['+44 7911 123456', '+447911123456'],
    // The US cannot tell mobiles from landlines: FIXED_LINE_OR_MOBILE is accepted.
    ['+1 (415) 555-2671', '+14155552671'],
  ])('%p → %p', (input, expected) => {
    expect(normalisePhone(input)).toEqual({ ok: true, value: expected });
  });

  it.each<[string, string]>([
    ['', '手机号不能为空'],
    ['   ', '手机号不能为空'],
    // Unassigned or impossible mainland prefixes.
    ['12812345678', '手机号 "128****5678" 不是有效的中国大陆手机号'],
    ['10012345678', '手机号 "100****5678" 不是有效的中国大陆手机号'],
    ['10812345678', '手机号 "108****5678" 不是有效的中国大陆手机号'],
    ['15412345678', '手机号 "154****5678" 不是有效的中国大陆手机号'],
    ['14012345678', '手机号 "140****5678" 不是有效的中国大陆手机号'],
    ['+8612812345678', '手机号 "128****5678" 不是有效的中国大陆手机号'],
    // Wrong length.
    ['1381234567', '手机号 "13****67" 不是有效的中国大陆手机号'],
    ['138123456789', '手机号 "138****6789" 不是有效的中国大陆手机号'],
    ['12345', '手机号 "****" 不是有效的中国大陆手机号'],
    ['95588', '手机号 "****" 不是有效的中国大陆手机号'],
    // Landlines, with and without country code.
    ['010-12345678', `手机号 "010****5678" 是固定电话：${NOT_MOBILE_HINT}`],
    ['0755-12345678', `手机号 "075****5678" 是固定电话：${NOT_MOBILE_HINT}`],
    ['(021) 1234 5678', `手机号 "021****5678" 是固定电话：${NOT_MOBILE_HINT}`],
    ['+86 10 12345678', `手机号 "10****78" 是固定电话：${NOT_MOBILE_HINT}`],
    ['86-10-12345678', `手机号 "10****78" 是固定电话：${NOT_MOBILE_HINT}`],
    ['+86 571 1234 5678', `手机号 "571****5678" 是固定电话：${NOT_MOBILE_HINT}`],
    // 400 numbers are valid but not mobiles.
    ['400-800-8888', `手机号 "40****88" 不是手机号：${NOT_MOBILE_HINT}`],
    // Foreign numbers.
    ['+852 2123 4567', `手机号 "21****67" 是固定电话（国家/地区代码 +852）：${NOT_MOBILE_HINT}`],
    ['+853 1234 5678', '手机号 "12****78" 不是有效的手机号（国家/地区代码 +853）'],
    ['+999 123456', '手机号 "99****56" 的国家/地区代码无法识别'],
    // Not a single phone number.
    ['138 1234 5678 转 8', '手机号 "138****6788" 含有无效字符，只能包含数字、空格、-、括号和开头的 +'],
    ['13812345678/13912345678', '手机号 "138****5678" 含有无效字符，只能包含数字、空格、-、括号和开头的 +'],
    ['13812345678,13912345678', '手机号 "138****5678" 含有无效字符，只能包含数字、空格、-、括号和开头的 +'],
    ['tel:13812345678', '手机号 "138****5678" 含有无效字符，只能包含数字、空格、-、括号和开头的 +'],
    ['138+12345678', '手机号 "138****5678" 含有无效字符，只能包含数字、空格、-、括号和开头的 +'],
    ['无', '手机号 "****" 含有无效字符，只能包含数字、空格、-、括号和开头的 +'],
    ['+8613812345678999999', '手机号 "861****9999" 位数过多'],
  ])('%p is rejected: %s', (input, message) => {
    expect(normalisePhone(input)).toEqual({ ok: false, message });
  });

  it.each<[string]>([
    ['12812345678'],
    ['+86 128 1234 5678'],
    ['010-12345678'],
    ['+852 2123 4567'],
    ['13812345678/13912345678'],
    ['138123456789012'],
  ])('never echoes more than the first 3 and last 4 digits of %p', (input) => {
    const result = normalisePhone(input);
    if (result.ok) throw new Error(`expected ${input} to be rejected`);
    const shown = /"([^"]*)"/.exec(result.message)?.[1] ?? '';
    expect(shown).toMatch(/^(\d{0,3})\*{4}(\d{0,4})$/);
    expect(result.message).not.toMatch(/\d{5}/);
  });
});

describe('normaliseEmail', () => {
  it.each<[string, string]>([
    ['foo@qq.com', 'foo@qq.com'],
    [' Foo.Bar@QQ.COM ', 'foo.bar@qq.com'],
    ['ｆｏｏ＠ｑｑ．ｃｏｍ', 'foo@qq.com'],
    ['foo＠163.com', 'foo@163.com'],
    ['foo@qq。com', 'foo@qq.com'],
    ['foo+tag@gmail.com', 'foo+tag@gmail.com'],
    ['zhang_san-1@mail.example.com.cn', 'zhang_san-1@mail.example.com.cn'],
    ['a@b.co', 'a@b.co'],
    ['foo@例子.中国', 'foo@例子.中国'],
    ['foo@xn--fsqu00a.xn--fiqs8s', 'foo@xn--fsqu00a.xn--fiqs8s'],
    ['\u200bfoo@qq.com', 'foo@qq.com'],
  ])('%p → %p', (input, expected) => {
    expect(normaliseEmail(input)).toEqual({ ok: true, value: expected });
  });

  it.each<[string, string]>([
    ['', '邮箱不能为空'],
    ['foo', '邮箱 "f***" 缺少 @'],
    ['foo.qq.com', '邮箱 "f***" 缺少 @'],
    ['foo@qq', '邮箱 "f***@qq" 的域名缺少 "."'],
    ['foo@@qq.com', '邮箱 "f***@qq.com" 只能包含一个 @（只能填写一个邮箱）'],
    ['a@b.com;c@d.com', '邮箱 "a***@d.com" 只能包含一个 @（只能填写一个邮箱）'],
    ['foo bar@qq.com', '邮箱 "f***@qq.com" 不能包含空格'],
    ['@qq.com', '邮箱 "***@qq.com" 的 @ 前面部分格式不正确'],
    ['.foo@qq.com', '邮箱 ".***@qq.com" 的 @ 前面部分格式不正确'],
    ['foo.@qq.com', '邮箱 "f***@qq.com" 的 @ 前面部分格式不正确'],
    ['foo..bar@qq.com', '邮箱 "f***@qq.com" 的 @ 前面部分格式不正确'],
    ['用户@qq.com', '邮箱 "用***@qq.com" 的 @ 前面部分格式不正确'],
    ['foo@', '邮箱 "f***@" 的域名缺少 "."'],
    ['foo@-qq.com', '邮箱 "f***@-qq.com" 的域名格式不正确'],
    ['foo@qq-.com', '邮箱 "f***@qq-.com" 的域名格式不正确'],
    ['foo@qq..com', '邮箱 "f***@qq..com" 的域名格式不正确'],
    ['foo@qq.com.', '邮箱 "f***@qq.com." 的域名格式不正确'],
    ['foo@qq.c', '邮箱 "f***@qq.c" 的域名格式不正确'],
    ['foo@qq.123', '邮箱 "f***@qq.123" 的域名格式不正确'],
    ['foo@qq,com', '邮箱 "f***@qq,com" 的域名缺少 "."'],
    [`${'a'.repeat(65)}@qq.com`, '邮箱 "a***@qq.com" 的 @ 前面部分格式不正确'],
    [`a@${'b'.repeat(250)}.com`, '邮箱超过 254 个字符'],
  ])('%p is rejected: %s', (input, message) => {
    expect(normaliseEmail(input)).toEqual({ ok: false, message });
  });
});

describe('normaliseWechat', () => {
  it.each<[string, string]>([
    ['zhangsan_88', 'zhangsan_88'],
    ['  ZhangSan88 ', 'zhangsan88'],
    ['wxid_abc123def456', 'wxid_abc123def456'],
    ['a-b_c1', 'a-b_c1'],
    ['abcdef', 'abcdef'],
    ['a1234567890123456789', 'a1234567890123456789'],
    ['ｚｈａｎｇｓａｎ', 'zhangsan'],
    // Phone numbers used as WeChat id: digits only.
    ['13812345678', '13812345678'],
    ['138-1234-5678', '13812345678'],
    ['+86 138 1234 5678', '13812345678'],
    ['１３８１２３４５６７８', '13812345678'],
    ['+852 9123 4567', '85291234567'],
  ])('%p → %p', (input, expected) => {
    expect(normaliseWechat(input)).toEqual({ ok: true, value: expected });
  });

  it.each<[string, string]>([
    ['', '微信号不能为空'],
    ['abc', '微信号长度应为 6–20 个字符（当前 3 个）'],
    ['abcde', '微信号长度应为 6–20 个字符（当前 5 个）'],
    ['a12345678901234567890', '微信号长度应为 6–20 个字符（当前 21 个）'],
    ['1abcdef', '微信号必须以字母开头'],
    ['_abcdef', '微信号必须以字母开头'],
    ['张三abcdef', '微信号必须以字母开头'],
    ['zhang.san', '微信号只能包含字母、数字、下划线（_）和减号（-）'],
    ['zhang san', '微信号只能包含字母、数字、下划线（_）和减号（-）'],
    ['zhangsan@qq', '微信号只能包含字母、数字、下划线（_）和减号（-）'],
    ['123456789', '微信号 "12****89" 是纯数字但不是有效的手机号；微信号应以字母开头'],
    ['12812345678', '微信号 "128****5678" 是纯数字但不是有效的手机号；微信号应以字母开头'],
    ['010-12345678', '微信号 "010****5678" 是纯数字但不是有效的手机号；微信号应以字母开头'],
  ])('%p is rejected: %s', (input, message) => {
    expect(normaliseWechat(input)).toEqual({ ok: false, message });
  });
});

describe('companyMatchKey', () => {
  it.each<[string | null | undefined, string | null]>([
    ['腾讯科技（深圳）有限公司', '腾讯科技深圳'],
    ['腾讯科技(深圳)有限公司 ', '腾讯科技深圳'],
    ['腾讯科技 (深圳) 有限公司', '腾讯科技深圳'],
    ['北京字节跳动科技有限公司', '北京字节跳动科技'],
    ['华为技术有限公司', '华为技术'],
    ['中国平安保险（集团）股份有限公司', '中国平安保险'],
    ['万达集团有限公司', '万达'],
    ['万达集团股份有限公司', '万达'],
    ['万达集团', '万达集团'],
    ['阿里巴巴集团控股有限公司', '阿里巴巴集团控股'],
    ['上海某某有限责任公司', '上海某某'],
    ['中国石油天然气股份公司', '中国石油天然气'],
    ['某某有限公司有限公司', '某某'],
    // Branches stay separate customers.
    ['华为技术有限公司上海分公司', '华为技术有限公司上海分公司'],
    ['招商银行深圳分行', '招商银行深圳分行'],
    ['张三·李四工作室', '张三李四工作室'],
    ['“新华”书店、文具.', '新华书店文具'],
    // English legal forms.
    ['ACME Co., Ltd.', 'acme'],
    ['acme', 'acme'],
    ['ACME CO.,LTD', 'acme'],
    ['Acme Co. Ltd', 'acme'],
    ['ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．', 'acme'],
    ['Acme Company Limited', 'acme'],
    ['Acme Limited', 'acme'],
    ['Acme Ltd', 'acme'],
    ['Apple Inc.', 'apple'],
    ['Apple Incorporated', 'apple'],
    ['Foo LLC', 'foo'],
    ['Foo L.L.C.', 'foo'],
    ['Foo Corp.', 'foo'],
    ['Foo Corporation', 'foo'],
    ['Siemens GmbH', 'siemens'],
    ['Tesco PLC', 'tesco'],
    ['Foo Pte. Ltd.', 'foo'],
    ['Foo Pte Ltd', 'foo'],
    ['Acme Corp Co Ltd', 'acme'],
    ['Acme & Co.', 'acme'],
    ['Big Data Tech Co., Ltd.', 'bigdatatech'],
    // Suffix words are stripped only as whole words.
    ['Zinc', 'zinc'],
    ['Zinc Inc.', 'zinc'],
    ['Tesco', 'tesco'],
    ['Coltd Software', 'coltdsoftware'],
    ['AT&T Inc.', 'att'],
    ['Alibaba (China) Co., Ltd.', 'alibabachina'],
    ['上海 ACME 贸易有限公司', '上海acme贸易'],
    // Nothing left, or a placeholder.
    ['', null],
    ['   ', null],
    ['（）', null],
    ['有限公司', null],
    ['Co., Ltd.', null],
    ['个人', null],
    ['无', null],
    ['N/A', null],
    ['自由职业', null],
    [null, null],
    [undefined, null],
  ])('%p → %p', (input, expected) => {
    expect(companyMatchKey(input)).toBe(expected);
  });
});

describe('companyMatchKey length', () => {
  it('keeps a key of 191 characters', () => {
    expect(companyMatchKey(`${'公'.repeat(191)}有限公司`)).toBe('公'.repeat(191));
  });

  it('hashes a key longer than 191 characters so that it fits the company_key column', () => {
    const hex = createHash('sha256').update('公'.repeat(192), 'utf8').digest('hex');
    expect(companyMatchKey(`${'公'.repeat(192)}有限公司`)).toBe(`sha256:${hex}`);
    expect(companyMatchKey(`${'公'.repeat(96)} ${'公'.repeat(96)}（有限公司）`)).toBe(`sha256:${hex}`);
  });
});

describe('fitKeyLength', () => {
  it.each<[string, string]>([
    ['', ''],
    ['+8613812345678', '+8613812345678'],
    ['a'.repeat(191), 'a'.repeat(191)],
    ['😀'.repeat(191), '😀'.repeat(191)],
    ['a'.repeat(192), `sha256:${createHash('sha256').update('a'.repeat(192)).digest('hex')}`],
    ['张'.repeat(300), `sha256:${createHash('sha256').update('张'.repeat(300), 'utf8').digest('hex')}`],
  ])('%#', (input, expected) => {
    expect(fitKeyLength(input)).toBe(expected);
  });
});

const EMPTY_LEAD: NormalisedLead = {
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

describe('normaliseLead', () => {
  it('normalises a complete lead', () => {
    const result = normaliseLead({
      name: ' 张三 ',
      phone: '＋８６ 138-1234-5678',
      email: ' ZhangSan＠QQ．com ',
      wechat: ' ZhangSan_88 ',
      company: ' 腾讯科技（深圳）有限公司 ',
      title: ' 销售总监 ',
      province: '广东省',
      city: ' 深圳市',
      industry: '互联网',
      companySize: '100-499人',
      budget: '￥8万元',
      need: '  想了解 CRM  ',
      campaign: '2024春季',
      keyword: 'crm 系统',
      landingPage: 'https://example.com/lp?a=1',
      remark: '座机 0755-12345678',
      externalId: ' ext-1 ',
      tags: [' 高意向 ', '高意向', '', '  ', '广告'],
      custom: { source_id: 42, vip: true, note: null },
    });
    expect(result).toEqual({
      lead: {
        name: '张三',
        phone: '+8613812345678',
        email: 'zhangsan@qq.com',
        wechat: 'zhangsan_88',
        company: '腾讯科技(深圳)有限公司',
        companyKey: '腾讯科技深圳',
        title: '销售总监',
        province: '广东省',
        city: '深圳市',
        industry: '互联网',
        companySize: 100,
        companySizeText: '100-499人',
        budget: 80000,
        budgetText: '￥8万元',
        need: '想了解 CRM',
        campaign: '2024春季',
        keyword: 'crm 系统',
        landingPage: 'https://example.com/lp?a=1',
        remark: '座机 0755-12345678',
        externalId: 'ext-1',
        tags: ['高意向', '广告'],
        custom: { source_id: 42, vip: true, note: null },
      },
      issues: [],
      warnings: [],
    });
  });

  it('turns empty and missing fields into null', () => {
    expect(
      normaliseLead({ phone: '13812345678', name: '   ', company: '', remark: '\u3000', tags: [] }),
    ).toEqual({
      lead: { ...EMPTY_LEAD, phone: '+8613812345678' },
      issues: [],
      warnings: [],
    });
  });

  it('keeps numbers for size and budget and their text', () => {
    const { lead, issues } = normaliseLead({ email: 'a@b.cn', companySize: 200, budget: 50000 });
    expect(issues).toEqual([]);
    expect([lead.companySize, lead.companySizeText, lead.budget]).toEqual([200, '200', 50000]);
  });

  it('treats placeholders as not given', () => {
    const { lead, issues } = normaliseLead({
      phone: '13812345678',
      email: '无',
      wechat: '-',
      company: '个人',
      companySize: '不清楚',
      budget: '面议',
    });
    expect(issues).toEqual([]);
    expect(lead).toEqual({
      ...EMPTY_LEAD,
      phone: '+8613812345678',
      company: '个人',
      companySizeText: '不清楚',
      budgetText: '面议',
    });
  });

  it('requires at least one contact', () => {
    expect(normaliseLead({ name: '张三', company: '某某有限公司' }).issues).toEqual([
      { path: 'phone', message: '至少需要手机号、邮箱或微信号之一' },
    ]);
  });

  it('counts only contacts that normalised successfully', () => {
    const { lead, issues } = normaliseLead({ phone: '010-12345678', email: 'foo@qq', wechat: 'abc' });
    expect([lead.phone, lead.email, lead.wechat]).toEqual([null, null, null]);
    expect(issues).toEqual([
      { path: 'phone', message: `手机号 "010****5678" 是固定电话：${NOT_MOBILE_HINT}` },
      { path: 'email', message: '邮箱 "f***@qq" 的域名缺少 "."' },
      { path: 'wechat', message: '微信号长度应为 6–20 个字符（当前 3 个）' },
      { path: 'phone', message: '至少需要手机号、邮箱或微信号之一' },
    ]);
  });

  it('reports an invalid contact even when another one is valid', () => {
    const { lead, issues } = normaliseLead({ phone: '12812345678', wechat: 'zhangsan88' });
    expect([lead.phone, lead.wechat]).toEqual([null, 'zhangsan88']);
    expect(issues).toEqual([{ path: 'phone', message: '手机号 "128****5678" 不是有效的中国大陆手机号' }]);
  });

  it('warns about unreadable size and budget without refusing the lead, keeping their text', () => {
    const { lead, issues, warnings } = normaliseLead({
      phone: '13812345678',
      companySize: '很多人',
      budget: '充足',
    });
    expect([lead.companySize, lead.companySizeText, lead.budget, lead.budgetText]).toEqual([
      null,
      '很多人',
      null,
      '充足',
    ]);
    expect(issues).toEqual([]);
    expect(warnings).toEqual([
      {
        path: 'companySize',
        message: '公司规模 "很多人" 无法识别，应写作 200、100-499人、500人以上 这样的格式',
      },
      { path: 'budget', message: '预算 "充足" 无法识别，应写作 80000、8万、¥80,000、1.5亿 这样的人民币金额' },
    ]);
  });

  it('rejects negative numbers for size and budget', () => {
    const { lead, issues } = normaliseLead({ phone: '13812345678', companySize: -5, budget: -1 });
    expect([lead.companySize, lead.companySizeText, lead.budget]).toEqual([null, null, null]);
    expect(issues).toEqual([
      { path: 'companySize', message: '公司规模必须是不小于 0 的数字' },
      { path: 'budget', message: '预算必须是不小于 0 的数字（单位：元）' },
    ]);
  });

  it('shortens long unreadable budget text in the message', () => {
    const { warnings } = normaliseLead({ phone: '13812345678', budget: '预'.repeat(40) });
    expect(warnings).toEqual([
      {
        path: 'budget',
        message: `预算 "${'预'.repeat(30)}…" 无法识别，应写作 80000、8万、¥80,000、1.5亿 这样的人民币金额`,
      },
    ]);
  });

  it('keeps a phone-number WeChat id in wechat only', () => {
    const { lead } = normaliseLead({ wechat: '+86 138 1234 5678' });
    expect([lead.phone, lead.wechat]).toEqual([null, '13812345678']);
  });

  it('does not share the custom object with the input', () => {
    const custom = { a: 1 };
    const { lead } = normaliseLead({ phone: '13812345678', custom });
    expect(lead.custom).toEqual({ a: 1 });
    expect(lead.custom).not.toBe(custom);
  });
});
