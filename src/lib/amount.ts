/**
 * Parsing of the money amounts and company sizes that Chinese lead forms send as free text:
 * `8万`, `1.5亿`, `¥80,000`, `2.5w`, `80k`, `十万`, `1万5`, `10-50万`, `500人以上`, `少于50人`.
 *
 * Ranges and open bounds resolve to their lower bound (`10-50万` → 100000, `50万以上` → 500000):
 * scoring rules compare against thresholds, and the lower bound is the only figure the lead actually
 * committed to. An upper bound alone (`5万以下`) therefore gives 0 for money and 1 for a head count
 * (a company has at least one person). Anything we cannot read with certainty is null, never a guess.
 */

/**
 * The largest amount we read: 1 万亿 yuan (the cap of channel costs too). More is a typo or an attack,
 * and would not fit the BIGINT columns once multiplied by a unit (`99999999999999亿`).
 */
export const MAX_AMOUNT = 1_000_000_000_000;
/** The largest head count we read (the biggest employers have a few million people; INT holds 2^31). */
export const MAX_COMPANY_SIZE = 10_000_000;

const UNIT: Record<string, number> = {
  十: 10,
  百: 100,
  千: 1_000,
  k: 1_000,
  万: 10_000,
  w: 10_000,
  亿: 100_000_000,
};
const SMALL_UNITS = new Set(['十', '百', '千', 'k']);

