import { PNG } from 'pngjs';
import { STAGES, stageName } from '../../src/leads/stages';
import type { FunnelStage } from '../../src/reports/figures-types';
import {
  CHART_HEIGHT,
  CHART_LAYOUT,
  CHART_WIDTH,
  measure,
  renderFunnelPng,
} from '../../src/reports/funnel-chart';
import glyphFile from '../../src/reports/glyphs.json';

function funnel(reached: Partial<Record<FunnelStage['stage'], number>>): FunnelStage[] {
  return STAGES.filter((s) => reached[s] !== undefined).map((stage, i, all) => {
    const previous = i > 0 ? reached[all[i - 1]!]! : 0;
    const conversion =
      stage === 'new' || stage === 'lost' || stage === 'nurture' || previous === 0
        ? null
        : reached[stage]! / previous;
    return { stage, reached: reached[stage]!, current: reached[stage]!, conversion, avgDays: null };
  });
}

const FULL = funnel({
  new: 400,
  contacted: 200,
  qualified: 100,
  opportunity: 50,
  won: 20,
  lost: 300,
  nurture: 40,
});

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

function pixel(image: PNG, x: number, y: number): [number, number, number] {
  const at = (y * image.width + x) * 4;
  return [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
}

const isWhite = ([r, g, b]: [number, number, number]) => r === 255 && g === 255 && b === 255;
const same = (a: [number, number, number], b: [number, number, number]) =>
  a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

/** Each bar: its middle row, colour and length, found down the column just inside the bars' left edge. */
function bars(image: PNG): { y: number; colour: [number, number, number]; width: number }[] {
  const x = CHART_LAYOUT.barLeft + 1;
  const found: { y: number; colour: [number, number, number]; width: number }[] = [];
  let y = CHART_LAYOUT.rowsTop;
  while (y < CHART_LAYOUT.rowsBottom) {
    if (isWhite(pixel(image, x, y))) {
      y += 1;
      continue;
    }
    const top = y;
    while (y < CHART_LAYOUT.rowsBottom && !isWhite(pixel(image, x, y))) y += 1;
    if (y - top < 4) continue; // the rule between the chain and lost / nurture
    const middle = Math.floor((top + y) / 2);
    const colour = pixel(image, x, middle);
    let width = 0;
    while (same(pixel(image, CHART_LAYOUT.barLeft + width, middle), colour)) width += 1;
    found.push({ y: middle, colour, width });
  }
  return found;
}

describe('renderFunnelPng', () => {
  it('is a PNG of the stated size, well under the robot image limit', () => {
    const png = renderFunnelPng({ funnel: FULL, title: '转化漏斗' });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const image = decode(png);
    expect([image.width, image.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    expect(png.length).toBeLessThan(200 * 1024);
  });

  it('draws one bar per stage, in stage order, each as long as its count relative to the largest', () => {
    const found = bars(decode(renderFunnelPng({ funnel: [...FULL].reverse(), title: '转化漏斗' })));
    const counts = [400, 200, 100, 50, 20, 300, 40];
    expect(found).toHaveLength(counts.length);
    found.forEach((bar, i) => {
      expect(Math.abs(bar.width - (CHART_LAYOUT.barMaxWidth * counts[i]!) / 400)).toBeLessThanOrEqual(1);
    });
    // Rows go down the chart in STAGES order; won, lost and nurture have their own colours.
    for (let i = 1; i < found.length; i++) expect(found[i]!.y).toBeGreaterThan(found[i - 1]!.y);
    expect(found[4]!.colour).toEqual([0x2e, 0xa1, 0x21]);
    expect(found[5]!.colour).toEqual([0xf5, 0x4a, 0x45]);
  });

  it('labels every row with its stage name and count (ink left of the bars and right of each bar)', () => {
    const image = decode(renderFunnelPng({ funnel: FULL, title: '转化漏斗' }));
    for (const bar of bars(image)) {
      const inkIn = (x0: number, x1: number) => {
        let ink = 0;
        for (let x = x0; x < x1; x++)
          for (let dy = -8; dy <= 8; dy++) if (!isWhite(pixel(image, x, bar.y + dy))) ink++;
        return ink;
      };
      expect(inkIn(20, CHART_LAYOUT.labelRight + 1)).toBeGreaterThan(20);
      expect(
        inkIn(CHART_LAYOUT.barLeft + bar.width + 4, CHART_LAYOUT.barLeft + bar.width + 40),
      ).toBeGreaterThan(10);
    }
  });

  it('gives the same bytes for the same input, and different bytes for different input', () => {
    const a = renderFunnelPng({ funnel: FULL, title: '转化漏斗' });
    const b = renderFunnelPng({ funnel: FULL.map((s) => ({ ...s })), title: '转化漏斗' });
    expect(a.equals(b)).toBe(true);
    const c = renderFunnelPng({ funnel: funnel({ new: 400, contacted: 201 }), title: '转化漏斗' });
    expect(a.equals(c)).toBe(false);
  });

  it('draws an empty funnel with no bars, and no stages at all', () => {
    const zero = funnel({ new: 0, contacted: 0, qualified: 0, opportunity: 0, won: 0, lost: 0, nurture: 0 });
    for (const f of [zero, []]) {
      const image = decode(renderFunnelPng({ funnel: f, title: '转化漏斗' }));
      expect(bars(image)).toEqual([]);
      expect([image.width, image.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    }
  });

  it('shows a tiny count as a visible bar next to a huge one', () => {
    const found = bars(
      decode(renderFunnelPng({ funnel: funnel({ new: 1_000_000, contacted: 1 }), title: '转化漏斗' })),
    );
    expect(found.map((b) => b.width)).toEqual([CHART_LAYOUT.barMaxWidth, 2]);
  });

  it('keeps counts in the millions inside the picture', () => {
    const huge = funnel({ new: 12_345_678, contacted: 12_000_000, won: 3 });
    const image = decode(renderFunnelPng({ funnel: huge, title: '转化漏斗' }));
    expect(bars(image).map((b) => b.width)).toEqual([CHART_LAYOUT.barMaxWidth, 437, 2]);
    // A longest bar whose count and share do not fit after it carries them inside, in white.
    const inside = decode(
      renderFunnelPng({ funnel: funnel({ new: 10, contacted: 99_999_999 }), title: '转化漏斗' }),
    );
    for (const picture of [image, inside]) {
      for (let x = CHART_WIDTH - 8; x < CHART_WIDTH; x++) {
        for (let y = 0; y < CHART_HEIGHT; y++) expect(isWhite(pixel(picture, x, y))).toBe(true);
      }
    }
    const longest = bars(inside)[1]!;
    expect(pixel(inside, CHART_LAYOUT.barLeft + CHART_LAYOUT.barMaxWidth - 1, longest.y - 10)).toEqual(
      longest.colour,
    );
    let white = 0;
    for (let x = CHART_LAYOUT.barLeft; x < CHART_LAYOUT.barLeft + CHART_LAYOUT.barMaxWidth; x++) {
      if (isWhite(pixel(inside, x, longest.y))) white++;
    }
    expect(white).toBeGreaterThan(10);
  });

  it('leaves out title characters it has no glyph for, and cuts a long title', () => {
    const known = renderFunnelPng({ funnel: FULL, title: '转化漏斗' });
    expect(renderFunnelPng({ funnel: FULL, title: '转化漏斗㐀𠀀' }).equals(known)).toBe(true);
    const long = decode(renderFunnelPng({ funnel: FULL, title: '转化漏斗'.repeat(40) }));
    // Nothing drawn past the right margin of the title row.
    for (let x = CHART_WIDTH - 23; x < CHART_WIDTH; x++)
      for (let y = 0; y < 60; y++) expect(isWhite(pixel(long, x, y))).toBe(true);
  });
});

describe('glyphs.json', () => {
  const styles = (glyphFile as unknown as { styles: Record<string, { glyphs: Record<string, string> }> })
    .styles;

  it('has every stage name, the title vocabulary, digits and signs in both styles', () => {
    const needed = [
      ...STAGES.map((s) => stageName(s)),
      '转化漏斗日报周报暂无数据',
      '0123456789%.,-·–（）月日周一二三四五六',
    ].join('');
    for (const style of ['label', 'title']) {
      for (const ch of needed) expect(Object.hasOwn(styles[style]!.glyphs, ch)).toBe(true);
    }
    expect(measure('label', '已确认需求')).toBeLessThanOrEqual(CHART_LAYOUT.labelRight - 24);
  });

  it('names the font and its licence', () => {
    const file = glyphFile as unknown as { font: string; license: string };
    expect(file.font).toContain('Noto Sans CJK SC');
    expect(file.license).toContain('SIL Open Font License 1.1');
  });
});
