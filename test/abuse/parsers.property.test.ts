// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references are the input under test
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import { parseUntil } from '../../src/availability/parse-until';
import type { CardContext, CardLead } from '../../src/cards/card-context';
import { loadCardTemplates } from '../../src/cards/load-cards';
import { checkTemplateText, parseTemplateText } from '../../src/cards/placeholders';
import { renderCard } from '../../src/cards/render-card';
import { interpolate } from '../../src/config/interpolate-env';
import type { Problem } from '../../src/config/org-config-messages';
import { MalformedBodyError, parseJsonBody } from '../../src/http/read-body';
import { parseLeadInput } from '../../src/leads/intake-schema';
import {
  companyMatchKey,
  normaliseEmail,
  normaliseLead,
  normalisePhone,
  normaliseWechat,
} from '../../src/leads/normalise';
import {
  MAX_AMOUNT,
  MAX_COMPANY_SIZE,
  parseAmount,
  parseChineseNumber,
  parseCompanySize,
} from '../../src/lib/amount';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/lib/duration';
import { encryptEvent } from '../../src/platforms/dingtalk/crypto';
import {
  cardCallbackEvent,
  cardCallbackSchema,
  robotMessageEvent,
  robotMessageSchema,
  subscriptionEvent,
} from '../../src/platforms/dingtalk/events';
import { dingtalkSign, verifyDingtalkSign } from '../../src/platforms/dingtalk/sign';
import { verifyEventRequest, verifyRobotCallback } from '../../src/platforms/dingtalk/verify-callback';
import {
  decodeAesKey,
  decryptMessage,
  encryptMessage,
  verifySignature,
  WecomCryptoError,
} from '../../src/platforms/wecom/crypto';
import { toInboundEvent } from '../../src/platforms/wecom/events';
import { verifyWecomRequest } from '../../src/platforms/wecom/verify-callback';
import { buildXml, parseWecomXml, WecomXmlError } from '../../src/platforms/wecom/xml';

/**
 * Property-based fuzzing of every parser that reads outside input (issue 9, RELIABILITY.md "Tests
 * that prove it"): whatever the input, each one returns, or throws only its documented error type,
 * and does so quickly (a regular expression that backtracks catastrophically shows up as a slow call).
 */
const RUNS = { numRuns: 400 };
/** Generous for a slow CI machine; a catastrophic backtrack takes seconds or hours. */
const FAST_MS = 1_000;

/** Runs `fn` and fails when it took too long, whether it returned or threw. */
function timed<T>(fn: () => T): T {
  const started = performance.now();
  const check = () => {
    const ms = performance.now() - started;
    if (ms > FAST_MS) throw new Error(`took ${Math.round(ms)} ms`);
  };
  let value: T;
  try {
    value = fn();
  } catch (error) {
    check();
    throw error;
  }
  check();
  return value;
}

/** Runs `fn`; returns what it threw (undefined when it returned). */
function thrown(fn: () => unknown): unknown {
  try {
    timed(fn);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Any text: full Unicode, lone surrogates included, and the characters parsers care about. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        '<',
        '>',
        '/',
        '!',
        '?',
        '[',
        ']',
        '&',
        ';',
        '"',
        "'",
        '=',
        '{',
        '}',
        '$',
        '|',
        '-',
        ' ',
        '\u3000',
        '\u200b',
        '\ufeff',
        '\u0000',
        '万',
        '亿',
        '十',
        'k',
        'w',
        '1',
        '0',
        '9',
        '.',
        ',',
        '+',
        '@',
        '__proto__',
        'constructor',
        'xml',
        'CDATA',
        'DOCTYPE',
        'ENTITY',
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join('')),
);

/** Long, repetitive inputs: where catastrophic backtracking hides. */
const pathological = fc
  .tuple(
    fc.constantFrom('1', '9', 'a', ' ', '-', '万', '<a>', '{{', '${', '.', '@', '0', 'ms', '1m', '十'),
    fc.integer({ min: 1_000, max: 20_000 }),
    fc.constantFrom('', 'x', '!', '<', '}', '@', '万x'),
  )
  .map(([unit, times, tail]) => unit.repeat(times) + tail);

