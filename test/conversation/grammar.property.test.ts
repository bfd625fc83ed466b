import fc from 'fast-check';
import type { ParseContext } from '../../src/conversation/command';
import { parseCommand } from '../../src/conversation/grammar';
import { parseWhen } from '../../src/conversation/parse-when';

const RUNS = { numRuns: 1000 };

const TIME_ZONES = ['Asia/Shanghai', 'Asia/Tokyo', 'Europe/London', 'America/New_York', 'UTC'];

/** Any instant from 2000 to 2100, in one of a few timezones (with and without DST). */
const contexts: fc.Arbitrary<ParseContext> = fc.record({
  now: fc.date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  }),
  timeZone: fc.constantFrom(...TIME_ZONES),
});

const shanghai: ParseContext = { now: new Date('2026-11-21T02:00:00Z'), timeZone: 'Asia/Shanghai' };

/** ASCII digits as typed with a full-width keyboard, on a coin flip per digit. */
function widthVariant(text: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
    .map((wide) =>
      [...text]
        .map((c, i) =>
          wide[i] && /[0-9a-zA-Z#]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c,
        )
        .join(''),
    );
}

const spaces = fc.constantFrom('', ' ', '  ', '\u3000', '\t', ' \u3000 ');
const someSpace = fc.constantFrom(' ', '  ', '\u3000', '\t', ' \u3000 ');

/** Pieces of the grammar, glued at random: reaches deep paths that random strings never do. */
const grammarSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '认领',
        '阶段',
        '赢单',
        '成交',
        '输单',
        '丢单',
        '提醒',
        '请假',
        '详情',
        '转派',
        '我的',
        '公海',
        '帮助',
        'claim',
        'stage',
        'won',
        'lost',
        'remind',
        'away',
        'until',
        'show',
        'reassign',
        'to',
        'mine',
        'help',
        '明天',
        '后天',
        '大后天',
        '今晚',
        '明早',
        '下周',
        '周',
        '星期',
        '礼拜',
        '本周',
        '下个',
        '一',
        '二',
        '三',
        '日',
        '天',
        '末',
        '上午',
        '下午',
        '中午',
        '晚上',
        '凌晨',
        '点',
        '半',
        '一刻',
        '分',
        '钟',
        '小时',
        '个',
        '后',
        '以后',
        '月',
        '号',
        '年',
        '万',
        '亿',
        'k',
        'w',
        '¥',
        '元',
        '十',
        '两',
        '零',
        'am',
        'pm',
        'in',
        'at',
        'next',
        'tomorrow',
        'noon',
        'days',
        'hours',
        'd',
        'h',
        'm',
        '到',
        '给',
        '@',
        '预算',
        '需求',
        '决策人',
        '时间',
        'budget',
        'need',
        ':',
        '：',
        '#',
        '＃',
        '/',
        '-',
        ',',
        '，',
        '。',
        '、',
        ';',
        '；',
        '?',
        '？',
        '!',
        '.',
        ' ',
        '\u3000',
        '\n',
        '\u200b',
        '0',
        '1',
        '3',
        '9',
        '12',
        '24',
        '25',
        '30',
        '59',
        '60',
        '99',
        '2026',
        '9007199254740993',
        '１２',
        '３',
        '客户',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

describe('parseCommand never throws', () => {
  it.each([
    ['printable ASCII', fc.string({ maxLength: 80 })],
    ['any graphemes', fc.string({ unit: 'grapheme', maxLength: 60 })],
    ['any UTF-16 code units, lone surrogates included', fc.string({ unit: 'binary', maxLength: 60 })],
    ['grammar soup', grammarSoup],
  ])('on %s', (_name, strings) => {
    fc.assert(
      fc.property(strings, contexts, (text, ctx) => {
        const command = parseCommand(text, ctx);
        expect(typeof command.kind).toBe('string');
      }),
      RUNS,
    );
  });
});

// Characters no command keyword starts with.
const NOTE_START = fc.constantFrom(
  '客',
  '户',
  '说',
  '他',
  '她',
  '这',
  '那',
  '已',
  '今',
  '明',
  '下',
  '签',
  '报',
  '约',
  '发',
);
// Trim as the grammar does: whitespace and zero-width characters.
const trimmed = (s: string) =>
  s.replace(/^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$/g, '');
// A trailing ` #123` is a lead marker, not text.
const endsWithMarker = (s: string) => /[\s\u200b-\u200d\u2060\ufeff\u3000][#＃][0-9０-９]+$/.test(trimmed(s));

describe('free text is a note, kept as typed', () => {
  it('text not starting with a keyword is a note whose text is the input trimmed', () => {
    fc.assert(
      fc.property(
        spaces,
        NOTE_START,
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), grammarSoup),
        spaces,
        (before, first, body, after) => {
          const input = before + first + body + after;
          fc.pre(!endsWithMarker(input));
          const command = parseCommand(input, shanghai);
          expect(command.kind).toBe('note');
          if (command.kind === 'note') expect(command.text).toBe(trimmed(input));
        },
      ),
      RUNS,
    );
  });

  it('a leading #id marks the lead and is not part of the text', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        someSpace,
        NOTE_START,
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        (id, gap, first, body) => {
          const text = first + body;
          fc.pre(!endsWithMarker(text));
          const command = parseCommand(`#${id}${gap}${text}`, shanghai);
          expect(command).toMatchObject({ kind: 'note', leadId: id, text: trimmed(text) });
        },
      ),
      RUNS,
    );
  });
});

