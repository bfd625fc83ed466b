import { deflateSync } from 'node:zlib';
import { STAGES, stageName } from '../leads/stages';
import type { Figures, FunnelStage } from './figures-types';
import glyphFile from './glyphs.json';

/**
 * The funnel chart of a team's digest (PRODUCT.md 10) as a PNG, drawn in pure JS: no browser, no
 * native canvas, no font on the server. Text comes from bitmap glyphs rasterised once at development
 * time from Noto Sans CJK SC (scripts/build-glyphs.ts; SIL OFL 1.1, glyphs-OFL.txt): the stage names,
 * a small title vocabulary (转化漏斗, 日报, 周报, dates), digits and ASCII. A character outside that set
 * is left out, never drawn as a box; the chart draws no team or person names.
 *
 * The same input gives the same bytes (fixed layout, integer geometry, zlib at a fixed level).
 */

export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 420;

/** Where the bars go; exported for the tests that measure them. */
export const CHART_LAYOUT = {
  /** Right edge of the stage labels. */
  labelRight: 128,
  /** Left edge of every bar. */
  barLeft: 140,
  /** Length of the longest bar. */
  barMaxWidth: 450,
  rowsTop: 76,
  rowsBottom: 404,
} as const;

type Rgb = readonly [number, number, number];

const WHITE: Rgb = [255, 255, 255];
const TEXT: Rgb = [0x1f, 0x23, 0x29];
const MUTED: Rgb = [0x8f, 0x95, 0x9e];
const RULE: Rgb = [0xe5, 0xe6, 0xeb];
/** new → opportunity darkest to lightest blue; won green; lost red; nurture orange. */
const STAGE_COLOURS: Record<FunnelStage['stage'], Rgb> = {
  new: [0x1f, 0x4f, 0xcc],
  contacted: [0x33, 0x70, 0xff],
  qualified: [0x4e, 0x83, 0xfd],
  opportunity: [0x7a, 0xa2, 0xff],
  won: [0x2e, 0xa1, 0x21],
  lost: [0xf5, 0x4a, 0x45],
  nurture: [0xff, 0x88, 0x00],
};
const SIDE_STAGES: ReadonlySet<string> = new Set(['lost', 'nurture']);
const MAX_ROWS = 10;

export function renderFunnelPng(input: { funnel: Figures['funnel']; title: string }): Buffer {
  const image = new Canvas(CHART_WIDTH, CHART_HEIGHT);
  const title = fitText('title', input.title, CHART_WIDTH - 48);
  drawText(image, 'title', title, 24, 46, TEXT);
  image.fill(24, 62, CHART_WIDTH - 48, 1, RULE);

  const rows = [...input.funnel]
    .sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage))
    .slice(0, MAX_ROWS);
  const max = Math.max(0, ...rows.map((r) => (Number.isFinite(r.reached) ? r.reached : 0)));
  const { labelRight, barLeft, barMaxWidth, rowsTop, rowsBottom } = CHART_LAYOUT;
  const rowHeight = rows.length > 0 ? Math.min(48, Math.floor((rowsBottom - rowsTop) / rows.length)) : 48;
  const barHeight = Math.round(rowHeight * 0.6);

  rows.forEach((row, i) => {
    const top = rowsTop + i * rowHeight;
    if (i > 0 && SIDE_STAGES.has(row.stage) && !SIDE_STAGES.has(rows[i - 1]!.stage)) {
      image.fill(24, top - 1, CHART_WIDTH - 48, 1, RULE);
    }
    const barTop = top + Math.floor((rowHeight - barHeight) / 2);
    const baseline = barTop + Math.floor(barHeight / 2) + 6;
    const label = fitText('label', stageName(row.stage, 'zh'), labelRight - 24);
    drawText(image, 'label', label, labelRight - measure('label', label), baseline, TEXT);

    const reached = Number.isFinite(row.reached) && row.reached > 0 ? row.reached : 0;
    let width = max > 0 ? Math.round((barMaxWidth * reached) / max) : 0;
    if (reached > 0 && width < 2) width = 2;
    image.fill(barLeft, barTop, width, barHeight, STAGE_COLOURS[row.stage] ?? MUTED);

    const count = groupDigits(reached);
    const share =
      row.conversion !== null && Number.isFinite(row.conversion) ? `  ${percent(row.conversion)}` : '';
    const textWidth = measure('label', count) + measure('label', share);
    if (barLeft + width + 10 + textWidth <= CHART_WIDTH - 8) {
      const x = drawText(image, 'label', count, barLeft + width + 10, baseline, TEXT);
      drawText(image, 'label', share, x, baseline, MUTED);
    } else {
      // No room right of a long bar (a count in the millions): inside its end, in white.
      const x = drawText(image, 'label', count, barLeft + width - 8 - textWidth, baseline, WHITE);
      drawText(image, 'label', share, x, baseline, WHITE);
    }
  });

  if (max === 0) {
    const note = '暂无数据';
    const middle = rows.length > 0 ? rowsTop + Math.floor((rows.length * rowHeight) / 2) : 200;
    drawText(
      image,
      'label',
      note,
      barLeft + Math.floor((barMaxWidth - measure('label', note)) / 2),
      middle + 6,
      MUTED,
    );
  }
  return encodePng(image);
}

