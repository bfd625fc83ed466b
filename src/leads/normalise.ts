import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { MAX_AMOUNT, MAX_COMPANY_SIZE, parseAmount, parseCompanySize } from '../lib/amount';
import type { FieldIssue } from '../lib/errors';
import type { LeadInput, NormalisedLead } from './types';

/**
 * Normalisation of lead fields before dedupe and scoring. Messages are Chinese: they reach
 * integrators in China. Messages never echo a whole phone number (personal data): at most its first
 * 3 and last 4 digits; email addresses are masked the same way as in src/lib/mask.ts.
 */

export type NormaliseResult = { ok: true; value: string } | { ok: false; message: string };

/**
 * Folds full-width ASCII (U+FF01–FF5E: letters, digits, punctuation) and the ideographic space U+3000
 * to their half-width forms, the part of NFKC that matters for contact data typed with a Chinese IME.
 * Deliberately not `normalize('NFKC')`: that would also rewrite CJK compatibility characters, circled
 * digits and the like, which are content, not formatting.
 */
export function toHalfWidth(s: string): string {
  return s.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

// Zero-width characters arrive with copy-and-paste from chat apps and spreadsheets; invisible, they
// would still make two equal phone numbers or emails differ.
const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff]/g;

/** Trims; empty becomes null. Only the ends lose zero-width characters (ZWJ is part of emoji). */
function clean(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.replace(/^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$/g, '');
  return trimmed === '' ? null : trimmed;
}

/** Contact fields: full width folded and zero-width characters removed everywhere. */
function cleanContact(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return clean(toHalfWidth(value).replace(ZERO_WIDTH, ''));
}

// Optional form fields are often filled with "无" or "-" instead of being left empty. For contact
// fields these mean "not given": rejecting the whole lead because its WeChat field says "无" would
// lose a lead that has a valid phone number.
const CONTACT_PLACEHOLDERS = new Set([
  '无',
  '暂无',
  '没有',
  '未知',
  '不详',
  '-',
  '--',
  '/',
  'n/a',
  'na',
  'none',
  'null',
]);

// Budget and company size: values that say "unknown" rather than give a figure. They become null
// without an issue; any other unreadable text is reported.
const VALUE_PLACEHOLDERS = new Set([
  '面议',
  '待定',
  '未定',
  '不确定',
  '不清楚',
  '不知道',
  '未知',
  '暂无',
  '无',
  '没有',
  '不限',
  '保密',
  '待评估',
  '待沟通',
  '再议',
  '其他',
  '无预算',
  '暂无预算',
  '没有预算',
  '-',
  '--',
  '/',
  'n/a',
  'na',
  'none',
  'null',
]);

function isPlaceholder(set: Set<string>, value: string): boolean {
  return set.has(toHalfWidth(value).toLowerCase().replace(/\s+/g, ''));
}

// ---------------------------------------------------------------------------------------------------
// Phone

/**
 * Shows at most the first 3 and last 4 digits, and hides at least 4: `138****5678`. Shorter inputs
 * show less, so that a short number is never echoed almost whole.
 */
function maskDigits(digits: string): string {
  if (digits.length >= 11) return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
  if (digits.length >= 8) return `${digits.slice(0, 2)}****${digits.slice(-2)}`;
  return '****';
}

// Separators people put into phone numbers. `/` and `,` are not among them: they separate two
// numbers, and we must not glue two numbers into one.
const PHONE_SEPARATORS = /[\s\-–—().·]/g;
const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);
const NOT_MOBILE_HINT = 'phone 只接受手机号，固定电话等其他号码请填写在 remark 字段';

/**
 * E.164 for a mobile number: `+86 138 1234 5678`, `0086-13812345678`, `86 13812345678`,
 * `138-1234-5678`, `(+86)13812345678` and full-width digits all give `+8613812345678`. Without a
 * country code the number is read as mainland Chinese; a foreign number needs its explicit code
 * (`+852 9123 4567`). Validation uses the full ("max") metadata so that unassigned prefixes such as
 * 12x, 10x or 154 are rejected. Landlines and 400/800 numbers are rejected: the sales team calls and
 * adds leads on WeChat by mobile number.
 */