describe('WeCom XML (src/platforms/wecom/xml.ts)', () => {
  it('parseWecomXml returns a flat string map or throws WecomXmlError, for any text', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, pathological), (text) => {
        const error = thrown(() => {
          const fields = parseWecomXml(text);
          for (const [key, value] of Object.entries(fields)) {
            expect(typeof key).toBe('string');
            expect(typeof value).toBe('string');
          }
        });
        if (error !== undefined) expect(error).toBeInstanceOf(WecomXmlError);
      }),
      RUNS,
    );
  });

  /** Random element trees: nesting, repeats, CDATA, comments, reserved names, stray entities. */
  const element: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('text', '<![CDATA[x]]>', '&amp;', '&lol;', '<!-- c -->', '', ']]>', '<?pi x?>'),
      fc
        .tuple(
          fc.constantFrom(
            'A',
            'MsgType',
            'Encrypt',
            'SelectedItem',
            'OptionId',
            'item',
            '__proto__',
            'toString',
          ),
          fc.array(tie('node'), { maxLength: 4 }),
        )
        .map(([name, children]) => `<${name}>${children.join('')}</${name}>`),
    ),
  })).node;

  it('parseWecomXml handles any element tree inside <xml> without an unexpected error', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 6 }), fc.boolean(), (children, declaration) => {
        const xml = `${declaration ? '<?xml version="1.0"?>' : ''}<xml>${children.join('')}</xml>`;
        const error = thrown(() => parseWecomXml(xml));
        if (error !== undefined) expect(error).toBeInstanceOf(WecomXmlError);
      }),
      RUNS,
    );
  });

  it('round-trips any flat document buildXml writes', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/).filter((n) => n !== 'xml');
    // XML 1.0 text: no C0 controls but tab/newline/CR, no lone surrogates, no U+FFFE/FFFF.
    const value = fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .filter((v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\r]/.test(v));
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), (fields) => {
        const safe = Object.fromEntries(
          Object.entries(fields).filter(([k]) => !RESERVED.has(k) && !/^(?:doctype|entity)$/i.test(k)),
        );
        const xml = buildXml(safe);
        // A value may itself spell `<!DOCTYPE` or `<!ENTITY`: refused anywhere, by design.
        if (/<!\s*(?:doctype|entity)/i.test(xml)) return;
        expect({ ...timed(() => parseWecomXml(xml)) }).toEqual(safe);
      }),
      RUNS,
    );
  });
});

const RESERVED = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