describe('claim', () => {
  const keyword = fc.constantFrom(
    '认领',
    'claim',
    'CLAIM',
    'Claim',
    'ｃｌａｉｍ',
    '/认领',
    '/claim',
    '／ｃｌａｉｍ',
  );
  const separator = fc.constantFrom('', ' ', '  ', '\u3000', '#', ' #', '＃', ' ＃', ':', '：', ' : ');

  it('`认领 <n>` with any spacing and width is claim n', () => {
    fc.assert(
      fc.property(
        spaces,
        keyword,
        separator,
        fc
          .integer({ min: 1, max: 1e12 })
          .chain((n) => widthVariant(String(n)).map((typed) => [n, typed] as const)),
        fc.constantFrom('', '。', '！', '.', '!'),
        spaces,
        (before, kw, sep, [n, digits], punctuation, after) => {
          const command = parseCommand(`${before}${kw}${sep}${digits}${punctuation}${after}`, shanghai);
          expect(command).toStrictEqual({ kind: 'claim', leadId: n });
        },
      ),
      RUNS,
    );
  });

  it('any other argument is refused, never misread as another id', () => {
    fc.assert(
      fc.property(
        keyword,
        someSpace,
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        (kw, gap, arg) => {
          const command = parseCommand(`${kw}${gap}${arg}`, shanghai);
          if (command.kind === 'claim' && command.leadId !== undefined) {
            expect(arg.replace(/[\s\u3000#＃:：.。!！?？,，;；、…~～]/g, '')).toMatch(/^[0-9０-９]+$/);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('won amounts', () => {
  it('`赢单 <id> <n>万` is n × 10000 yuan', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 1e9 }),
        fc.constantFrom('赢单', '成交', 'won'),
        fc.constantFrom('万', '万元', ' 万', 'w', 'W'),
        (n, id, kw, unit) => {
          const command = parseCommand(`${kw} ${id} ${n}${unit}`, shanghai);
          expect(command).toStrictEqual({ kind: 'won', leadId: id, amount: n * 10000 });
        },
      ),
      RUNS,
    );
  });

  it('`赢单 <n>万` without an id reads the amount, not an id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), (n) => {
        expect(parseCommand(`赢单 ${n}万`, shanghai)).toStrictEqual({ kind: 'won', amount: n * 10000 });
      }),
      RUNS,
    );
  });

  it('a budget line `预算：<n>万` is n × 10000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), NOTE_START, (n, first) => {
        const command = parseCommand(`${first}客户跟进\n预算：${n}万`, shanghai);
        expect(command).toMatchObject({ kind: 'note', fields: { budget: n * 10000, budgetText: `${n}万` } });
      }),
      RUNS,
    );
  });
});