export function normalisePhone(raw: string): NormaliseResult {
  const text = toHalfWidth(raw).replace(ZERO_WIDTH, '').trim();
  if (text === '') return { ok: false, message: '手机号不能为空' };
  const compact = text.replace(PHONE_SEPARATORS, '');
  const typedDigits = compact.replace(/\D/g, '');
  if (!/^\+?\d+$/.test(compact)) {
    return {
      ok: false,
      message: `手机号 "${maskDigits(typedDigits)}" 含有无效字符，只能包含数字、空格、-、括号和开头的 +`,
    };
  }
  // More digits than any E.164 number (15) plus a 00 prefix cannot be a phone number.
  if (typedDigits.length > 17) {
    return { ok: false, message: `手机号 "${maskDigits(typedDigits)}" 位数过多` };
  }

  let international: string | null = null;
  if (compact.startsWith('+')) international = compact;
  else if (compact.startsWith('00')) international = `+${compact.slice(2)}`;

  // Without + or 00 the number is read as Chinese; libphonenumber also recognises a leading 86
  // there (`86 13812345678`, `86-10-12345678`).
  const parsed =
    international !== null
      ? parsePhoneNumberFromString(international)
      : parsePhoneNumberFromString(compact, 'CN');

  // Mask what the reader recognises: the digits as typed when they are the national number (with
  // or without the trunk 0: `010-…` → `010****5678`), else the national number (`+86 138…` →
  // `138****5678`).
  const national = parsed?.nationalNumber ?? typedDigits.replace(/^00/, '');
  const shown = maskDigits(
    typedDigits === national || typedDigits === `0${national}` ? typedDigits : national,
  );

  if (!parsed) {
    if (international !== null) {
      return { ok: false, message: `手机号 "${shown}" 的国家/地区代码无法识别` };
    }
    return { ok: false, message: `手机号 "${shown}" 不是有效的中国大陆手机号` };
  }
  const chinese = parsed.countryCallingCode === '86';
  // A number with a type is valid (libphonenumber's isValid is "has a type" with the max metadata,
  // and getType first checks the national pattern isValid falls back to), so isValid, which matches
  // the same large patterns again, is asked only when there is no type.
  const type = parsed.getType();
  if (type === undefined && !parsed.isValid()) {
    return {
      ok: false,
      message: chinese
        ? `手机号 "${shown}" 不是有效的中国大陆手机号`
        : `手机号 "${shown}" 不是有效的手机号（国家/地区代码 +${parsed.countryCallingCode}）`,
    };
  }
  if (type !== undefined && MOBILE_TYPES.has(type)) return { ok: true, value: parsed.number };
  const region = chinese ? '' : `（国家/地区代码 +${parsed.countryCallingCode}）`;
  if (type === 'FIXED_LINE') {
    return { ok: false, message: `手机号 "${shown}" 是固定电话${region}：${NOT_MOBILE_HINT}` };
  }
  return { ok: false, message: `手机号 "${shown}" 不是手机号${region}：${NOT_MOBILE_HINT}` };
}

// ---------------------------------------------------------------------------------------------------
// Email

const EMAIL_LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// Letters beyond ASCII are allowed in the domain (IDN such as 例子.中国), not in the local part,
// which Chinese mail providers do not hand out.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const TOP_LEVEL = /^(?:\p{L}{2,}|xn--[a-z0-9-]+)$/u;

function maskEmailForMessage(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return `${Array.from(email)[0] ?? ''}***`;
  // The domain is shown, but a phone number typed after the @ (`x@13812345678`) is not.
  const domain = email.slice(at).replace(/\d{7,}/g, (digits) => maskDigits(digits));
  return `${at > 0 ? Array.from(email)[0] : ''}***${domain}`;
}