const CHINESE_DIGIT: Record<string, number> = {
  〇: 0,
  零: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

// Numbers with thousands separators must be grouped correctly (`80,000`): a comma elsewhere is far
// more likely a list (`5万,10万`) than a number, and a list must not be read as one amount.
const TOKEN = /(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)|([〇零一二两三四五六七八九])|([十百千万亿kw])/y;

/**
 * Folds full-width ASCII (U+FF01–FF5E) and the ideographic space. A private copy of `toHalfWidth`
 * in src/leads/normalise.ts, because src/lib must not depend on src/leads.
 */
function fold(s: string): string {
  return s.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

/**
 * Reads one number written with digits and/or Chinese numerals and units, e.g. `8`, `1.5亿`,
 * `1亿2000万`, `十二万`, `5百万`, `80k`, `3千5`. Returns null for anything else (including an empty
 * string). Works like the usual Chinese numeral algorithm: 十/百/千 build a section below 万, 万 and
 * 亿 scale what came before them.
 */
export function parseChineseNumber(s: string): number | null {
  if (s === '') return null;
  let yi = 0; // finished 亿 part
  let wan = 0; // finished 万 part within the current 亿 group
  let section = 0; // below 万
  let pending: number | null = null; // a number not yet followed by a unit
  let pendingIsSingleDigit = false;
  let lastUnit: number | null = null; // the unit token just before `pending`, for `1万5`
  let lastSmallUnit = Number.POSITIVE_INFINITY;
  let sawZero = false;
  let pos = 0;
  while (pos < s.length) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(s);
    if (!m) return null;
    pos = TOKEN.lastIndex;
    const [, arabic, chineseDigit, unitChar] = m;
    if (arabic !== undefined || chineseDigit !== undefined) {
      const value = arabic !== undefined ? Number(arabic.replace(/,/g, '')) : CHINESE_DIGIT[chineseDigit!]!;
      // 零 is a placeholder (一万零五百): it separates, it does not add.
      if (chineseDigit !== undefined && value === 0 && pending === null) {
        sawZero = true;
        continue;
      }
      // Two numbers in a row (`5 5`, `一二`) are not an amount.
      if (pending !== null) return null;
      pending = value;
      pendingIsSingleDigit = chineseDigit !== undefined || /^\d$/.test(arabic!);
      continue;
    }
    const unit = UNIT[unitChar!]!;
    if (SMALL_UNITS.has(unitChar!)) {
      // 千 before 百 before 十 within a section; `5千3千` is not a number.
      if (unit >= lastSmallUnit) return null;
      lastSmallUnit = unit;
      // A bare 十 means ten (十万 = 100000); a bare 百/千/k needs a number in front.
      if (pending === null && unit !== 10) return null;
      section += (pending ?? 1) * unit;
    } else if (unit === 10_000) {
      const value = section + (pending ?? 0);
      if (value === 0 || wan !== 0) return null;
      wan = value * unit;
      section = 0;
      lastSmallUnit = Number.POSITIVE_INFINITY;
    } else {
      const value = wan + section + (pending ?? 0);
      if (value === 0 || yi !== 0) return null;
      yi = value * unit;
      wan = 0;
      section = 0;
      lastSmallUnit = Number.POSITIVE_INFINITY;
    }
    pending = null;
    lastUnit = unit;
    sawZero = false;
  }
  let tail = pending ?? 0;
  // Colloquial `1万5` / `三千五` / `一百五`: a single trailing digit right after a unit counts in the
  // next lower unit (15000, 3500, 150). `一万零五` (with 零) is literal: 10005.
  if (pending !== null && pendingIsSingleDigit && lastUnit !== null && lastUnit > 10 && !sawZero) {
    tail = pending * (lastUnit / 10);
  }
  if (pending === null && lastUnit === null) return null;
  const total = yi + wan + section + tail;
  return Number.isFinite(total) ? total : null;
}

interface Bounded {
  body: string;
  /** `少于50`, `5万以下`: only an upper bound was given. */
  upperOnly: boolean;
}

const UPPER_PREFIX = /^(?:少于|小于|低于|不到|不足|不超过|最多|<=|<|≤)/;
const UPPER_SUFFIX = /(?:及以下|以下|以内|之内|内)$/;
const LOWER_PREFIX = /^(?:大于|多于|超过|高于|至少|不少于|不低于|>=|>|≥)/;
const LOWER_SUFFIX = /(?:及以上|以上|起|\+)$/;
const APPROX_PREFIX = /^(?:大约|大概|约|预计|差不多)/;
const APPROX_SUFFIX = /(?:左右|上下)$/;

/** Strips the bound and approximation words that do not change the lower bound. */
function stripQualifiers(s: string): Bounded {
  let body = s;
  let upperOnly = false;
  for (let changed = true; changed; ) {
    const before = body;
    body = body.replace(APPROX_PREFIX, '').replace(APPROX_SUFFIX, '').replace(LOWER_PREFIX, '');
    body = body.replace(LOWER_SUFFIX, '');
    const upper = body.replace(UPPER_PREFIX, '').replace(UPPER_SUFFIX, '');
    if (upper !== body) upperOnly = true;
    body = upper;
    changed = body !== before;
  }
  // `50多万`, `十多万`: "more than"; the figure given is the lower bound.
  body = body.replace(/多/g, '');
  return { body, upperOnly };
}

const RANGE_SEPARATOR = /-|~|—|–|至|到/;

/**
 * Lower bound of `body`, which is a number or a range `a-b`. In a range a unit written only on the
 * right applies to both sides (`10-50万` = 10万–50万). A range whose left side is above its right side
 * is malformed and gives null.
 */
function lowerBound(body: string): number | null {
  const sep = RANGE_SEPARATOR.exec(body);
  // A separator in first position is a minus sign: negative amounts are never valid here.
  if (!sep) return parseChineseNumber(body);
  if (sep.index === 0) return null;
  const left = body.slice(0, sep.index);
  const right = body.slice(sep.index + sep[0].length);
  const high = parseChineseNumber(right);
  let low = parseChineseNumber(left);
  if (high === null || low === null) return null;
  const leftHasUnit = /[十百千万亿kw]$/.test(left);
  const rightUnit = /[千万亿kw]+$/.exec(right);
  if (!leftHasUnit && rightUnit) {
    low = parseChineseNumber(left + rightUnit[0]);
    if (low === null) return null;
  }
  return low <= high ? low : null;
}

// Foreign currencies cannot be converted without a rate; better no budget than a wrong one.
const FOREIGN_CURRENCY = /美元|美金|港币|港元|澳元|欧元|英镑|日元|韩元|台币|usd|hkd|eur|gbp|jpy|\$|€|£/;
const CURRENCY_MARK = /人民币|rmb|cny|块钱|元|圆|块|¥|￥/g;

/**
 * Folded, lower-cased, whitespace removed (`8 万`, `¥ 80,000`). Null when whitespace separates two
 * digits: `100 200` is two numbers, not 100200.
 */
function prepare(text: string): string | null {
  const s = fold(text).toLowerCase();
  if (/\d\s+\d/.test(s)) return null;
  return s.replace(/\s+/g, '');
}

/** Rounds to fen: 1.1 × 10000 is 11000.000000000002 in floating point. */
function toFen(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Yuan from a number or text such as `8万`, `1.5亿`, `80,000`, `¥80000`, `￥8万元`, `80k`, `3千`,
 * `2.5w`, `８万`, `十万`, `1万5`, `10-50万` (→ 100000), `50万以上` (→ 500000), `5万以下` (→ 0).
 * Null for unparseable, negative, non-finite or too large (over MAX_AMOUNT) input and for foreign
 * currencies.
 */
export function parseAmount(text: string | number): number | null {
  if (typeof text === 'number') return inRange(text, MAX_AMOUNT) ? toFen(text) : null;
  let s = prepare(text);
  if (s === null || s === '' || FOREIGN_CURRENCY.test(s)) return null;
  s = s.replace(/^预算/, '');
  const { body, upperOnly } = stripQualifiers(s.replace(CURRENCY_MARK, ''));
  const value = lowerBound(body);
  if (value === null) return null;
  if (upperOnly) return 0;
  return inRange(value, MAX_AMOUNT) ? toFen(value) : null;
}

function inRange(n: number, max: number): boolean {
  return Number.isFinite(n) && n >= 0 && n <= max;
}

const PEOPLE_MARK = /员工数?|职工|人数|人|名|位|people|persons|employees|staff/g;

/**
 * Employees from a number or text such as `100-499人` (→ 100), `500人以上` (→ 500), `1000+`,
 * `少于50人` (→ 1), `1万人以上` (→ 10000). Fractions (`1.5k`) are floored. Null for unparseable,
 * negative or too large (over MAX_COMPANY_SIZE) input.
 */
export function parseCompanySize(text: string | number): number | null {
  if (typeof text === 'number') return inRange(text, MAX_COMPANY_SIZE) ? text : null;
  const s = prepare(text);
  if (s === null || s === '') return null;
  const { body, upperOnly } = stripQualifiers(s.replace(PEOPLE_MARK, ''));
  const value = lowerBound(body);
  if (value === null) return null;
  if (upperOnly) return 1;
  return inRange(value, MAX_COMPANY_SIZE) ? Math.floor(value) : null;
}
