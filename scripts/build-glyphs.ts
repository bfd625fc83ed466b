/**
 * Builds src/reports/glyphs.json, the bitmap glyphs the funnel chart (src/reports/funnel-chart.ts)
 * draws its text with, so that the server needs no font, no native canvas and no download at run time.
 *
 * Run once at development time, after `apt-get install fonts-noto-cjk`:
 *
 *   npx tsx scripts/build-glyphs.ts [path/to/NotoSansCJK-Regular.ttc] [path/to/NotoSansCJK-Bold.ttc]
 *
 * The glyphs are rasterised from Noto Sans CJK SC (Regular for labels, Bold for the title), © Google
 * and Adobe, SIL Open Font License 1.1 (src/reports/glyphs-OFL.txt). Only the characters in CHARS are
 * kept. Each glyph is a 4-bit coverage bitmap (two pixels per byte, base64). The output is
 * deterministic: the same font files give the same JSON.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import opentype from 'opentype.js';

const REGULAR = process.argv[2] ?? '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
const BOLD = process.argv[3] ?? '/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc';
const FACE_REGULAR = 'NotoSansCJKsc-Regular';
const FACE_BOLD = 'NotoSansCJKsc-Bold';
const OUT = join(__dirname, '..', 'src', 'reports', 'glyphs.json');

/** Everything the chart may draw: stage names, the chart-title vocabulary, digits and ASCII. */
const CJK =
  // stages (src/leads/stages.ts)
  '新线索已联系确认需求商机赢单输培育' +
  // titles and notes: 转化漏斗 · 日报 / 周报 · 11月21日（周六） · 暂无数据
  '转化漏斗日报周今本上昨年月一二三四五六七八九十暂无数据条人率团队全员阶段数量合计其他';
const ASCII = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
const EXTRA = '·–—…→↓×（）：，、。％';
const CHARS = [...new Set(Array.from(ASCII + EXTRA + CJK))].sort();

/** Pixel sizes: `label` for stage names and numbers, `title` for the chart title. */
const STYLES = [
  { name: 'label', face: 'regular', size: 16 },
  { name: 'title', face: 'bold', size: 22 },
] as const;

/** Sub-scanlines per pixel row; horizontal coverage is exact. */
const SUBSAMPLES = 16;
/** Segments per Bézier curve: plenty at 22 px. */
const CURVE_STEPS = 12;

/** One face out of a TrueType/OpenType collection, as a standalone font file (tables rebased). */
function faceFromCollection(file: Buffer, postScriptName: string): opentype.Font {
  if (file.toString('latin1', 0, 4) !== 'ttcf') return opentype.parse(toArrayBuffer(file));
  const count = file.readUInt32BE(8);
  for (let i = 0; i < count; i++) {
    const start = file.readUInt32BE(12 + 4 * i);
    const tables = file.readUInt16BE(start + 4);
    const header = 12 + 16 * tables;
    let size = header;
    const records: { tag: string; offset: number; length: number; checksum: number }[] = [];
    for (let t = 0; t < tables; t++) {
      const at = start + 12 + 16 * t;
      const record = {
        tag: file.toString('latin1', at, at + 4),
        checksum: file.readUInt32BE(at + 4),
        offset: file.readUInt32BE(at + 8),
        length: file.readUInt32BE(at + 12),
      };
      records.push(record);
      size += (record.length + 3) & ~3;
    }
    const out = Buffer.alloc(size);
    file.copy(out, 0, start, start + 12);
    let cursor = header;
    records.forEach((record, t) => {
      const at = 12 + 16 * t;
      out.write(record.tag, at, 'latin1');
      out.writeUInt32BE(record.checksum, at + 4);
      out.writeUInt32BE(cursor, at + 8);
      out.writeUInt32BE(record.length, at + 12);
      file.copy(out, cursor, record.offset, record.offset + record.length);
      cursor += (record.length + 3) & ~3;
    });
    const font = opentype.parse(toArrayBuffer(out), { lowMemory: true });
    if (nameOf(font, 'postScriptName') === postScriptName) return font;
  }
  throw new Error(`${postScriptName} not found in the collection`);
}

