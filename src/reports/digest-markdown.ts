import { redactText } from '../cards/formatters';
import { STAGES, stageName } from '../leads/stages';
import { maskPhone } from '../lib/mask';
import { toLocal } from '../routing/local-time';
import type { ChannelFigures, Figures, RepFigures } from './figures-types';

/**
 * A team's digest (PRODUCT.md 10) as WeCom group-robot markdown (PLATFORMS.md, 91770): `#` headings,
 * **bold**, `<font color>`, `>` quotes, no tables. Pure: the same input gives the same text.
 *
 * Always at most `DIGEST_MAX_BYTES` UTF-8 bytes, whatever the input: long lists are cut to their top
 * entries with "…另有 N 人" (fewer entries and shorter names until it fits), and as a last resort whole
 * lines are dropped from the end. Every line closes the markup it opens, so nothing is ever cut inside a
 * tag or a multi-byte character.
 *
 * It goes to a group chat: free text that reps typed (names, lost reasons) has Chinese mobiles and
 * e-mail addresses masked (138****1234, z***@corp.com), full-width digits and invisible characters
 * included, and markdown characters in it are replaced by their full-width forms, so a name cannot
 * open a tag, a link or bold text.
 */

export const DIGEST_MAX_BYTES = 4096;
/** WeCom group robot and app `text` messages: 2048 bytes. */
export const DIGEST_TEXT_MAX_BYTES = 2048;

export interface DigestInput {
  figures: Figures;
  teamName: string;
  kind: 'daily' | 'weekly';
  /** Sent after an outage, later than scheduled: the digest says so. */
  late?: boolean;
  language?: 'zh';
  /** Display names of channels (`sources[].channel` ids); the id is shown when absent. */
  channelNames?: Readonly<Record<string, string>>;
}

export function renderDigestMarkdown(input: DigestInput): string {
  return fitToLimit(input, DIGEST_MAX_BYTES, toMarkdown);
}

/** The same digest as plain text (DingTalk or WeCom `text` messages), at most `maxBytes` (default 2048). */
export function renderDigestText(input: DigestInput & { maxBytes?: number }): string {
  return fitToLimit(input, input.maxBytes ?? DIGEST_TEXT_MAX_BYTES, toPlain);
}

// ---------------------------------------------------------------------------------------------
// The document: lines of segments, rendered to markdown or to plain text.

type Colour = 'info' | 'comment' | 'warning';
interface Segment {
  text: string;
  style?: 'bold' | Colour;
}
interface Line {
  kind: 'title' | 'quote' | 'para' | 'blank';
  segments: Segment[];
}

const seg = (text: string, style?: Segment['style']): Segment => (style ? { text, style } : { text });
const para = (...segments: Segment[]): Line => ({ kind: 'para', segments });
const quote = (...segments: Segment[]): Line => ({ kind: 'quote', segments });
const BLANK: Line = { kind: 'blank', segments: [] };

/** Markdown characters in text become their full-width forms: text never opens markup. */
const MARKDOWN_CHARS: Record<string, string> = {
  '*': '＊',
  '<': '＜',
  '>': '＞',
  '[': '［',
  ']': '］',
  '`': '｀',
  '&': '＆',
  '\\': '＼',
};

