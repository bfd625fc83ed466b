import { parseUntil } from '../availability/parse-until';
import { parseAmount, parseChineseNumber } from '../lib/amount';
import type { BantFields, Command, CommandName, InvalidProblem, ParseContext, Stage } from './command';
import { foldWidth, restFrom, skipSeparators, trimRange, trimTrailingPunctuation } from './normalise-text';
import { localDaysFromNow, readWhen } from './parse-when';

/**
 * The chat grammar: what a member typed to the bot → a typed `Command`. Pure; never throws.
 *
 * Matching is done on a width-folded copy of the message (ＡＢＣ１２３＃：→ ABC123#:), which has the
 * same length as the original, so free text (notes, reasons, reminder text) is sliced out of the
 * original exactly as typed.
 */

/** The message being parsed: the original, its folded copy, and the [start, end) still to read. */
interface Span {
  original: string;
  folded: string;
  start: number;
  end: number;
}

type ArgumentCommand = 'claim' | 'stage' | 'won' | 'lost' | 'remind' | 'away' | 'show' | 'reassign';

/** Keywords that take arguments. English ones are matched case-insensitively. */
const KEYWORDS = new Map<string, ArgumentCommand>([
  ['认领', 'claim'],
  ['claim', 'claim'],
  ['阶段', 'stage'],
  ['stage', 'stage'],
  ['赢单', 'won'],
  ['成交', 'won'],
  ['won', 'won'],
  ['输单', 'lost'],
  ['丢单', 'lost'],
  ['lost', 'lost'],
  ['提醒', 'remind'],
  ['remind', 'remind'],
  ['请假', 'away'],
  ['away', 'away'],
  ['详情', 'show'],
  ['show', 'show'],
  ['转派', 'reassign'],
  ['reassign', 'reassign'],
]);
const KEYWORD = new RegExp(`(${[...KEYWORDS.keys()].sort((a, b) => b.length - a.length).join('|')})`, 'iy');

/** Commands without arguments: they are the whole message or nothing (`我的客户说下周来` is a note). */
const WHOLE_MESSAGE = new Map<string, Command>([
  ['我的', { kind: 'mine' }],
  ['我的线索', { kind: 'mine' }],
  ['mine', { kind: 'mine' }],
  ['my', { kind: 'mine' }],
  ['my leads', { kind: 'mine' }],
  ['公海', { kind: 'pool' }],
  ['pool', { kind: 'pool' }],
  ['回来了', { kind: 'back' }],
  ['我回来了', { kind: 'back' }],
  ['back', { kind: 'back' }],
  ['帮助', { kind: 'help' }],
  ['help', { kind: 'help' }],
  ['菜单', { kind: 'help' }],
  ['menu', { kind: 'help' }],
  ['战报', { kind: 'digest' }],
  ['digest', { kind: 'digest' }],
]);

const STAGE_NAMES = new Map<string, Stage>([
  ['新线索', 'new'],
  ['新建', 'new'],
  ['新', 'new'],
  ['new', 'new'],
  ['已联系', 'contacted'],
  ['联系', 'contacted'],
  ['contacted', 'contacted'],
  ['已确认', 'qualified'],
  ['合格', 'qualified'],
  ['确认', 'qualified'],
  ['sql', 'qualified'],
  ['qualified', 'qualified'],
  ['商机', 'opportunity'],
  ['opportunity', 'opportunity'],
  ['opp', 'opportunity'],
  ['赢单', 'won'],
  ['成交', 'won'],
  ['won', 'won'],
  ['输单', 'lost'],
  ['丢单', 'lost'],
  ['lost', 'lost'],
  ['培育', 'nurture'],
  ['孵化', 'nurture'],
  ['nurture', 'nurture'],
]);

function invalid(command: CommandName, problem: InvalidProblem, detail?: string): Command {
  return detail === undefined || detail === ''
    ? { kind: 'invalid', command, problem }
    : { kind: 'invalid', command, problem, detail };
}

function isSpace(c: string | undefined): boolean {
  return c !== undefined && c.trim() === '';
}