describe('WeCom callback crypto (src/platforms/wecom/crypto.ts, verify-callback.ts)', () => {
  const key = decodeAesKey(randomBytes(32).toString('base64').slice(0, 43));
  const corpId = 'ww7c3e91a0d5b2f486';

  it('decryptMessage throws only WecomCryptoError for any ciphertext', () => {
    const ciphertext = fc.oneof(
      anyText,
      fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b).toString('base64')),
      // Whole 32-byte blocks: these reach the padding and length checks.
      fc
        .integer({ min: 1, max: 6 })
        .chain((blocks) => fc.uint8Array({ minLength: blocks * 32, maxLength: blocks * 32 }))
        .map((b) => Buffer.from(b).toString('base64')),
    );
    fc.assert(
      fc.property(ciphertext, (encrypt) => {
        const error = thrown(() => decryptMessage(key, encrypt, corpId));
        expect(error).toBeInstanceOf(WecomCryptoError);
      }),
      RUNS,
    );
  });

  it('encrypt then decrypt gives back any message, and only to its receive id', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.string({ maxLength: 30 }),
        (message, other) => {
          const encrypted = encryptMessage(key, message, corpId);
          expect(timed(() => decryptMessage(key, encrypted, corpId))).toBe(message);
          if (other !== corpId) {
            expect(thrown(() => decryptMessage(key, encrypted, other))).toBeInstanceOf(WecomCryptoError);
          }
        },
      ),
      RUNS,
    );
  });

  it('verifyWecomRequest answers 400 or 401 for any query, never throws', () => {
    const value = fc.oneof(
      anyText,
      fc.array(fc.string(), { maxLength: 3 }),
      fc.constant(undefined),
      fc.dictionary(fc.string(), fc.string()),
    );
    fc.assert(
      fc.property(
        fc.record(
          { msg_signature: value, timestamp: value, nonce: value, echostr: value },
          { requiredKeys: [] },
        ),
        anyText,
        (query, encrypt) => {
          const result = timed(() =>
            verifyWecomRequest({ query, encrypt, tokens: ['token'], aesKey: key, corpId, now: new Date() }),
          );
          expect(result.ok).toBe(false);
          if (!result.ok) expect([400, 401]).toContain(result.status);
        },
      ),
      RUNS,
    );
  });

  it('verifySignature is false for any signature but the right one', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, anyText, (timestamp, nonce, encrypt, signature) => {
        expect(
          timed(() => verifySignature({ tokens: ['t', ''], timestamp, nonce, encrypt, signature })),
        ).toBe(false);
      }),
      RUNS,
    );
  });

  it('toInboundEvent maps any field map to an event with a bounded id and a valid date', () => {
    const fieldName = fc.constantFrom(
      'FromUserName',
      'CreateTime',
      'MsgType',
      'Event',
      'MsgId',
      'Content',
      'TaskId',
      'EventKey',
      'ResponseCode',
      'ChangeType',
      'UserID',
      'ExternalUserID',
    );
    const fieldValue = fc.oneof(
      anyText,
      fc.constantFrom(
        'text',
        'event',
        'template_card_event',
        'change_external_contact',
        'add_external_contact',
      ),
      fc.stringMatching(/^\d{1,14}$/),
      fc.string({ minLength: 150, maxLength: 1500 }),
    );
    fc.assert(
      fc.property(fc.dictionary(fieldName, fieldValue), (fields) => {
        const event = timed(() => toInboundEvent(fields));
        expect(event.eventId.length).toBeLessThanOrEqual(191);
        expect(event.at).toBeInstanceOf(Date);
        expect(Number.isNaN(event.at.getTime())).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('DingTalk callbacks (src/platforms/dingtalk)', () => {
  const secret = 'SECdingtalkfuzz';
  const aesKey = decodeAesKey(randomBytes(32).toString('base64').slice(0, 43));

  it('verifyDingtalkSign / verifyRobotCallback never throw and accept only the right signature', () => {
    const header = fc.oneof(anyText, fc.array(fc.string(), { maxLength: 2 }), fc.constant(undefined));
    fc.assert(
      fc.property(header, header, (timestamp, sign) => {
        const now = new Date();
        const check = timed(() =>
          verifyRobotCallback({ headers: { timestamp, sign }, secrets: [secret], now, windowSeconds: 300 }),
        );
        expect(check.ok).toBe(false);
        expect(
          timed(() => verifyDingtalkSign({ timestamp, sign, secrets: [secret], now, windowSeconds: 300 })),
        ).not.toBe('ok');
      }),
      RUNS,
    );
    const now = new Date();
    const ts = String(now.getTime());
    expect(
      verifyDingtalkSign({
        timestamp: ts,
        sign: dingtalkSign(secret, ts),
        secrets: [secret],
        now,
        windowSeconds: 300,
      }),
    ).toBe('ok');
  });

  it('robot and card callbacks that pass their schema always become an event with a valid date', () => {
    const robot = fc.record({
      msgId: fc.string({ minLength: 1, maxLength: 128 }),
      msgtype: fc.constantFrom('text', 'picture', 'x'),
      createAt: fc.oneof(
        fc.nat(),
        fc.constant(Number.MAX_SAFE_INTEGER),
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
      ),
      conversationType: fc.constantFrom('1', '2'),
      senderStaffId: fc.option(fc.string({ maxLength: 128 }), { nil: undefined }),
      robotCode: fc.option(fc.constantFrom('robot', 'other'), { nil: undefined }),
      text: fc.option(fc.record({ content: anyText }), { nil: undefined }),
    });
    fc.assert(
      fc.property(robot, (raw) => {
        const parsed = robotMessageSchema.safeParse(raw);
        if (!parsed.success) return;
        const event = timed(() => robotMessageEvent(parsed.data, 'robot'));
        expect(event.eventId.length).toBeLessThanOrEqual(191);
        expect(Number.isNaN(event.at.getTime())).toBe(false);
      }),
      RUNS,
    );
    const card = fc.record({
      outTrackId: fc.string({ minLength: 1, maxLength: 128 }),
      userId: fc.string({ minLength: 1, maxLength: 128 }),
      content: fc.oneof(
        anyText,
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc
          .record({ cardPrivateData: fc.record({ params: fc.dictionary(fc.string(), fc.jsonValue()) }) })
          .map((v) => JSON.stringify(v)),
      ),
    });
    fc.assert(
      fc.property(card, (raw) => {
        const parsed = cardCallbackSchema.safeParse(raw);
        if (!parsed.success) return;
        const event = timed(() => cardCallbackEvent(parsed.data, new Date()));
        expect(event.eventId.length).toBeLessThanOrEqual(191);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(anyText, (plaintext) => {
        expect(timed(() => subscriptionEvent(plaintext, new Date())).kind).toBe('ignored');
      }),
      RUNS,
    );
  });

  it('verifyEventRequest answers 400 or 401 for any query and body, never throws', () => {
    const value = fc.oneof(anyText, fc.array(fc.string(), { maxLength: 2 }), fc.constant(undefined));
    fc.assert(
      fc.property(
        fc.record(
          { msg_signature: value, signature: value, timestamp: value, nonce: value },
          { requiredKeys: [] },
        ),
        fc.oneof(anyText, fc.jsonValue(), fc.constant(encryptEvent(aesKey, 'x', 'dingapp'))),
        (query, encrypt) => {
          const result = timed(() =>
            verifyEventRequest({
              query,
              encrypt,
              token: 'tok',
              aesKey,
              appKey: 'dingapp',
              now: new Date(),
              windowSeconds: 300,
            }),
          );
          expect(result.ok).toBe(false);
        },
      ),
      RUNS,
    );
  });
});

describe('request bodies (src/http/read-body.ts, src/leads/intake-schema.ts)', () => {
  it('parseJsonBody returns a value or throws MalformedBodyError, for any bytes', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
      anyText.map((s) => Buffer.from(s)),
      fc
        .tuple(fc.constantFrom('[', '{"a":', '{"__proto__":', '{"constructor":{"prototype":'), fc.nat(200))
        .map(([open, n]) => Buffer.from(open.repeat(n))),
    );
    fc.assert(
      fc.property(bytes, (raw) => {
        const error = thrown(() => parseJsonBody(raw));
        if (error !== undefined) expect(error).toBeInstanceOf(MalformedBodyError);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('parseLeadInput and normaliseLead never throw, and what they keep fits the columns', () => {
    const field = fc.oneof(anyText, fc.constant(undefined));
    const number = fc.oneof(
      fc.double({ noNaN: false }),
      fc.integer(),
      fc.constant(1e300),
      fc.constant(Number.MAX_SAFE_INTEGER),
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          name: field,
          phone: fc.oneof(field, fc.stringMatching(/^\+?[\d\s-]{5,20}$/)),
          email: fc.oneof(field, fc.emailAddress()),
          wechat: field,
          company: field,
          budget: fc.oneof(field, number, fc.stringMatching(/^[\d万亿千百十kw.,~-]{1,30}$/)),
          companySize: fc.oneof(field, number, fc.stringMatching(/^[\d人以上下万千-]{1,30}$/)),
          tags: fc.option(fc.array(anyText, { maxLength: 5 }), { nil: undefined }),
          custom: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(body, (raw) => {
        const parsed = timed(() => parseLeadInput(raw));
        if (!parsed.ok) {
          expect(parsed.issues.length).toBeGreaterThan(0);
          return;
        }
        const { lead } = timed(() => normaliseLead(parsed.input));
        if (lead.budget !== null) {
          expect(Number.isSafeInteger(lead.budget)).toBe(true);
          expect(lead.budget).toBeGreaterThanOrEqual(0);
          expect(lead.budget).toBeLessThanOrEqual(MAX_AMOUNT);
        }
        if (lead.companySize !== null) {
          expect(Number.isSafeInteger(lead.companySize)).toBe(true);
          expect(lead.companySize).toBeGreaterThanOrEqual(0);
          expect(lead.companySize).toBeLessThanOrEqual(MAX_COMPANY_SIZE);
        }
        if (lead.phone !== null) expect(lead.phone).toMatch(/^\+\d{7,15}$/);
        if (lead.email !== null) expect(lead.email.length).toBeLessThanOrEqual(254);
        if (lead.wechat !== null) expect(lead.wechat.length).toBeLessThanOrEqual(64);
        if (lead.companyKey !== null) expect(Array.from(lead.companyKey).length).toBeLessThanOrEqual(191);
      }),
      RUNS,
    );
  });

  it('the contact normalisers never throw, and never echo a whole phone number in a message', () => {
    const digits = fc.stringMatching(/^1[3-9]\d{9}$/);
    const phoneLike = fc.oneof(
      anyText,
      pathological,
      digits,
      fc.tuple(digits, anyText).map(([d, t]) => d + t),
      fc.tuple(anyText, digits).map(([t, d]) => `+86${t}${d}`),
    );
    fc.assert(
      fc.property(phoneLike, (raw) => {
        for (const normalise of [normalisePhone, normaliseWechat, normaliseEmail]) {
          const result = timed(() => normalise(raw));
          if (result.ok) continue;
          for (const run of raw.replace(/\D+/g, ' ').trim().split(' ')) {
            if (run.length >= 8) expect(result.message).not.toContain(run);
          }
        }
        timed(() => companyMatchKey(raw));
      }),
      RUNS,
    );
  });
});

describe('amounts and sizes (src/lib/amount.ts)', () => {
  const amountText = fc.oneof(
    anyText,
    pathological,
    fc.stringMatching(/^[0-9零一二两三四五六七八九十百千万亿kw.,~至到-]{1,40}$/),
    fc
      .tuple(
        fc.constantFrom('', '约', '大于', '少于'),
        fc.nat(),
        fc.constantFrom('', '万', '亿', 'k', '人'),
        fc.constantFrom('', '以上', '以下', '左右'),
      )
      .map((parts) => parts.join('')),
  );

  it('parseAmount, parseCompanySize and parseChineseNumber never throw; results are bounded or null', () => {
    fc.assert(
      fc.property(amountText, (text) => {
        const amount = timed(() => parseAmount(text));
        if (amount !== null) {
          expect(Number.isFinite(amount)).toBe(true);
          expect(amount).toBeGreaterThanOrEqual(0);
          expect(amount).toBeLessThanOrEqual(MAX_AMOUNT);
        }
        const size = timed(() => parseCompanySize(text));
        if (size !== null) {
          expect(Number.isSafeInteger(size)).toBe(true);
          expect(size).toBeGreaterThanOrEqual(0);
          expect(size).toBeLessThanOrEqual(MAX_COMPANY_SIZE);
        }
        const number = timed(() => parseChineseNumber(text));
        if (number !== null) expect(Number.isFinite(number)).toBe(true);
      }),
      RUNS,
    );
  });

  it('reads plain integers and 万 exactly, within the bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99_999_999 }), (n) => {
        expect(parseAmount(String(n))).toBe(n);
        expect(parseAmount(`${n}万`)).toBe(n * 10_000);
      }),
      RUNS,
    );
    expect(parseAmount(MAX_AMOUNT + 1)).toBeNull();
    expect(parseAmount(`${MAX_AMOUNT + 1}`)).toBeNull();
    expect(parseCompanySize(MAX_COMPANY_SIZE + 1)).toBeNull();
  });
});

describe('durations (src/lib/duration.ts) and away-until (src/availability/parse-until.ts)', () => {
  const durationText = fc.oneof(
    anyText,
    pathological,
    fc
      .array(fc.tuple(fc.nat(), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w')), {
        minLength: 1,
        maxLength: 4,
      })
      .map((parts) => parts.map(([n, u]) => `${n}${u}`).join('')),
    fc.tuple(fc.stringMatching(/^\d{10,40}$/), fc.constantFrom('d', 'w', 'ms')).map(([n, u]) => n + u),
  );

  it('parseDuration gives a safe, bounded number of milliseconds or throws a plain Error', () => {
    fc.assert(
      fc.property(durationText, (text) => {
        let ms: number | undefined;
        const error = thrown(() => {
          ms = parseDuration(text);
        });
        if (error !== undefined) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/时长/);
          return;
        }
        expect(Number.isSafeInteger(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(MAX_DURATION_MS);
        expect(parseDuration(formatDuration(ms!))).toBe(ms);
      }),
      RUNS,
    );
  });

  it('parseUntil gives a valid date or null, never throws', () => {
    const now = new Date('2026-11-21T02:00:00Z');
    fc.assert(
      fc.property(
        fc.oneof(
          durationText,
          fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
        ),
        (text) => {
          const at = timed(() => parseUntil(text, now, 'Asia/Shanghai'));
          if (at !== null) expect(Number.isNaN(at.getTime())).toBe(false);
        },
      ),
      RUNS,
    );
  });
});

describe('${ENV} interpolation (src/config/interpolate-env.ts)', () => {
  it('never throws; text without "${" is unchanged; every problem names the path', () => {
    const env = fc.dictionary(
      fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/),
      fc.option(anyText, { nil: undefined }),
    );
    fc.assert(
      fc.property(fc.oneof(anyText, pathological), env, (value, vars) => {
        const problems: Problem[] = [];
        const out = timed(() => interpolate(value, '/teams/0/name', vars, problems));
        if (!value.includes('${')) expect(out).toBe(value);
        for (const p of problems) expect(p.path).toBe('/teams/0/name');
      }),
      RUNS,
    );
  });

  it('substitutes any value literally: a value that spells ${OTHER} is not expanded again', () => {
    fc.assert(
      fc.property(anyText, (secret) => {
        const problems: Problem[] = [];
        expect(interpolate('key=${A}', '/x', { A: secret, B: 'leak' }, problems)).toBe(`key=${secret}`);
        expect(problems).toEqual([]);
      }),
      RUNS,
    );
  });
});

describe('card templates (src/cards/placeholders.ts, render-card.ts)', () => {
  const templates = loadCardTemplates(path.resolve(__dirname, '../../cards'));

  it('parseTemplateText and checkTemplateText never throw; the segments spell the input', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, pathological), (text) => {
        const segments = timed(() => parseTemplateText(text));
        expect(segments.map((s) => (s.type === 'text' ? s.text : s.raw)).join('')).toBe(text);
        timed(() => checkTemplateText(text));
      }),
      RUNS,
    );
  });

  it('renders every shipped card for any lead; values are never expanded as placeholders', () => {
    const text = fc.option(
      fc.oneof(anyText, fc.constantFrom('{{lead.phone}}', '{{ lead.phone | maskPhone }}')),
      {
        nil: null,
      },
    );
    const leadArb: fc.Arbitrary<CardLead> = fc.record({
      id: fc.nat(),
      name: text,
      phone: fc.constant('+8613912345678'),
      company: text,
      title: text,
      need: text,
      sourceName: text,
      grade: fc.constantFrom('A', 'B', 'C'),
      score: fc.integer(),
      budget: text,
    });
    fc.assert(
      fc.property(leadArb, text, fc.double(), (lead, reason, minutes) => {
        const context: CardContext = {
          lead,
          timezone: 'Asia/Shanghai',
          member: { name: reason ?? '王磊' },
          ...(reason === null ? {} : { reason }),
          minutes,
          deadline: new Date(),
        };
        for (const name of ['pool-offer', 'escalation', 'closed', 'claimed']) {
          const card = timed(() => renderCard(templates, name, context));
          // Masked cards: the full number never appears, whatever the other fields say.
          expect(JSON.stringify(card)).not.toContain('13912345678');
        }
        for (const name of Object.keys(templates)) timed(() => renderCard(templates, name, context));
      }),
      RUNS,
    );
  });
});

/** The counterexamples fuzzing found, kept as plain examples so they stay fixed whatever the seed. */
describe('regressions found by fuzzing', () => {
  it('a MsgId longer than the inbox key is hashed, the same way every time (retries still dedupe)', () => {
    const fields = {
      FromUserName: 'WangLei',
      CreateTime: '1763686800',
      MsgType: 'text',
      MsgId: ' '.repeat(192),
    };
    const event = toInboundEvent(fields);
    expect(event.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(toInboundEvent({ ...fields }).eventId).toBe(event.eventId);
    expect(toInboundEvent({ ...fields, MsgId: '7000000000000000001' }).eventId).toBe('7000000000000000001');
  });

  it('a DingTalk robot message with a createAt past the last valid date is refused by the schema', () => {
    const message = { msgId: 'm', msgtype: 'text', conversationType: '1', text: { content: 'x' } };
    expect(robotMessageSchema.safeParse({ ...message, createAt: Number.MAX_SAFE_INTEGER }).success).toBe(
      false,
    );
    expect(robotMessageSchema.safeParse({ ...message, createAt: Date.now() }).success).toBe(true);
  });

  it('an e-mail whose domain is a phone number does not echo the number', () => {
    const result = normaliseEmail('+86@13000000000');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).not.toContain('13000000000');
  });

  it('amounts and head counts too large for their columns are not read', () => {
    expect(parseAmount('99999999999999亿')).toBeNull();
    expect(parseAmount(1e30)).toBeNull();
    expect(parseCompanySize('9'.repeat(30))).toBeNull();
    expect(parseCompanySize(1e15)).toBeNull();
    expect(parseAmount('1万亿')).toBe(MAX_AMOUNT);
    const { lead, issues, warnings } = normaliseLead({
      phone: '13900001111',
      budget: 1e30,
      companySize: '9'.repeat(30),
    });
    expect(lead.budget).toBeNull();
    expect(lead.companySize).toBeNull();
    expect(issues).toEqual([{ path: 'budget', message: `预算不能大于 ${MAX_AMOUNT} 元` }]);
    expect(warnings.map((w) => w.path)).toEqual(['companySize']);
  });

  it('a duration past 100 years is an error, and away-until such a duration is null', () => {
    expect(() => parseDuration(`${'9'.repeat(30)}w`)).toThrow(/过长/);
    expect(() => parseDuration('99999999999d')).toThrow(/过长/);
    expect(parseDuration('36500d')).toBe(MAX_DURATION_MS);
    expect(parseUntil('99999999999d', new Date(), 'Asia/Shanghai')).toBeNull();
  });

  it('many "{{" without a "}}" are parsed in linear time', () => {
    const text = `${'{{'.repeat(50_000)}<`;
    const segments = timed(() => parseTemplateText(text));
    expect(segments).toEqual([{ type: 'text', text }]);
    timed(() => checkTemplateText(text));
  });
});