function escapeMarkdown(text: string): string {
  return text.replace(/[*<>[\]`&\\]/g, (c) => MARKDOWN_CHARS[c]!);
}

function toMarkdown(line: Line): string {
  const body = line.segments
    .map(({ text, style }) => {
      const t = escapeMarkdown(text);
      if (!style || t === '') return t;
      return style === 'bold' ? `**${t}**` : `<font color="${style}">${t}</font>`;
    })
    .join('');
  switch (line.kind) {
    case 'title':
      return `# ${body}`;
    case 'quote':
      return `> ${body}`;
    case 'para':
      return body;
    case 'blank':
      return '';
  }
}

function toPlain(line: Line): string {
  const body = line.segments.map((s) => s.text).join('');
  return line.kind === 'quote' ? `  ${body}` : body;
}

// ---------------------------------------------------------------------------------------------
// Fitting into the byte limit.

interface Level {
  /** Reps with a first-response line. */
  reps: number;
  /** Channels in the new-leads line, and cost lines. */
  channels: number;
  costs: number;
  losses: number;
  /** Characters (grapheme clusters) of a name or reason. */
  nameChars: number;
  reasonChars: number;
}

/** From the fullest rendering to the sparest; the first that fits is sent. */
const LEVELS: readonly Level[] = [
  { reps: 15, channels: 10, costs: 10, losses: 8, nameChars: 12, reasonChars: 16 },
  { reps: 10, channels: 8, costs: 6, losses: 6, nameChars: 10, reasonChars: 12 },
  { reps: 6, channels: 5, costs: 4, losses: 4, nameChars: 8, reasonChars: 10 },
  { reps: 3, channels: 3, costs: 3, losses: 3, nameChars: 6, reasonChars: 8 },
  { reps: 0, channels: 0, costs: 0, losses: 0, nameChars: 6, reasonChars: 8 },
];

const TRUNCATED = '…（内容过长，其余从略）';
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

function fitToLimit(input: DigestInput, maxBytes: number, render: (line: Line) => string): string {
  let lines: string[] = [];
  for (const level of LEVELS) {
    lines = trimBlanks(build(input, level)).map(render);
    const text = lines.join('\n');
    if (byteLength(text) <= maxBytes) return text;
  }
  // Last resort: whole lines from the end (each line is complete markup on its own).
  while (lines.length > 1 && byteLength([...lines, TRUNCATED].join('\n')) > maxBytes) lines.pop();
  const text = [...lines, TRUNCATED].join('\n');
  if (byteLength(text) <= maxBytes) return text;
  // Unreachable with the title's length capped, but the limit is hard: plain text, cut by character.
  return clipBytes(lines[0]!.replace(/<[^>]*>/g, ''), maxBytes);
}

function trimBlanks(lines: Line[]): Line[] {
  const out: Line[] = [];
  for (const line of lines) {
    if (line.kind === 'blank' && (out.length === 0 || out[out.length - 1]!.kind === 'blank')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1]!.kind === 'blank') out.pop();
  return out;
}

function clipBytes(text: string, maxBytes: number): string {
  let out = '';
  for (const ch of text) {
    if (byteLength(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Content.

function build(input: DigestInput, level: Level): Line[] {
  const { figures: f, kind } = input;
  const day = kind === 'daily' ? '当日' : '当周';
  const lines: Line[] = [];

  const team = clip(clean(input.teamName), 20) || '团队';
  lines.push({
    kind: 'title',
    segments: [seg(`${team}${kind === 'daily' ? '日报' : '周报'} · ${periodLabel(f.period, kind)}`)],
  });
  if (input.late) lines.push(para(seg('（补发：服务恢复后发送）', 'warning')));
  lines.push(BLANK);

  // New leads by channel.
  const channels = f.channels.filter((c) => c.leads > 0).sort(byLeads);
  if (f.newLeads > 0) {
    lines.push(para(seg('新线索', 'bold'), seg(` ${int(f.newLeads)} 条`)));
    if (channels.length > 0) {
      const shown = channels
        .slice(0, level.channels)
        .map((c) => `${channelName(input, c, level)} ${int(c.leads)}`);
      const rest = channels.length - Math.min(channels.length, level.channels);
      if (rest > 0) shown.push(shown.length > 0 ? `…另有 ${rest} 个渠道` : `共 ${rest} 个渠道`);
      lines.push(quote(seg(shown.join(' · '))));
    }
  } else {
    lines.push(para(seg(`${day}暂无新线索`)));
  }
  lines.push(BLANK);

  // Claims within the SLA.
  if (f.claimedWithinSlaShare !== null && f.claimed > 0) {
    const share = f.claimedWithinSlaShare;
    lines.push(
      para(
        seg('SLA 内认领', 'bold'),
        seg(' '),
        seg(percent(share), share >= 0.8 ? 'info' : 'warning'),
        seg(`（${int(f.claimedWithinSla)}/${int(f.claimed)}）`),
      ),
    );
  } else if (f.newLeads > 0) {
    lines.push(para(seg('SLA 内认领', 'bold'), seg(' 暂无认领')));
  }
  lines.push(BLANK);

  // First response per rep, busiest first.
  const reps = f.reps
    .filter((r) => r.assigned > 0 || r.claimed > 0 || r.firstResponseMedianMs !== null)
    .sort(byVolume);
  if (reps.length > 0) {
    lines.push(para(seg('首次响应', 'bold'), seg('（中位 / P90 · 认领/分配）')));
    for (const rep of reps.slice(0, level.reps)) lines.push(quote(...repLine(rep, level)));
    const rest = reps.length - Math.min(reps.length, level.reps);
    if (rest > 0)
      lines.push(quote(seg(level.reps > 0 ? `…另有 ${rest} 人` : `共 ${rest} 人，详见报表`, 'comment')));
  }
  lines.push(BLANK);

  // The funnel.
  const funnel = [...f.funnel].sort(byStage);
  if (funnel.some((s) => s.reached > 0)) {
    lines.push(para(seg('漏斗', 'bold'), seg(`（${day}新线索走到的阶段，括号内为转化率）`)));
    const chain = funnel
      .filter((s) => s.stage !== 'lost' && s.stage !== 'nurture')
      .map(
        (s) =>
          `${stageName(s.stage)} ${int(s.reached)}${s.conversion === null ? '' : `（${percent(s.conversion)}）`}`,
      );
    if (chain.length > 0) lines.push(quote(seg(chain.join(' → '))));
    const side = funnel
      .filter((s) => s.stage === 'lost' || s.stage === 'nurture')
      .map((s) => `${stageName(s.stage)} ${int(s.reached)}`);
    if (side.length > 0) lines.push(quote(seg(side.join(' · '))));
    lines.push(BLANK);
  }
  const stays = funnel.filter((s) => s.avgDays !== null && Number.isFinite(s.avgDays));
  if (stays.length > 0) {
    const text = stays.map((s) => `${stageName(s.stage)} ${duration(s.avgDays! * DAY_MS)}`).join(' · ');
    lines.push(para(seg('平均停留', 'bold'), seg(` ${text}`)));
  }
  lines.push(BLANK);

  // Losses by reason.
  const losses = f.lossesByReason
    .filter((l) => l.count > 0)
    .sort((a, b) => b.count - a.count || byText(a.reason, b.reason));
  if (losses.length > 0) {
    const total = losses.reduce((sum, l) => sum + l.count, 0);
    lines.push(para(seg('输单原因', 'bold'), seg(`（${day}输单 ${int(total)} 条）`)));
    const shown = losses
      .slice(0, level.losses)
      .map((l) => `${clip(clean(l.reason), level.reasonChars) || '未填原因'} ${int(l.count)}`);
    const rest = losses.length - Math.min(losses.length, level.losses);
    if (rest > 0) shown.push(shown.length > 0 ? `…其他 ${rest} 种原因` : `原因 ${rest} 种，详见报表`);
    lines.push(quote(seg(shown.join(' · '))));
    lines.push(BLANK);
  }

  // Follow-ups and breaches.
  if (f.overdueFollowUps > 0 || f.recycled > 0 || f.slaBreaches > 0) {
    lines.push(
      para(
        seg('跟进', 'bold'),
        seg(` 逾期提醒 ${int(f.overdueFollowUps)} · 回收公海 ${int(f.recycled)} · SLA 超时 `),
        seg(int(f.slaBreaches), f.slaBreaches > 0 ? 'warning' : undefined),
      ),
    );
  } else {
    lines.push(para(seg('跟进', 'bold'), seg(' 无逾期、回收或 SLA 超时')));
  }

  if (kind === 'weekly') {
    lines.push(BLANK);
    lines.push(...forecastLines(f));
    lines.push(BLANK);
    lines.push(...costLines(input, level));
  }
  return lines;
}

function repLine(rep: RepFigures, level: Level): Segment[] {
  const name = clip(clean(rep.name), level.nameChars) || '（未命名）';
  const response =
    rep.firstResponseMedianMs === null
      ? '暂无跟进'
      : `${duration(rep.firstResponseMedianMs)} / ${rep.firstResponseP90Ms === null ? '—' : duration(rep.firstResponseP90Ms)}`;
  return [seg(`${name}：${response} · ${int(rep.claimed)}/${int(rep.assigned)}`)];
}

function forecastLines(f: Figures): Line[] {
  if (!f.forecast) return [];
  const { openLeads, weightedAmount, byStage: stages } = f.forecast;
  if (openLeads <= 0) return [para(seg('预测', 'bold'), seg(' 暂无在途线索'))];
  const lines = [
    para(seg('预测', 'bold'), seg('（在途线索 × 各阶段历史赢单率）')),
    quote(seg(`在途 ${int(openLeads)} 条 · 加权金额 `), seg(money(weightedAmount), 'info')),
  ];
  for (const s of [...stages].sort(byStage).filter((s) => s.leads > 0)) {
    lines.push(
      quote(
        seg(`${stageName(s.stage)} ${int(s.leads)} 条 · 赢单率 ${percent(s.winRate)} · ${money(s.amount)}`),
      ),
    );
  }
  return lines;
}

function costLines(input: DigestInput, level: Level): Line[] {
  const costed = input.figures.channels
    .filter((c) => c.cost !== null && Number.isFinite(c.cost))
    .sort(byCost);
  if (costed.length === 0) return [];
  const lines = [para(seg('渠道成本', 'bold'), seg('（每线索 / 每赢单 / ROI）'))];
  for (const c of costed.slice(0, level.costs)) {
    const parts = [
      seg(
        `${channelName(input, c, level)}：成本 ${money(c.cost!)} · 每线索 ${c.costPerLead === null ? '—' : money(c.costPerLead)}`,
      ),
      seg(` · 每赢单 ${c.costPerWon === null ? '无赢单' : money(c.costPerWon)}`),
    ];
    if (c.roi !== null && Number.isFinite(c.roi)) {
      parts.push(seg(' · ROI '), seg(signedPercent(c.roi), c.roi >= 0 ? 'info' : 'warning'));
    }
    lines.push(quote(...parts));
  }
  const rest = costed.length - Math.min(costed.length, level.costs);
  if (rest > 0)
    lines.push(
      quote(seg(level.costs > 0 ? `…另有 ${rest} 个渠道` : `${rest} 个渠道有成本，详见报表`, 'comment')),
    );
  return lines;
}

function channelName(input: DigestInput, c: ChannelFigures, level: Level): string {
  const names = input.channelNames;
  const name = names && Object.hasOwn(names, c.channel) ? names[c.channel]! : c.channel;
  return clip(clean(name), level.nameChars) || '未知渠道';
}

// ---------------------------------------------------------------------------------------------
// Ordering (total orders, so the output does not depend on the input order of ties).

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byLeads = (a: ChannelFigures, b: ChannelFigures): number =>
  b.leads - a.leads || byText(a.channel, b.channel);
const byCost = (a: ChannelFigures, b: ChannelFigures): number =>
  (b.cost ?? 0) - (a.cost ?? 0) || byText(a.channel, b.channel);
const byVolume = (a: RepFigures, b: RepFigures): number =>
  b.assigned - a.assigned ||
  b.claimed - a.claimed ||
  byText(a.name, b.name) ||
  byText(a.memberId, b.memberId);
const stageIndex = (stage: string): number => {
  const i = (STAGES as readonly string[]).indexOf(stage);
  return i < 0 ? STAGES.length : i;
};
const byStage = (a: { stage: string }, b: { stage: string }): number =>
  stageIndex(a.stage) - stageIndex(b.stage);

// ---------------------------------------------------------------------------------------------
// Numbers, durations, dates.

const DAY_MS = 86_400_000;

function int(n: number): string {
  if (!Number.isFinite(n)) return '0';
  return group(String(Math.round(n)));
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 0.8333 → `83%`; a share that rounds to 0 or 100 but is not says so. */
export function percent(share: number): string {
  if (!Number.isFinite(share)) return '—';
  const p = share * 100;
  if (p > 0 && p < 0.5) return '不足1%';
  if (p > 99.5 && p < 100) return '99%';
  return `${group(String(Math.round(p)))}%`;
}

function signedPercent(share: number): string {
  const p = Math.round(share * 100);
  return p < 0 ? `-${group(String(-p))}%` : `${group(String(p))}%`;
}

const oneDecimal = (x: number): string => x.toFixed(1).replace(/\.0$/, '');

/** `不到1分钟`, `12分钟`, `1.5小时`, `2天`: one unit, at most one decimal. */
export function duration(ms: number): string {
  const t = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (t < 60_000) return '不到1分钟';
  const minutes = Math.round(t / 60_000);
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.round(t / 360_000) / 10;
  if (hours < 24) return `${oneDecimal(hours)}小时`;
  return `${oneDecimal(Math.round(t / 8_640_000) / 10)}天`;
}

/** Yuan: `¥8,500`, `¥12.5万`, `¥1.2亿`. */
export function money(yuan: number): string {
  if (!Number.isFinite(yuan)) return '—';
  const sign = yuan < 0 ? '-' : '';
  const a = Math.abs(yuan);
  if (a >= 100_000_000) return `${sign}¥${oneDecimal(a / 100_000_000)}亿`;
  if (a >= 10_000) return `${sign}¥${oneDecimal(a / 10_000)}万`;
  if (a >= 100 || a === Math.round(a)) return `${sign}¥${group(String(Math.round(a)))}`;
  return `${sign}¥${oneDecimal(a)}`;
}

const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

/** `11月21日（周六）` for a day, `11月16日–11月22日` for a week, in the period's timezone. */
function periodLabel(period: Figures['period'], kind: DigestInput['kind']): string {
  const start = toLocal(period.timeZone, period.from);
  const date = (d: { month: number; day: number }) => `${d.month}月${d.day}日`;
  if (kind === 'daily') {
    const weekday = new Date(Date.UTC(start.year, start.month - 1, start.day)).getUTCDay();
    return `${date(start)}（周${WEEKDAYS[weekday]}）`;
  }
  const end = toLocal(period.timeZone, new Date(Math.max(period.from.getTime(), period.to.getTime() - 1)));
  return `${date(start)}–${date(end)}`;
}

// ---------------------------------------------------------------------------------------------
// Free text from reps: masked, one line, clipped.

const INVISIBLE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MAX_SOURCE = 1000;
/**
 * A Chinese mobile written with any light punctuation between its digits (`138.1234.5678`,
 * `1 3 8 1 2 3 4 5 6 7 8`), which `redactText` leaves alone; not inside a longer run of digits.
 */
const SPACED_MOBILE =
  /(?<!\d)(?:\+[\s.\-()/（）]{0,3})?(?:8[\s.\-()/（）]{0,3}6[\s.\-()/（）]{0,3})?1(?:[\s.\-()/（）]{0,3}\d){10}(?!\d)/g;

/** Rep-typed text made safe for a group chat: one line, contact details masked, at most 1000 characters. */
export function clean(text: string | null | undefined): string {
  let s = String(text ?? '')
    .replace(/[\n\r\t\v\f\u0085\u2028\u2029]/g, ' ')
    .replace(INVISIBLE, '')
    .replace(LONE_SURROGATE, '')
    // Full-width digits, letters and the signs of phone numbers and e-mails (Chinese IMEs type them).
    .replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff0d\uff0e\uff20\uff3f]/g, (c) =>
      String.fromCharCode(c.charCodeAt(0) - 0xfee0),
    )
    .replace(/[\s\u3000]+/g, ' ')
    .trim();
  if (s.length > MAX_SOURCE) s = Array.from(s).slice(0, MAX_SOURCE).join('');
  s = redactText(s);
  s = s.replace(SPACED_MOBILE, (m) => {
    const digits = m.replace(/\D/g, '');
    return /^(?:86)?1[3-9]\d{9}$/.test(digits) ? maskPhone(digits) : m;
  });
  return s;
}

const GRAPHEMES = new Intl.Segmenter('zh', { granularity: 'grapheme' });

/**
 * At most `max` characters (grapheme clusters, so an emoji or a letter with its accents stays whole)
 * and 3 bytes per character on average, the last being … when cut.
 */
export function clip(text: string, max: number): string {
  const maxBytes = max * 3;
  let count = 0;
  let bytes = 0;
  let kept = '';
  let fits = '';
  for (const { segment } of GRAPHEMES.segment(text)) {
    count += 1;
    bytes += byteLength(segment);
    if (count > max || bytes > maxBytes) return `${fits}…`;
    // What may stand before the …: one character and 3 bytes fewer.
    if (count <= max - 1 && bytes <= maxBytes - 3) fits += segment;
    kept += segment;
  }
  return kept;
}