function groupDigits(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function percent(share: number): string {
  const p = share * 100;
  if (p > 0 && p < 0.5) return '<1%';
  if (p < 10 && p !== Math.round(p)) return `${p.toFixed(1).replace(/\.0$/, '')}%`;
  return `${Math.round(p)}%`;
}

// ---------------------------------------------------------------------------------------------
// Text from the bitmap glyphs.

type StyleName = 'label' | 'title';

interface Glyph {
  /** Advance, px. */
  advance: number;
  /** Top left of the bitmap from the pen position on the baseline. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** 4-bit coverage, two pixels per byte, high nibble first; empty for a blank. */
  bits: Buffer;
}

interface GlyphStyle {
  size: number;
  ascent: number;
  descent: number;
  /** `advance,x,y,w,h,base64` or `advance` (scripts/build-glyphs.ts). */
  glyphs: Record<string, string>;
}

const STYLES = (glyphFile as unknown as { styles: Record<StyleName, GlyphStyle> }).styles;

function glyphOf(style: StyleName, ch: string): Glyph | undefined {
  const glyphs = STYLES[style].glyphs;
  if (!Object.hasOwn(glyphs, ch)) return undefined;
  const [advance, x, y, w, h, data] = glyphs[ch]!.split(',');
  return {
    advance: Number(advance),
    x: Number(x ?? 0),
    y: Number(y ?? 0),
    w: Number(w ?? 0),
    h: Number(h ?? 0),
    bits: Buffer.from(data ?? '', 'base64'),
  };
}

export function measure(style: StyleName, text: string): number {
  let width = 0;
  for (const ch of text) width += glyphOf(style, ch)?.advance ?? 0;
  return width;
}

/** The text, cut with … to fit `maxWidth` (characters without a glyph do not count: they are not drawn). */
function fitText(style: StyleName, text: string, maxWidth: number): string {
  if (measure(style, text) <= maxWidth) return text;
  const room = maxWidth - measure(style, '…');
  let width = 0;
  let out = '';
  for (const ch of text) {
    width += glyphOf(style, ch)?.advance ?? 0;
    if (width > room) break;
    out += ch;
  }
  return `${out}…`;
}

/** Draws the text with its baseline at `baseline`; returns the pen position after it. */
function drawText(
  image: Canvas,
  style: StyleName,
  text: string,
  x: number,
  baseline: number,
  colour: Rgb,
): number {
  let pen = x;
  for (const ch of text) {
    const glyph = glyphOf(style, ch);
    if (!glyph) continue;
    for (let row = 0; row < glyph.h; row++) {
      for (let col = 0; col < glyph.w; col++) {
        const i = row * glyph.w + col;
        const byte = glyph.bits[i >> 1] ?? 0;
        const level = i % 2 === 0 ? byte >> 4 : byte & 0x0f;
        if (level > 0) image.blend(pen + glyph.x + col, baseline + glyph.y + row, colour, level / 15);
      }
    }
    pen += glyph.advance;
  }
  return pen;
}

// ---------------------------------------------------------------------------------------------
// An RGB raster and its PNG encoding.

class Canvas {
  readonly pixels: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = Buffer.alloc(width * height * 3);
    this.fill(0, 0, width, height, WHITE);
  }

  fill(x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
    const x0 = Math.max(0, x);
    const y0 = Math.max(0, y);
    const x1 = Math.min(this.width, x + w);
    const y1 = Math.min(this.height, y + h);
    for (let py = y0; py < y1; py++) {
      for (let px = x0; px < x1; px++) {
        const at = (py * this.width + px) * 3;
        this.pixels[at] = r;
        this.pixels[at + 1] = g;
        this.pixels[at + 2] = b;
      }
    }
  }

  blend(x: number, y: number, colour: Rgb, alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const at = (y * this.width + x) * 3;
    for (let c = 0; c < 3; c++) {
      this.pixels[at + c] = Math.round(colour[c]! * alpha + this.pixels[at + c]! * (1 - alpha));
    }
  }
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = -1;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** 8-bit RGB, no interlace; per row the filter with the smallest sum of absolute differences (libpng's heuristic). */
function encodePng(image: Canvas): Buffer {
  const { width, height, pixels } = image;
  const stride = width * 3;
  const out = Buffer.alloc((stride + 1) * height);
  const zero = Buffer.alloc(stride);
  const candidates = [0, 1, 2, 3, 4].map(() => Buffer.alloc(stride));
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    let bestType = 0;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let type = 0; type <= 4; type++) {
      const filtered = candidates[type]!;
      filterRow(type, row, up, filtered);
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const v = filtered[i]!;
        score += v < 128 ? v : 256 - v;
      }
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
      }
    }
    out[y * (stride + 1)] = bestType;
    out.set(candidates[bestType]!, y * (stride + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(out, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** PNG filter `type` of `row` (the row above is `up`, zeros for the first), 3 bytes per pixel. */
function filterRow(type: number, row: Uint8Array, up: Uint8Array, out: Uint8Array): void {
  const n = row.length;
  switch (type) {
    case 0:
      out.set(row);
      return;
    case 1:
      for (let i = 0; i < n; i++) out[i] = (row[i]! - (i >= 3 ? row[i - 3]! : 0)) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) out[i] = (row[i]! - up[i]!) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) out[i] = (row[i]! - (((i >= 3 ? row[i - 3]! : 0) + up[i]!) >> 1)) & 0xff;
      return;
    default:
      // Paeth, written out: a call per byte (and Math.abs) is ten times slower inside jest's sandbox.
      for (let i = 0; i < n; i++) {
        const a = i >= 3 ? row[i - 3]! : 0;
        const b = up[i]!;
        const c = i >= 3 ? up[i - 3]! : 0;
        const p = a + b - c;
        const pa = p > a ? p - a : a - p;
        const pb = p > b ? p - b : b - p;
        const pc = p > c ? p - c : c - p;
        out[i] = (row[i]! - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
  }
}