/**
 * Trimmed and lower-cased. Full-width ＠ and ． and the Chinese full stop 。 (typed by IMEs in
 * "qq。com") are folded first. The pattern is deliberately practical rather than RFC 5322: one @,
 * a dotted domain, no spaces, at most 254 characters.
 */
export function normaliseEmail(raw: string): NormaliseResult {
  const email = toHalfWidth(raw).replace(ZERO_WIDTH, '').replace(/[。｡]/g, '.').trim().toLowerCase();
  if (email === '') return { ok: false, message: '邮箱不能为空' };
  if (email.length > 254) return { ok: false, message: '邮箱超过 254 个字符' };
  const shown = maskEmailForMessage(email);
  if (/\s/.test(email)) return { ok: false, message: `邮箱 "${shown}" 不能包含空格` };
  const parts = email.split('@');
  if (parts.length === 1) return { ok: false, message: `邮箱 "${shown}" 缺少 @` };
  if (parts.length > 2) return { ok: false, message: `邮箱 "${shown}" 只能包含一个 @（只能填写一个邮箱）` };
  const [local, domain] = parts as [string, string];
  if (local.length === 0 || local.length > 64 || !EMAIL_LOCAL.test(local)) {
    return { ok: false, message: `邮箱 "${shown}" 的 @ 前面部分格式不正确` };
  }
  const labels = domain.split('.');
  if (labels.length < 2) return { ok: false, message: `邮箱 "${shown}" 的域名缺少 "."` };
  if (!labels.every((label) => DOMAIN_LABEL.test(label)) || !TOP_LEVEL.test(labels[labels.length - 1]!)) {
    return { ok: false, message: `邮箱 "${shown}" 的域名格式不正确` };
  }
  return { ok: true, value: email };
}

// ---------------------------------------------------------------------------------------------------
// WeChat

const WECHAT_ID = /^[a-z][a-z0-9_-]{5,19}$/;

/**
 * Trimmed, full width folded, lower-cased. A WeChat id is 6–20 characters, starts with a letter and
 * holds letters, digits, `_` and `-`. Many people give their mobile number instead (WeChat finds
 * accounts by it): a valid mobile is kept as a digit string — the 11-digit national number for
 * mainland China (what one types into WeChat search), country code + number without `+` otherwise.
 * It is not copied into `phone`: the field the lead used is what the integrator sent.
 */
export function normaliseWechat(raw: string): NormaliseResult {
  const id = toHalfWidth(raw).replace(ZERO_WIDTH, '').trim().toLowerCase();
  if (id === '') return { ok: false, message: '微信号不能为空' };
  if (WECHAT_ID.test(id)) return { ok: true, value: id };
  if (/^\+?[\d\s\-()]+$/.test(id)) {
    const phone = normalisePhone(id);
    if (phone.ok) {
      const value = phone.value.startsWith('+86') ? phone.value.slice(3) : phone.value.slice(1);
      return { ok: true, value };
    }
    return {
      ok: false,
      message: `微信号 "${maskDigits(id.replace(/\D/g, ''))}" 是纯数字但不是有效的手机号；微信号应以字母开头`,
    };
  }
  const length = Array.from(id).length;
  if (length < 6 || length > 20) {
    return { ok: false, message: `微信号长度应为 6–20 个字符（当前 ${length} 个）` };
  }
  if (!/^[a-z]/.test(id)) return { ok: false, message: '微信号必须以字母开头' };
  return { ok: false, message: '微信号只能包含字母、数字、下划线（_）和减号（-）' };
}

// ---------------------------------------------------------------------------------------------------
// Keys

/** Matching keys are stored in VARCHAR(191) columns (the utf8mb4 index limit of older MySQL). */
export const MAX_KEY_LENGTH = 191;

/**
 * The value itself when it fits in VARCHAR(191), else `sha256:<hex>` (71 characters): still an exact
 * match, and it fits. MySQL counts characters (code points), so that is what is compared, not UTF-16
 * units or bytes. A hashed value cannot collide with a plain one: plain phones, emails, WeChat ids and
 * company keys never contain `:`, and company_contact values always contain `|`, which a hash does not.
 */