/** opentype.js 1.3 files the name table under its platform (`names.windows`); its types do not. */
function nameOf(font: opentype.Font, key: 'postScriptName' | 'fullName' | 'copyright'): string {
  const names = font.names as unknown as Record<string, Record<string, Record<string, string>> | undefined>;
  return names.windows?.[key]?.en ?? font.names[key]?.en ?? '';
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

type Point = [number, number];

/** The outline as closed polygons, in pixels, y down, origin on the pen position at the baseline. */
function polygons(path: opentype.Path): Point[][] {
  const result: Point[][] = [];
  let current: Point[] = [];
  let pen: Point = [0, 0];
  const close = () => {
    if (current.length > 2) result.push(current);
    current = [];
  };
  for (const c of path.commands) {
    switch (c.type) {
      case 'M':
        close();
        pen = [c.x, c.y];
        current.push(pen);
        break;
      case 'L':
        pen = [c.x, c.y];
        current.push(pen);
        break;
      case 'Q': {
        const [x0, y0] = pen;
        for (let s = 1; s <= CURVE_STEPS; s++) {
          const t = s / CURVE_STEPS;
          const u = 1 - t;
          current.push([
            u * u * x0 + 2 * u * t * c.x1 + t * t * c.x,
            u * u * y0 + 2 * u * t * c.y1 + t * t * c.y,
          ]);
        }
        pen = [c.x, c.y];
        break;
      }
      case 'C': {
        const [x0, y0] = pen;
        for (let s = 1; s <= CURVE_STEPS; s++) {
          const t = s / CURVE_STEPS;
          const u = 1 - t;
          current.push([
            u * u * u * x0 + 3 * u * u * t * c.x1 + 3 * u * t * t * c.x2 + t * t * t * c.x,
            u * u * u * y0 + 3 * u * u * t * c.y1 + 3 * u * t * t * c.y2 + t * t * t * c.y,
          ]);
        }
        pen = [c.x, c.y];
        break;
      }
      case 'Z':
        close();
        break;
    }
  }
  close();
  return result;
}

interface Bitmap {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Coverage 0..1, row-major. */
  coverage: Float64Array;
}

/** Non-zero winding fill with SUBSAMPLES sub-scanlines per row and exact horizontal span coverage. */
function rasterise(polys: Point[][]): Bitmap | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const poly of polys) {
    for (const [x, y] of poly) {
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
  }
  if (!Number.isFinite(minX)) return null;
  const left = Math.floor(minX);
  const top = Math.floor(minY);
  const width = Math.ceil(maxX) - left;
  const height = Math.ceil(maxY) - top;
  const coverage = new Float64Array(width * height);
  const edges: [number, number, number, number][] = [];
  for (const poly of polys) {
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i]!;
      const b = poly[(i + 1) % poly.length]!;
      if (a[1] !== b[1]) edges.push([a[0] - left, a[1] - top, b[0] - left, b[1] - top]);
    }
  }
  for (let row = 0; row < height; row++) {
    for (let sub = 0; sub < SUBSAMPLES; sub++) {
      const y = row + (sub + 0.5) / SUBSAMPLES;
      const crossings: [number, number][] = [];
      for (const [x0, y0, x1, y1] of edges) {
        if ((y0 <= y && y < y1) || (y1 <= y && y < y0)) {
          crossings.push([x0 + ((y - y0) / (y1 - y0)) * (x1 - x0), y1 > y0 ? 1 : -1]);
        }
      }
      crossings.sort((p, q) => p[0] - q[0]);
      let winding = 0;
      for (let i = 0; i < crossings.length - 1; i++) {
        winding += crossings[i]![1];
        if (winding === 0) continue;
        addSpan(coverage, row * width, width, crossings[i]![0], crossings[i + 1]![0]);
      }
    }
  }
  for (let i = 0; i < coverage.length; i++) coverage[i] = Math.min(1, coverage[i]! / SUBSAMPLES);
  return { left, top, width, height, coverage };
}

function addSpan(coverage: Float64Array, rowStart: number, width: number, from: number, to: number): void {
  const a = Math.max(0, from);
  const b = Math.min(width, to);
  for (let px = Math.floor(a); px < b; px++) {
    const overlap = Math.min(b, px + 1) - Math.max(a, px);
    if (overlap > 0) coverage[rowStart + px]! += overlap;
  }
}

/** Trims empty borders and packs coverage into 4-bit levels, two pixels per byte, high nibble first. */
function pack(bitmap: Bitmap): { x: number; y: number; w: number; h: number; data: string } | null {
  const level = (i: number) => Math.round(bitmap.coverage[i]! * 15);
  let x0 = bitmap.width;
  let y0 = bitmap.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < bitmap.height; y++) {
    for (let x = 0; x < bitmap.width; x++) {
      if (level(y * bitmap.width + x) === 0) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const bytes = Buffer.alloc(Math.ceil((w * h) / 2));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = level((y + y0) * bitmap.width + x + x0);
      bytes[i >> 1]! |= i % 2 === 0 ? v << 4 : v;
    }
  }
  return { x: bitmap.left + x0, y: bitmap.top + y0, w, h, data: bytes.toString('base64') };
}

function main(): void {
  const faces = {
    regular: faceFromCollection(readFileSync(REGULAR), FACE_REGULAR),
    bold: faceFromCollection(readFileSync(BOLD), FACE_BOLD),
  };
  const styles: Record<string, unknown> = {};
  for (const style of STYLES) {
    const font = faces[style.face];
    const scale = style.size / font.unitsPerEm;
    const glyphs: Record<string, unknown> = {};
    for (const ch of CHARS) {
      const glyph = font.charToGlyph(ch);
      if (!glyph || glyph.index === 0)
        throw new Error(`${nameOf(font, 'postScriptName')} has no glyph for ${ch}`);
      const advance = Math.round((glyph.advanceWidth ?? font.unitsPerEm) * scale);
      const bitmap = rasterise(polygons(glyph.getPath(0, 0, style.size)));
      const packed = bitmap ? pack(bitmap) : null;
      glyphs[ch] = packed
        ? [advance, packed.x, packed.y, packed.w, packed.h, packed.data].join(',')
        : String(advance);
    }
    styles[style.name] = {
      size: style.size,
      ascent: Math.round(font.ascender * scale),
      descent: Math.round(-font.descender * scale),
      glyphs,
    };
  }
  const json = {
    font: `${nameOf(faces.regular, 'fullName')} / ${nameOf(faces.bold, 'fullName')} (Debian fonts-noto-cjk)`,
    copyright: nameOf(faces.regular, 'copyright'),
    license: 'SIL Open Font License 1.1, see glyphs-OFL.txt',
    format:
      'per style: glyphs[char] = "advance,x,y,w,h,data" (px; x,y: top left of the bitmap from the pen on the baseline; data: base64 of w×h 4-bit coverage levels, two pixels per byte, high nibble first), or "advance" for a blank',
    styles,
  };
  writeFileSync(OUT, `${JSON.stringify(json, null, 2)}\n`);
  // The repository's formatter has the last word on layout, so a rebuild gives a clean diff.
  execFileSync('npx', ['biome', 'format', '--write', OUT], { stdio: 'inherit' });
  console.log(`${OUT}: ${CHARS.length} characters × ${STYLES.length} styles`);
}

main();
