import type mysql from 'mysql2/promise';

/** Percentiles and the number formats the benchmark reports share. */
export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `values` (ms); all zero for an empty list. */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

export function fmtInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function fmtMs(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}

export function fmtUs(value: number | null): string {
  return value === null ? 'n/a' : `${fmtInt(value)} µs`;
}

export const mark = (ok: boolean): string => (ok ? '✓' : '✗');

/** `{"200": 5, "503": 2}` as `200 × 5, 503 × 2`. */
export function fmtCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} × ${fmtInt(n)}`).join(', ');
}

/** Server-wide counters from `SHOW GLOBAL STATUS` (another client on the same server adds to them). */
export async function globalStatus(pool: mysql.Pool, names: string[]): Promise<Map<string, number>> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SHOW GLOBAL STATUS WHERE Variable_name IN (?)', [
    names,
  ]);
  return new Map(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
}