export function fitKeyLength(value: string): string {
  if (Array.from(value).length <= MAX_KEY_LENGTH) return value;
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------------
// Company

// English legal forms, matched as whole words at the end (after punctuation became spaces, so
// `Co., Ltd.` is `co ltd`). Word boundaries matter: `Zinc` must not lose `inc`. Bare `co`/`company`
// are stripped too: `ACME Co.` and `ACME Company` are the same customer as `ACME`.
const EN_SUFFIX =
  /(?:^|\s)(?:co\s?ltd|pte\s?ltd|pvt\s?ltd|private\s?limited|company\s?limited|limited|ltd|incorporated|inc|l\s?l\s?c|corporation|corp|gmbh|plc|company|co)$/;
// Chinese legal forms. 集团 is stripped only together with a legal form (`万达集团有限公司` → `万达`);
// a bare trailing 集团 (`万达集团`) is kept because it is then part of the name people use.
// 分公司 is never stripped: a branch buys and is followed up on its own, so `XX有限公司上海分公司`
// is a different customer from `XX有限公司`.
const ZH_SUFFIX = /(?:集团)?(?:股份有限公司|有限责任公司|有限公司|股份公司)$/;

// Company values that mean "no company". Keying them would merge unrelated people called 张伟 who
// all typed "个人" into one lead via the company_contact dedupe key.
const COMPANY_PLACEHOLDERS = new Set([
  '无',
  '暂无',
  '没有',
  '无公司',
  '个人',
  '个体',
  '个体户',
  '自由职业',
  '自由职业者',
  '未知',
  '不详',
  '保密',
  '待定',
  'na',
  'none',
  'null',
  'nil',
]);

/**
 * Key for matching company names: full width folded, lower-cased, whitespace and punctuation (ASCII
 * and Chinese: （）()·.,、 …) removed, legal suffixes stripped from the end repeatedly.
 * `腾讯科技（深圳）有限公司` and `腾讯科技(深圳)有限公司 ` both give `腾讯科技深圳`; `ACME Co., Ltd.`
 * and `acme` both give `acme`. A region in brackets is kept: `腾讯科技（北京）有限公司` is another legal
 * entity than the Shenzhen one, and guessing which brackets are regions is error-prone. Null when
 * nothing is left or the value is a placeholder such as `个人`. A key over 191 characters is hashed
 * (see `fitKeyLength`).
 */
export function companyMatchKey(company: string | null | undefined): string | null {
  if (company === null || company === undefined) return null;
  let s = toHalfWidth(company).replace(ZERO_WIDTH, '').toLowerCase();
  // Punctuation becomes a space first so that English words stay apart for EN_SUFFIX.
  s = s
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  // Spaces next to CJK characters carry no meaning (`腾讯科技 有限公司`); dropping them lets
  // ZH_SUFFIX match.
  s = s.replace(/ ?([^\x00-\x7f]) ?/g, '$1');
  for (;;) {
    const next = s.replace(EN_SUFFIX, '').replace(ZH_SUFFIX, '').trimEnd();
    if (next === s) break;
    s = next;
  }
  const key = s.replace(/\s+/g, '');
  if (key === '' || COMPANY_PLACEHOLDERS.has(key)) return null;
  // The intake accepts company names of 255 characters; the key column holds 191.
  return fitKeyLength(key);
}

// ---------------------------------------------------------------------------------------------------
// Whole lead

function describe(text: string): string {
  const chars = Array.from(text);
  return chars.length > 30 ? `${chars.slice(0, 30).join('')}…` : text;
}

/**
 * Normalises every field of a lead. Never throws: problems are returned as issues (path = field name,
 * Chinese message) and the offending field is null in `lead`. At least one of phone, email and WeChat
 * must have normalised successfully.
 */
/**
 * `issues` refuse the lead (an unusable contact, or none at all); `warnings` do not: an unreadable
 * budget or company size must not delay a lead, so its text is kept and the number left empty.
 */
export function normaliseLead(input: LeadInput): {
  lead: NormalisedLead;
  issues: FieldIssue[];
  warnings: FieldIssue[];
} {
  const issues: FieldIssue[] = [];
  const warnings: FieldIssue[] = [];

  const contact = (
    path: 'phone' | 'email' | 'wechat',
    raw: string | undefined,
    normalise: (value: string) => NormaliseResult,
  ): string | null => {
    const value = cleanContact(raw);
    if (value === null || isPlaceholder(CONTACT_PLACEHOLDERS, value)) return null;
    const result = normalise(value);
    if (result.ok) return result.value;
    issues.push({ path, message: result.message });
    return null;
  };
  const phone = contact('phone', input.phone, normalisePhone);
  const email = contact('email', input.email, normaliseEmail);
  const wechat = contact('wechat', input.wechat, normaliseWechat);

  let companySize: number | null = null;
  let companySizeText: string | null = null;
  if (typeof input.companySize === 'number') {
    companySize = parseCompanySize(input.companySize);
    if (companySize === null)
      issues.push({
        path: 'companySize',
        message:
          input.companySize > MAX_COMPANY_SIZE
            ? `公司规模不能大于 ${MAX_COMPANY_SIZE}`
            : '公司规模必须是不小于 0 的数字',
      });
    else companySizeText = String(input.companySize);
  } else {
    companySizeText = clean(input.companySize);
    if (companySizeText !== null && !isPlaceholder(VALUE_PLACEHOLDERS, companySizeText)) {
      companySize = parseCompanySize(companySizeText);
      if (companySize === null) {
        warnings.push({
          path: 'companySize',
          message: `公司规模 "${describe(companySizeText)}" 无法识别，应写作 200、100-499人、500人以上 这样的格式`,
        });
      }
    }
  }

  let budget: number | null = null;
  let budgetText: string | null = null;
  if (typeof input.budget === 'number') {
    budget = parseAmount(input.budget);
    if (budget === null)
      issues.push({
        path: 'budget',
        message:
          input.budget > MAX_AMOUNT
            ? `预算不能大于 ${MAX_AMOUNT} 元`
            : '预算必须是不小于 0 的数字（单位：元）',
      });
  } else {
    const text = clean(input.budget);
    budgetText = text;
    if (text !== null && !isPlaceholder(VALUE_PLACEHOLDERS, text)) {
      budget = parseAmount(text);
      if (budget === null) {
        warnings.push({
          path: 'budget',
          message: `预算 "${describe(text)}" 无法识别，应写作 80000、8万、¥80,000、1.5亿 这样的人民币金额`,
        });
      }
    }
  }

  if (phone === null && email === null && wechat === null) {
    issues.push({ path: 'phone', message: '至少需要手机号、邮箱或微信号之一' });
  }

  const company = cleanContact(input.company);
  const tags: string[] = [];
  for (const tag of input.tags ?? []) {
    const t = clean(tag);
    if (t !== null && !tags.includes(t)) tags.push(t);
  }

  const lead: NormalisedLead = {
    name: cleanContact(input.name),
    phone,
    email,
    wechat,
    company,
    companyKey: companyMatchKey(company),
    title: clean(input.title),
    province: clean(input.province),
    city: clean(input.city),
    industry: clean(input.industry),
    companySize,
    companySizeText,
    // Whole yuan: the column is an integer; fen do not matter for a budget.
    budget: budget === null ? null : Math.round(budget),
    budgetText,
    need: clean(input.need),
    campaign: clean(input.campaign),
    keyword: clean(input.keyword),
    landingPage: clean(input.landingPage),
    remark: clean(input.remark),
    externalId: clean(input.externalId),
    tags,
    custom: { ...(input.custom ?? {}) },
  };
  return { lead, issues, warnings };
}