/** The original text of [start, end), trimmed. */
function typed(span: Span, start: number, end = span.end): string {
  const [s, e] = trimRange(span.folded, start, end);
  return span.original.slice(s, e);
}

// ---------------------------------------------------------------------------------------------------
// Lead ids

/**
 * Units that make a bare number an amount, a duration or a time rather than a lead id
 * (`赢单 8 万`, `提醒 2 小时后`).
 */
const UNIT_AHEAD =
  '(?!\\s*(?:天|日|小时|个|分|周|星期|礼拜|点|時|时|万|千|百|亿|元|块|号|月|年|半|(?:k|w|h|d|m|hours?|hrs?|mins?|minutes?|days?|weeks?|am|pm)(?![a-z])))';
const HASH_ID = /#(\d+)/y;
// What may follow a bare id: a comma unless it groups thousands (`80,000`), `:`/`.` unless a time or a
// decimal follows (`15:30`, `1.5万`).
const BARE_ID = new RegExp(`(\\d+)(?=$|\\s|[、;!?。]|,(?!\\d{3}(?!\\d))|[:.](?!\\d))${UNIT_AHEAD}`, 'iy');

/** A positive safe integer, or null (`0`, 30 digits). */
function toLeadId(digits: string): number | null {
  const n = Number(digits);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

type LeadIdReading = { leadId?: number; next: number } | { bad: Command };

/**
 * An optional lead id at `pos`: `#123` (anything may follow) or a bare `123` standing alone as a word.
 * `command` names the refusal when the id is not a usable number.
 */
function readLeadId(span: Span, pos: number, command: CommandName): LeadIdReading {
  const { folded } = span;
  HASH_ID.lastIndex = pos;
  let m = HASH_ID.exec(folded);
  if (!m) {
    BARE_ID.lastIndex = pos;
    m = BARE_ID.exec(folded);
  }
  if (m) {
    const leadId = toLeadId(m[1]!);
    if (leadId === null) return { bad: invalid(command, 'bad_lead_id', typed(span, pos, pos + m[0].length)) };
    return { leadId, next: pos + m[0].length };
  }
  if (folded[pos] === '#') {
    let e = pos + 1;
    while (e < span.end && !isSpace(folded[e])) e++;
    return { bad: invalid(command, 'bad_lead_id', typed(span, pos, e)) };
  }
  return { next: pos };
}

/** `{ leadId }` when there is one: an absent id is an absent property, not `leadId: undefined`. */
function ids(leadId: number | undefined): { leadId?: number } {
  return leadId === undefined ? {} : { leadId };
}

// ---------------------------------------------------------------------------------------------------
// Commands

/** `claim` and `show`: an optional id and nothing else. */
function parseIdOnly(span: Span, pos: number, kind: 'claim' | 'show'): Command {
  const id = readLeadId(span, pos, kind);
  if ('bad' in id) return id.bad;
  const after = skipSeparators(span.folded, id.next, span.end);
  if (after < trimTrailingPunctuation(span.folded, after, span.end)) {
    return invalid(kind, 'bad_lead_id', typed(span, pos));
  }
  // Two branches so TypeScript sees each literal kind (a `'claim' | 'show'` kind fits neither member).
  return kind === 'claim' ? { kind, ...ids(id.leadId) } : { kind, ...ids(id.leadId) };
}

function parseStage(span: Span, pos: number): Command {
  const id = readLeadId(span, pos, 'stage');
  if ('bad' in id) return id.bad;
  const s = skipSeparators(span.folded, id.next, span.end);
  const e = trimTrailingPunctuation(span.folded, s, span.end);
  const name = span.folded
    .slice(s, e)
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/(.)阶段$/, '$1');
  const stage = STAGE_NAMES.get(name);
  if (stage === undefined) return invalid('stage', 'bad_stage', typed(span, s, e));
  return { kind: 'stage', ...ids(id.leadId), stage };
}

