import { sql } from 'drizzle-orm';
import { runBatch } from '../src/db/batch';
import { createDatabase } from '../src/db/client';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { explainDueQuery } from '../src/timers/explain-due-query';
import { dueTimersQuery } from '../src/timers/claim-due-timers';
import { scheduleTimersStatement } from '../src/timers/schedule';
import mysql from 'mysql2/promise';

async function main() {
  const server = 'mysql://root@127.0.0.1:3306/';
  const name = 'lrexp_timers_explain';
  const c = await mysql.createConnection({ uri: server });
  await c.query(`DROP DATABASE IF EXISTS ${name}`);
  await c.end();
  await ensureDatabase(server, name);
  const d = createDatabase(server + name, { poolSize: 2 });
  await runMigrations(d.db, d.pool);
  const total = Number(process.argv[2] ?? 100000);
  const specs = Array.from({ length: total }, (_, i) => i % 10 === 0
    ? { effectKey: `a:${i}`, kind: 'k', dueAt: { inMs: -1 - (i % 5000) } }
    : { effectKey: `f:${i}`, kind: 'k', dueAt: { inMs: 3_600_000 + i * 800 } });
  const st = [];
  for (let i = 0; i < specs.length; i += 2000) st.push(scheduleTimersStatement(specs.slice(i, i + 2000)));
  for (let i = 0; i < st.length; i += 5) await runBatch(d.batchPool, st.slice(i, i + 5));
  await d.pool.query("UPDATE timers SET status='firing', lease_until = NOW(3) + INTERVAL 30 SECOND WHERE effect_key LIKE 'f:1%'");
  const variants: Record<string, string> = {
    expiredOrder: "SELECT * FROM timers WHERE status = 'firing' AND lease_until <= NOW(3) ORDER BY lease_until LIMIT 16 FOR UPDATE SKIP LOCKED",
    expiredNoOrder: "SELECT * FROM timers WHERE status = 'firing' AND lease_until <= NOW(3) LIMIT 16 FOR UPDATE SKIP LOCKED",
    orderDue: "SELECT * FROM timers WHERE status = 'pending' AND due_at <= NOW(3) ORDER BY due_at LIMIT 16 FOR UPDATE SKIP LOCKED",
    noOrder: "SELECT * FROM timers WHERE status = 'pending' AND due_at <= NOW(3) LIMIT 16 FOR UPDATE SKIP LOCKED",
    orderStatusDue: "SELECT * FROM timers WHERE status = 'pending' AND due_at <= NOW(3) ORDER BY status, due_at LIMIT 16 FOR UPDATE SKIP LOCKED",
    orderDueId: "SELECT * FROM timers WHERE status = 'pending' AND due_at <= NOW(3) ORDER BY due_at, id LIMIT 16 FOR UPDATE SKIP LOCKED",
    lowerBound: "SELECT * FROM timers WHERE status = 'pending' AND due_at > '1970-01-02' AND due_at <= NOW(3) ORDER BY due_at LIMIT 16 FOR UPDATE SKIP LOCKED",
    limit1000: "SELECT * FROM timers WHERE status = 'pending' AND due_at <= NOW(3) ORDER BY due_at LIMIT 1000 FOR UPDATE SKIP LOCKED",
  };
  const show = async (label: string) => {
    for (const [name, q] of Object.entries(variants)) {
      const [e] = await d.pool.query('EXPLAIN ' + q);
      const r = (e as any[])[0];
      const conn = await d.pool.getConnection();
      await conn.query('BEGIN');
      const t0 = performance.now();
      await conn.query(q);
      const ms = performance.now() - t0;
      await conn.query('COMMIT');
      conn.release();
      console.log(label.padEnd(10), name.padEnd(15), r.type, r.key, r.key_len, r.rows, r.Extra, ms.toFixed(1) + 'ms');
    }
  };
  await show('fresh');
  await d.pool.query('ANALYZE TABLE timers');
  await show('analyzed');
  await d.pool.query("UPDATE timers SET status='done' WHERE effect_key LIKE 'a:%'");
  await show('none due');
  await d.close();
  const c2 = await mysql.createConnection({ uri: server });
  await c2.query(`DROP DATABASE IF EXISTS ${name}`);
  await c2.end();
}
main();
