import { customType, datetime } from 'drizzle-orm/mysql-core';

/**
 * All times are UTC `DATETIME(3)` (millisecond precision). The connection runs with
 * `time_zone = '+00:00'` and mysql2 `timezone: 'Z'`, so `NOW(3)` and JS Dates agree.
 * SQL here must run on MySQL 8.0+ and MariaDB 10.6+ (no RETURNING, no vendor-only syntax).
 */
export const utc = (name: string) => datetime(name, { mode: 'date', fsp: 3 });

/**
 * JSON column that reads back as a value on both servers: MySQL sends JSON parsed by mysql2, while
 * MariaDB's JSON is a LONGTEXT alias and arrives as a string.
 */
export const json = <T>(name: string) =>
  customType<{ data: T; driverData: string | T }>({
    dataType: () => 'json',
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => (typeof value === 'string' ? (JSON.parse(value) as T) : value),
  })(name);

export const mediumText = customType<{ data: string; driverData: string }>({ dataType: () => 'mediumtext' });

/** Raw bytes: a rejected payload is kept exactly as received, even if it is not valid UTF-8. */
export const mediumBlob = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'mediumblob',
});

/**
 * Times from raw `db.execute` queries: drizzle's mysql2 driver hands DATETIME values over as
 * `YYYY-MM-DD HH:MM:SS.fff` strings, which are UTC here (session time_zone +00:00).
 */
export function parseDbTime(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
