import { createProgress, type ProgressState } from '../../src/import/progress';

const state = (elapsedMs: number, rows: number, bytesRead = 50, totalBytes = 100): ProgressState => ({
  rows,
  created: rows - 2,
  merged: 1,
  rejected: 1,
  bytesRead,
  totalBytes,
  elapsedMs,
});

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } };
}

describe('import progress', () => {
  it('on a terminal: one bar redrawn in place, cleared at the end', () => {
    const { written, stream } = sink(true);
    const progress = createProgress(stream);
    progress.update(state(0, 0));
    progress.update(state(50, 500)); // within the redraw interval: skipped
    progress.update(state(1000, 5000));
    progress.finish();
    expect(written).toHaveLength(3);
    expect(written[1]).toBe(
      `\r\x1b[K导入 ${'█'.repeat(12)}${'░'.repeat(12)}  50% 5,000 行（新建 4,998，合并 1，拒绝 1），5,000 行/秒`,
    );
    expect(written[2]).toBe('\r\x1b[K');
  });

  it('elsewhere: a plain line every few seconds, the first after one interval', () => {
    const { written, stream } = sink(false);
    const progress = createProgress(stream, { lineEveryMs: 5000 });
    for (let ms = 0; ms <= 12_000; ms += 500) progress.update(state(ms, ms));
    progress.finish();
    expect(written).toEqual([
      '导入进度 50%：5,000 行（新建 4,998，合并 1，拒绝 1），1,000 行/秒\n',
      '导入进度 50%：10,000 行（新建 9,998，合并 1，拒绝 1），1,000 行/秒\n',
    ]);
  });

  it('without a known size (XLSX) there is no share, only the rows', () => {
    const { written, stream } = sink(false);
    createProgress(stream, { lineEveryMs: 1 }).update(state(2000, 4000, 10, 0));
    expect(written).toEqual(['导入进度：4,000 行（新建 3,998，合并 1，拒绝 1），2,000 行/秒\n']);
  });
});