function parseWon(span: Span, pos: number): Command {
  const id = readLeadId(span, pos, 'won');
  if ('bad' in id) return id.bad;
  const s = skipSeparators(span.folded, id.next, span.end);
  const e = trimTrailingPunctuation(span.folded, s, span.end);
  if (s >= e) return { kind: 'won', ...ids(id.leadId) };
  const amount = parseAmount(span.folded.slice(s, e));
  // A won deal of 0 yuan is a typo, as is `5万以下` (which parseAmount reads as 0).
  if (amount === null || amount <= 0) return invalid('won', 'bad_amount', typed(span, s, e));
  return { kind: 'won', ...ids(id.leadId), amount };
}

function parseLost(span: Span, pos: number): Command {
  const id = readLeadId(span, pos, 'lost');
  if ('bad' in id) return id.bad;
  const reason = restFrom(span.original.slice(0, span.end), id.next);
  return reason === '' ? { kind: 'lost', ...ids(id.leadId) } : { kind: 'lost', ...ids(id.leadId), reason };
}

/** Text that was evidently meant as a time we could not read (`13月5日`, `明天25点`), not a missing one. */
const TIME_ATTEMPT =
  /^(?:\d|今天|今日|今晚|今早|明天|明日|明早|明晚|后天|大后天|下个?周|下个?星期|下个?礼拜|本周|这个?周|这个?星期|周[一二三四五六日天末]|星期|礼拜|上午|下午|中午|晚上|早上|凌晨|傍晚|[一二两三四五六七八九十半]+\s*(?:点|天|小时|个|分钟|号|月)|(?:today|tomorrow|tonight|next|this|in|at|noon)(?![a-z]))/i;

function parseRemind(span: Span, pos: number, ctx: ParseContext): Command {
  const id = readLeadId(span, pos, 'remind');
  if ('bad' in id) return id.bad;
  const s = skipSeparators(span.folded, id.next, span.end);
  if (s >= span.end) return invalid('remind', 'missing_time');
  const args = span.original.slice(s, span.end);
  const reading = readWhen(args, ctx);
  if (!reading) {
    return TIME_ATTEMPT.test(span.folded.slice(s, span.end))
      ? invalid('remind', 'bad_time', typed(span, s))
      : invalid('remind', 'missing_time');
  }
  if (reading.at.getTime() <= ctx.now.getTime()) {
    return invalid('remind', 'time_in_past', typed(span, s, s + reading.end));
  }
  return { kind: 'remind', ...ids(id.leadId), at: reading.at, text: restFrom(args, reading.end) };
}

const UNTIL_WORD = /(?:到|直到|至|(?:until|till|til)(?:\s+|$))\s*/iy;
const HOUR_MS = 3_600_000;
const CN_DURATION = new RegExp(
  '(?:(\\d{1,4}(?!\\d)|[零〇一二两三四五六七八九十]{1,5})\\s*个?\\s*(半)?|(半))\\s*个?\\s*' +
    '(天|日|小时|钟头|分钟|周|星期|礼拜|days?|hours?|hrs?|weeks?|minutes?|mins?)(?![a-z])',
  'iy',
);

/** Whether the text at `pos` ends the phrase before it: end, whitespace or punctuation. */
function endsWord(span: Span, pos: number): boolean {
  return pos >= span.end || isSpace(span.folded[pos]) || /[,、:;.!?。…~]/.test(span.folded[pos]!);
}

/** `3天`, `半天` (4 hours: half a working day), `2小时`, `一个半小时`, `1周`, `3 days`. */
function readDuration(span: Span, pos: number, ctx: ParseContext): Date | null {
  CN_DURATION.lastIndex = pos;
  const m = CN_DURATION.exec(span.folded);
  if (!m || !endsWord(span, CN_DURATION.lastIndex)) return null;
  const half = m[2] !== undefined || m[3] !== undefined;
  const whole = m[1] === undefined ? 0 : /^\d+$/.test(m[1]) ? Number(m[1]) : parseChineseNumber(m[1]);
  if (whole === null || !Number.isInteger(whole)) return null;
  const unit = m[4]!.toLowerCase();
  const now = ctx.now.getTime();
  if (/^(小时|钟头|h)/.test(unit)) return new Date(now + (whole + (half ? 0.5 : 0)) * HOUR_MS);
  if (/^(分钟|min)/.test(unit)) return half ? null : new Date(now + whole * 60_000);
  const days = /^(周|星期|礼拜|w)/.test(unit) ? 7 : 1;
  if (half) return whole === 0 && days === 1 ? new Date(now + 4 * HOUR_MS) : null;
  if (whole < 1 || whole * days > 3660) return null;
  return localDaysFromNow(ctx, whole * days);
}

