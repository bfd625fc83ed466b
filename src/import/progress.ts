/**
 * Progress of a long import on stderr: a bar redrawn in place on a terminal, a plain line every few
 * seconds otherwise (a log file or CI would fill up with carriage returns).
 */
export interface ProgressState {
  rows: number;
  created: number;
  merged: number;
  rejected: number;
  bytesRead: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Clears the bar (terminal) so the summary starts on a clean line. */
  finish(): void;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function describeProgress(state: ProgressState): string {
  const rate = state.elapsedMs > 0 ? (state.rows * 1000) / state.elapsedMs : 0;
  return (
    `${fmt(state.rows)} 行（新建 ${fmt(state.created)}，合并 ${fmt(state.merged)}，拒绝 ${fmt(state.rejected)}），` +
    `${fmt(rate)} 行/秒`
  );
}

/** The share done, from the bytes read; null when the size says nothing (XLSX). */
function share(state: ProgressState): number | null {
  return state.totalBytes > 0 ? Math.min(1, state.bytesRead / state.totalBytes) : null;
}

export function createProgress(
  stream: ProgressStream,
  options: { tty?: boolean; lineEveryMs?: number; redrawEveryMs?: number } = {},
): Progress {
  const tty = options.tty ?? stream.isTTY === true;
  const lineEveryMs = options.lineEveryMs ?? 5000;
  const redrawEveryMs = options.redrawEveryMs ?? 100;
  // A terminal shows the bar at once; a log gets its first line after the first interval.
  let last = tty ? Number.NEGATIVE_INFINITY : 0;
  let drawn = false;
  return {
    update(state) {
      const every = tty ? redrawEveryMs : lineEveryMs;
      if (state.elapsedMs - last < every) return;
      last = state.elapsedMs;
      const done = share(state);
      if (tty) {
        const width = 24;
        const filled = Math.round((done ?? 0) * width);
        const bar =
          done === null
            ? ''
            : `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(done * 100).toFixed(0).padStart(3)}% `;
        stream.write(`\r\x1b[K导入 ${bar}${describeProgress(state)}`);
        drawn = true;
      } else {
        const percent = done === null ? '' : ` ${(done * 100).toFixed(0)}%`;
        stream.write(`导入进度${percent}：${describeProgress(state)}\n`);
      }
    },
    finish() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}

/** For callers that want none (tests, the benchmark's own progress). */
export const silentProgress: Progress = { update: () => undefined, finish: () => undefined };
