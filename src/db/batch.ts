import { getTableColumns, getTableName } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';

/**
 * Hot transactions in one round trip. The intake of a new lead is six writes; sent one by one each
 * costs a round trip and drizzle's query building (together most of the request's CPU, measured in
 * bench/intake). Here the statements are built from cached column lists, escaped by mysql2, and sent
 * as `START TRANSACTION; …; COMMIT` on the multi-statement pool. If one fails, MySQL stops the batch
 * there; we roll back on the same connection and rethrow, so a unique-key refusal reads exactly as it
 * would in a drizzle transaction.
 */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** A value written as SQL text instead of a parameter, e.g. `NOW(3)` so the database clock decides. */
export class RawSql {
  constructor(readonly text: string) {}
}
export const DB_NOW = new RawSql('NOW(3)');

type Columns = ReturnType<typeof getTableColumns>;
const columnCache = new WeakMap<MySqlTable, { name: string; columns: Columns }>();

function describe(table: MySqlTable) {
  let cached = columnCache.get(table);
  if (!cached) {
    cached = { name: getTableName(table), columns: getTableColumns(table) };
    columnCache.set(table, cached);
  }
  return cached;
}

/**
 * `INSERT INTO t (…) VALUES (…), (…)` from objects keyed like the drizzle table (camelCase), with each
 * value mapped by its column (JSON columns stringified). Keys must be the same in every row.
 */
export function insertStatement(table: MySqlTable, rows: Record<string, unknown>[], suffix = ''): Statement {
  const { name, columns } = describe(table);
  const keys = Object.keys(rows[0]!).filter((k) => rows[0]![k] !== undefined);
  const dbNames = keys.map((k) => {
    const column = columns[k];
    if (!column) throw new Error(`${name} has no column ${k}`);
    return `\`${column.name}\``;
  });
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const slots = keys.map((k) => {
      const value = row[k];
      if (value instanceof RawSql) return value.text;
      params.push(value === null || value === undefined ? null : columns[k]!.mapToDriverValue(value));
      return '?';
    });
    return `(${slots.join(', ')})`;
  });
  return {
    sql: `INSERT INTO \`${name}\` (${dbNames.join(', ')}) VALUES ${tuples.join(', ')}${suffix}`,
    params,
  };
}

/**
 * The same INSERT as `insertStatement` with every value escaped into the SQL text at once (the
 * escaping `mysql.format` applies, by mysql2's own `escape`), for statements of thousands of rows:
 * there the placeholder pass and converting the same `now` for every row were a fifth of a bulk
 * import's CPU. Dates are converted once per Date object.
 */
export function insertSql(table: MySqlTable, rows: Record<string, unknown>[], suffix = ''): Statement {
  const { name, columns } = describe(table);
  const keys = Object.keys(rows[0]!).filter((k) => rows[0]![k] !== undefined);
  const mapped = keys.map((k) => {
    const column = columns[k];
    if (!column) throw new Error(`${name} has no column ${k}`);
    return column;
  });
  // Driver values are what `format` escapes for a `?`: strings, numbers, Buffers, null.
  const toSql = (value: unknown) => mysql.escape(value as Parameters<typeof mysql.escape>[0], false, 'Z');
  // Per column: a Date's text depends on the column's type.
  const dates = mapped.map(() => new Map<Date, string>());
  const literal = (value: unknown, i: number): string => {
    if (value instanceof RawSql) return value.text;
    if (value === null || value === undefined) return 'NULL';
    if (value instanceof Date) {
      let text = dates[i]!.get(value);
      if (text === undefined) {
        text = toSql(mapped[i]!.mapToDriverValue(value));
        dates[i]!.set(value, text);
      }
      return text;
    }
    return toSql(mapped[i]!.mapToDriverValue(value));
  };
  const tuples = rows.map((row) => `(${keys.map((k, i) => literal(row[k], i)).join(', ')})`);
  const names = mapped.map((c) => `\`${c.name}\``).join(', ');
  return { sql: `INSERT INTO \`${name}\` (${names}) VALUES ${tuples.join(', ')}${suffix}`, params: [] };
}

export async function runBatch(pool: mysql.Pool, statements: Statement[]): Promise<void> {
  // timezone 'Z': Dates are written as UTC, as the main pool does. Statements without parameters
  // (insertSql) are final text: not scanned for placeholders again.
  const body = statements
    .map((s) => (s.params.length === 0 ? s.sql : mysql.format(s.sql, s.params as never[], false, 'Z')))
    .join(';\n');
  const connection = await pool.getConnection();
  try {
    await connection.query(`START TRANSACTION;\n${body};\nCOMMIT`);
  } catch (error) {
    // The batch stopped at the failing statement with the transaction open: undo what ran.
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

/**
 * A batched transaction that reads before it writes (bulk intake): `plan` runs its queries with
 * drizzle on one batch-pool connection inside the transaction (so `FOR UPDATE` locks hold until the
 * end), then the statements it returns travel with the COMMIT in one round trip. A plan that returns
 * no statements (a dry run, nothing to write) ends in ROLLBACK. Failures roll back and rethrow, as
 * `runBatch` does.
 */
export async function runReadThenBatch<T>(
  pool: mysql.Pool,
  plan: (db: MySql2Database) => Promise<{ statements: Statement[]; result: T }>,
): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.query('START TRANSACTION');
    const { statements, result } = await plan(drizzle(connection));
    if (statements.length === 0) {
      await connection.query('ROLLBACK');
      return result;
    }
    // Statements without parameters (insertSql) are final text: not scanned for placeholders again.
    const body = statements
      .map((s) => (s.params.length === 0 ? s.sql : mysql.format(s.sql, s.params as never[], false, 'Z')))
      .join(';\n');
    await connection.query(`${body};\nCOMMIT`);
    return result;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}