/**
 * `请假 3天` / `away 3d` / `请假 到周五` / `away until 2026-11-25`. Compact durations and ISO forms keep
 * parseUntil's meaning (`2026-11-25` = back at that midnight); a natural day (`周五`, `明天`,
 * `11月25日`) is the last day away, so the member is back at the start of the next day.
 */
function parseAway(span: Span, pos: number, ctx: ParseContext): Command {
  const { folded } = span;
  const start = skipSeparators(folded, pos, span.end);
  const end = trimTrailingPunctuation(folded, start, span.end);
  if (start >= end) return invalid('away', 'bad_duration');
  UNTIL_WORD.lastIndex = start;
  const q = UNTIL_WORD.exec(folded) ? UNTIL_WORD.lastIndex : start;
  const body = folded.slice(q, end);

  // The whole text, or its first word followed by anything (`away 3d family`, `到 2026-11-25 回`).
  let until =
    parseUntil(body, ctx.now, ctx.timeZone) ?? parseUntil(body.split(/\s/, 1)[0]!, ctx.now, ctx.timeZone);
  until ??= readDuration(span, q, ctx);
  if (!until) {
    const reading = readWhen(span.original.slice(q, end), ctx, { wholeDays: true });
    if (reading && endsWord(span, q + reading.end)) until = reading.at;
  }
  if (!until) return invalid('away', 'bad_duration', typed(span, start, end));
  if (until.getTime() <= ctx.now.getTime()) return invalid('away', 'time_in_past', typed(span, start, end));
  return { kind: 'away', until };
}

const REASSIGN_TO = /(?:给|@|to(?:\s+|$))\s*/iy;

function parseReassign(span: Span, pos: number): Command {
  const id = readLeadId(span, pos, 'reassign');
  if ('bad' in id) return id.bad;
  let s = skipSeparators(span.folded, id.next, span.end);
  REASSIGN_TO.lastIndex = s;
  if (REASSIGN_TO.exec(span.folded)) s = REASSIGN_TO.lastIndex;
  const e = trimTrailingPunctuation(span.folded, s, span.end);
  const to = span.folded.slice(s, e).trim();
  if (to === '') return invalid('reassign', 'missing_member');
  return { kind: 'reassign', ...ids(id.leadId), to };
}

function parseArguments(command: ArgumentCommand, span: Span, pos: number, ctx: ParseContext): Command {
  const args = skipSeparators(span.folded, pos, span.end);
  switch (command) {
    case 'claim':
    case 'show':
      return parseIdOnly(span, args, command);
    case 'stage':
      return parseStage(span, args);
    case 'won':
      return parseWon(span, args);
    case 'lost':
      return parseLost(span, args);
    case 'remind':
      return parseRemind(span, args, ctx);
    case 'away':
      return parseAway(span, args, ctx);
    case 'reassign':
      return parseReassign(span, args);
  }
}

// ---------------------------------------------------------------------------------------------------
// Notes

const BANT_LABEL =
  /(?:^|[\n\r;,。])[ \t]*(预算|budget|决策人|决策者|authority|decision[ \t-]*makers?|需求|needs?|时间线|时间|timeline|timing)[ \t]*:/gi;

function bantKey(label: string): keyof BantFields {
  const l = label.toLowerCase();
  if (l === '预算' || l === 'budget') return 'budget';
  if (l === '需求' || l.startsWith('need')) return 'need';
  if (l.startsWith('时间') || l.startsWith('tim')) return 'timeline';
  return 'authority';
}

