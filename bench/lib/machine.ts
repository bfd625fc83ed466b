import os from 'node:os';

/** The machine line every recorded result carries: CPU model × count, Node, database, load, date. */
export function machineLine(databaseVersion: string): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const database = /mariadb/i.test(databaseVersion)
    ? `MariaDB ${databaseVersion}`
    : `MySQL ${databaseVersion}`;
  return (
    `Machine: ${model} × ${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}, ${database}, load avg ${load} at start, ${new Date().toISOString()}`
  );
}