describe('parseWhen', () => {
  const days = fc
    .integer({ min: 1, max: 3650 })
    .chain((n) => widthVariant(String(n)).map((typed) => [n, typed] as const));
  const suffix = fc.constantFrom('天后', '天以后', ' 天之后');

  it('`<N>天后` is now + N days in a timezone without DST', () => {
    fc.assert(
      fc.property(contexts, days, suffix, (ctx, [n, typed], after) => {
        const shanghaiNow = { ...ctx, timeZone: 'Asia/Shanghai' };
        expect(parseWhen(`${typed}${after}`, shanghaiNow)?.at.getTime()).toBe(
          ctx.now.getTime() + n * 86_400_000,
        );
      }),
      RUNS,
    );
  });

  it('`<N>天后` keeps the local wall-clock time in any timezone', () => {
    const wallClock = (at: Date, timeZone: string) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }).format(at);
    fc.assert(
      fc.property(contexts, days, (ctx, [n, typed]) => {
        const at = parseWhen(`${typed}天后`, ctx)!.at;
        // Off by at most the one DST hour between now and then.
        expect(Math.abs(at.getTime() - ctx.now.getTime() - n * 86_400_000)).toBeLessThanOrEqual(3_600_000);
        // Same wall clock, unless now's time does not exist on that day (a spring-forward gap: 01:xx in
        // London, 02:xx in New York).
        if (wallClock(at, ctx.timeZone) !== wallClock(ctx.now, ctx.timeZone)) {
          expect(['01', '02']).toContain(wallClock(ctx.now, ctx.timeZone).slice(0, 2));
        }
      }),
      RUNS,
    );
  });

  it('the rest is the text after the phrase, as typed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          '明天下午3点',
          '后天',
          '下周一',
          '3天后',
          '2小时后',
          'tomorrow 15:00',
          '11月25日',
          '周三上午10点',
        ),
        someSpace,
        NOTE_START,
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        (phrase, gap, first, text) => {
          expect(parseWhen(`${phrase}${gap}${first}${text}`, shanghai)?.rest).toBe(trimmed(first + text));
        },
      ),
      RUNS,
    );
  });
});

describe('remind', () => {
  const day = fc.constantFrom(
    '',
    '今天',
    '明天',
    '后天',
    '大后天',
    '今晚',
    '明早',
    '下周一',
    '下周日',
    '周三',
    '星期六',
    '周日',
    '本周五',
    '3天后',
    '十天后',
    '11月25日',
    '1月1日',
    '2月29日',
    '12-31',
    '25号',
    '31号',
    'tomorrow ',
    'next friday ',
    'wed ',
  );
  const time = fc.constantFrom(
    '',
    '上午9点',
    '下午3点',
    '3点半',
    '9点',
    '12点',
    '15:30',
    '00:00',
    '23:59',
    '晚上12点',
    '凌晨1点',
    '中午',
    '下午',
    '3pm',
    '10am',
    '2小时后',
    '半小时后',
    '30分钟后',
    'in 2h',
    '7点一刻',
  );

  it('is always strictly in the future', () => {
    fc.assert(
      fc.property(
        contexts,
        day,
        time,
        fc.option(fc.integer({ min: 1, max: 1e9 })),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        (ctx, d, t, id, text) => {
          const command = parseCommand(`提醒 ${id ?? ''} ${d}${t} ${text}`, ctx);
          if (command.kind === 'remind') expect(command.at.getTime()).toBeGreaterThan(ctx.now.getTime());
          else expect(command).toMatchObject({ kind: 'invalid', command: 'remind' });
        },
      ),
      RUNS,
    );
  });

  it('a time of day alone is always within the next 24 hours (plus a DST hour)', () => {
    fc.assert(
      fc.property(
        contexts,
        time.filter((t) => t !== ''),
        (ctx, t) => {
          const command = parseCommand(`提醒 ${t} 回访`, ctx);
          expect(command.kind).toBe('remind');
          if (command.kind === 'remind') {
            expect(command.at.getTime() - ctx.now.getTime()).toBeLessThanOrEqual(25 * 3_600_000);
            expect(command.text).toBe('回访');
          }
        },
      ),
      RUNS,
    );
  });
});