/** Where a BANT value ends: a line break, `；`, `。`, or a comma that is not a thousands separator. */
function valueEnd(folded: string, start: number): number {
  for (let i = start; i < folded.length; i++) {
    const c = folded[i]!;
    if (c === '\n' || c === '\r' || c === ';' || c === '。') return i;
    if (c === ',' && !(/\d/.test(folded[i - 1] ?? '') && /\d/.test(folded[i + 1] ?? ''))) return i;
  }
  return folded.length;
}

/**
 * BANT fields from `预算：50万`-style labels in a note. A label starts the text, a line, or a part after
 * `；` `;` `，` `,` `。`, and is followed by a colon (half or full width): `预算`/`budget` (budget in yuan
 * when parseAmount reads the value; `budgetText` always), `决策人`/`决策者`/`authority`/`decision maker`,
 * `需求`/`need`, `时间`/`时间线`/`timeline`. A value runs to the next separator (a comma inside a number
 * such as `80,000` is kept), trimmed; an empty value is ignored; when a label repeats, the last wins.
 */
export function parseBantLines(text: string): BantFields {
  const folded = foldWidth(text);
  const fields: BantFields = {};
  BANT_LABEL.lastIndex = 0;
  for (let m = BANT_LABEL.exec(folded); m !== null; m = BANT_LABEL.exec(folded)) {
    const valueStart = BANT_LABEL.lastIndex;
    const [s, e0] = trimRange(folded, valueStart, valueEnd(folded, valueStart));
    const e = trimTrailingPunctuation(folded, s, e0);
    const value = text.slice(s, e);
    if (value === '') continue;
    const key = bantKey(m[1]!);
    if (key === 'budget') {
      fields.budgetText = value;
      const amount = parseAmount(value);
      if (amount === null) delete fields.budget;
      else fields.budget = amount;
    } else {
      fields[key] = value;
    }
  }
  return fields;
}

function parseNote(span: Span): Command {
  const { folded } = span;
  let { start, end } = span;
  let marker: string | undefined;
  HASH_ID.lastIndex = start;
  const leading = HASH_ID.exec(folded);
  if (leading) {
    marker = leading[1]!;
    start = skipSeparators(folded, HASH_ID.lastIndex, end);
  } else {
    // A trailing ` #123`: digits at the very end, `#` after whitespace.
    let i = end;
    while (i > start && folded[i - 1]! >= '0' && folded[i - 1]! <= '9') i--;
    if (i < end && i - 1 > start && folded[i - 1] === '#' && isSpace(folded[i - 2])) {
      marker = folded.slice(i, end);
      end = trimRange(folded, start, i - 1)[1];
    }
  }
  let leadId: number | undefined;
  if (marker !== undefined) {
    const id = toLeadId(marker);
    if (id === null) return invalid('note', 'bad_lead_id', marker);
    leadId = id;
  }
  const text = span.original.slice(start, end);
  return { kind: 'note', ...ids(leadId), text, fields: parseBantLines(text) };
}

// ---------------------------------------------------------------------------------------------------

/** A keyword at `pos` that is followed by end of text, whitespace, `#`, a digit or a colon. */
function matchKeyword(span: Span, pos: number): { command: ArgumentCommand; next: number } | null {
  KEYWORD.lastIndex = pos;
  const m = KEYWORD.exec(span.folded);
  if (!m) return null;
  const next = pos + m[0].length;
  const core = trimTrailingPunctuation(span.folded, pos, span.end);
  const c = span.folded[next];
  if (next < core && !isSpace(c) && !/[#:\d]/.test(c!)) return null;
  return { command: KEYWORDS.get(m[1]!.toLowerCase())!, next };
}

/**
 * Chinese users often type without a space: `提醒明天下午3点回访`, `请假到周五`. For these two keywords
 * only, a glued message is the command when its arguments read cleanly (a time in the future, an
 * absence); otherwise (`提醒一下自己`, `请假的事再说`) it stays a note. Other keywords are not glued:
 * `输单了，客户…` or `阶段性进展` must never become a stage change.
 */
const GLUED = new Map<string, ArgumentCommand>([
  ['提醒', 'remind'],
  ['请假', 'away'],
]);

function matchGluedKeyword(span: Span, pos: number): { command: ArgumentCommand; next: number } | null {
  for (const [word, command] of GLUED) {
    if (span.folded.startsWith(word, pos)) return { command, next: pos + word.length };
  }
  return null;
}

/**
 * Parses what a member typed to the bot. Never throws. Chinese first, English aliases
 * (case-insensitive, whole words); full-width characters, extra spaces, a leading `/` and trailing
 * punctuation are tolerated.
 *
 * - Lead ids: `123`, `#123`, `＃１２３`; a positive safe integer, else `bad_lead_id`. Optional: absent
 *   means the member's current lead. A bare number is an id only when it stands alone (`赢单 8万` has
 *   no id); the first bare number after a keyword is the id (`赢单 80000` is lead 80000 — write
 *   `赢单 ¥80000` or `赢单 123 80000` for an amount).
 * - `认领 [id]` / `claim`; `详情 [id]` / `show` (anything else after the id: `bad_lead_id`).
 * - `阶段 [id] 商机` / `stage`: stage names in Chinese or English (`bad_stage` otherwise).
 * - `赢单|成交 [id] [amount]` / `won`: amount via parseAmount, positive (`bad_amount` otherwise).
 * - `输单|丢单 [id] [reason]` / `lost`: the reason is the rest of the message as typed.
 * - `提醒 [id] <time> [text]` / `remind`: time via parseWhen; `missing_time`, `bad_time` (the text
 *   looks like a time we cannot read), `time_in_past` (not strictly after now).
 * - `请假 <duration | 到 day>` / `away [until] …`: see parseAway; `bad_duration`, `time_in_past`.
 * - `转派 [id] [给|to|@]<member>` / `reassign`: `to` is the (width-folded) name or id; `missing_member`.
 * - Whole message only: 我的/mine/my → mine, 公海/pool, 回来了/我回来了/back, 帮助/help/?/菜单/menu,
 *   战报/digest.
 * - A keyword must be followed by end of text (trailing punctuation ignored: `认领！`), whitespace,
 *   `#`, a digit or a colon; once it is, the message is that command and unreadable arguments are an
 *   `invalid` command (so the reply can say what to type) rather than a note. `认领了客户资料`,
 *   `提醒一下自己`, `claimed the lead` are notes. Exception: 提醒 and 请假 glued to arguments that read
 *   cleanly (`提醒明天下午3点回访`, `请假到周五`) are commands (matchGluedKeyword).
 * - Anything else is a note: the text as typed (trimmed) minus a leading `#123` or trailing ` #123`
 *   marker, which sets `leadId`; BANT fields from parseBantLines.
 */
export function parseCommand(text: string, ctx: ParseContext): Command {
  const folded = foldWidth(text);
  const [start, end] = trimRange(folded);
  const span: Span = { original: text, folded, start, end };

  let pos = start;
  if (folded[pos] === '/') pos = trimRange(folded, pos + 1, end)[0];

  const whole = folded.slice(pos, end);
  if (whole !== '' && /^\?+$/.test(whole)) return { kind: 'help' };
  const wholeKey = folded
    .slice(pos, trimTrailingPunctuation(folded, pos, end))
    .toLowerCase()
    .replace(/\s+/g, ' ');
  const wholeCommand = WHOLE_MESSAGE.get(wholeKey);
  if (wholeCommand) return { ...wholeCommand };

  const keyword = matchKeyword(span, pos);
  if (keyword) return parseArguments(keyword.command, span, keyword.next, ctx);
  const glued = matchGluedKeyword(span, pos);
  if (glued) {
    const command = parseArguments(glued.command, span, glued.next, ctx);
    if (command.kind !== 'invalid') return command;
  }
  return parseNote(span);
}
