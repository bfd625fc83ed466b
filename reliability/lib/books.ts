import type mysql from 'mysql2/promise';
import type { OrgConfig } from '../../src/config/org-types';
import type { IntakeLedger } from './intake-driver';
import type { MemberLedger } from './members';

/**
 * The books of a chaos run, checked once everything has drained.
 *
 * "Intended notification" = a row of `outbox`. A row is written in the same transaction as the change
 * that implies it (a lead assigned, an SLA rung passed, a note answered, a digest run recorded), under
 * a deterministic unique key, and never otherwise; so the rows are exactly the messages the committed
 * changes intend, once each. The books then check both ends of that:
 *
 * - upstream, that the committed changes have their rows: every text LeadRelay acknowledged has its
 *   reply row, every digest run its text and chart rows, every escalation event its card row; every
 *   timer fired or was cancelled (none failed, none left due); no inbox event failed or was left;
 * - downstream, that each row reached the emulator exactly once: the multiset of what the emulator
 *   delivered (per member chat, per group robot) equals the multiset of sent rows, matched on
 *   recipient + message type + content (a template card by its unique task_id); card updates by
 *   the emulator's count of applied updates. A row still pending, dead, or maybe_sent without its
 *   delivery is a loss; an extra delivery is a duplicate.
 */
export interface Books {
  leadsAccepted: number;
  leadsStored: number;
  /** Stored leads whose submission never got an answer (allowed: the answer was lost, not the lead). */
  storedUnanswered: number;
  notificationsIntended: number;
  notificationsDelivered: number;
  cardUpdatesApplied: number;
  maybeSent: number;
  /** maybe_sent rows (surfaced as possibly delivered) that the emulator did deliver, once. */
  maybeSentDelivered: number;
  escalations: number;
  digests: { team: string; kind: string; periodKey: string; late: number }[];
  inboxEvents: number;
  outboxByStatus: Record<string, number>;
  timersByStatus: Record<string, number>;
  emulatorStats: Record<string, number>;
  duplicates: string[];
  losses: string[];
  violations: string[];
}

interface EmulatorSnapshot {
  members: { userid: string; messages: EmulatorChatMessage[] }[];
  groups: { key: string; messages: { msgtype: string; body: Record<string, unknown> }[] }[];
  stats: Record<string, number>;
}

interface EmulatorChatMessage {
  direction: 'in' | 'out';
  msgtype: string;
  msgid?: string;
  text?: string;
  markdown?: string;
  card?: { taskId?: string };
}

type Row = mysql.RowDataPacket;

const list = (items: string[], max = 8) =>
  items.length <= max ? items.join('; ') : `${items.slice(0, max).join('; ')}; … (${items.length} in all)`;

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** What the emulator shows for one delivered app message. */
function chatFingerprint(userid: string, m: EmulatorChatMessage): string {
  const content = m.card?.taskId ?? m.text ?? m.markdown ?? '';
  return `${userid}|${m.msgtype}|${content}`;
}

/** What a frozen message/send body will show in each recipient's chat. */
function sendFingerprints(body: Record<string, unknown>): string[] {
  const msgtype = String(body.msgtype);
  const part = body[msgtype] as Record<string, unknown> | undefined;
  const content = msgtype === 'template_card' ? String(part?.task_id) : String(part?.content ?? '');
  return String(body.touser ?? '')
    .split('|')
    .filter(Boolean)
    .map((u) => `${u}|${msgtype}|${content}`);
}

function groupFingerprint(key: string, msgtype: string, part: Record<string, unknown>): string {
  const content = msgtype === 'image' ? String(part.md5) : String(part.content ?? '');
  return `${key}|${msgtype}|${content}`;
}

export async function checkBooks(input: {
  pool: mysql.Pool;
  emulatorControl: string;
  org: OrgConfig;
  intake: IntakeLedger;
  members: MemberLedger;
}): Promise<Books> {
  const { pool } = input;
  const duplicates: string[] = [];
  const losses: string[] = [];
  const violations: string[] = [];
  const query = async (sql: string, params: unknown[] = []) => (await pool.query<Row[]>(sql, params))[0];
  const byStatus = async (table: string) =>
    Object.fromEntries(
      (await query(`SELECT status, COUNT(*) AS n FROM ${table} GROUP BY status`)).map((r) => [
        String(r.status),
        Number(r.n),
      ]),
    );

  // --- leads: every accepted phone stored exactly once, under the id the API answered -------------
  const stored = new Map<string, number[]>();
  for (const r of await query('SELECT id, phone FROM leads WHERE phone IS NOT NULL')) {
    const phone = String(r.phone).replace(/^\+86/, '');
    stored.set(phone, [...(stored.get(phone) ?? []), Number(r.id)]);
  }
  for (const [phone, ids] of stored) {
    if (ids.length > 1)
      duplicates.push(`lead for ${phone} stored ${ids.length} times (ids ${ids.join(',')})`);
  }
  for (const [phone, answered] of input.intake.accepted) {
    const ids = stored.get(phone) ?? [];
    if (ids.length === 0) losses.push(`accepted lead ${phone} (id ${[...answered].join(',')}) not stored`);
    for (const id of answered) {
      if (ids.length > 0 && !ids.includes(id))
        losses.push(`accepted lead ${phone}: answered id ${id} not stored`);
    }
  }
  const storedUnanswered = [...stored.keys()].filter((p) => !input.intake.accepted.has(p)).length;
  violations.push(...input.intake.violations.map((v) => `intake: ${v}`));

  // --- timers: all fired or cancelled; none failed, none left due -----------------------------------
  const timersByStatus = await byStatus('timers');
  for (const r of await query(
    "SELECT effect_key, last_error FROM timers WHERE status = 'failed' ORDER BY id LIMIT 20",
  )) {
    losses.push(`timer ${r.effect_key} failed: ${String(r.last_error ?? '').slice(0, 160)}`);
  }
  const [leftDue] = await query(
    "SELECT COUNT(*) AS n FROM timers WHERE status = 'firing' OR (status = 'pending' AND due_at <= NOW(3))",
  );
  if (Number(leftDue!.n) > 0) violations.push(`${leftDue!.n} timers due but not fired after the drain`);

  // --- inbox: every acknowledged callback stored once and processed ---------------------------------
  const inbox = await query('SELECT event_id, kind, status, event, last_error FROM inbox_events');
  const inboxByEventId = new Map(inbox.map((r) => [String(r.event_id), r]));
  for (const r of inbox) {
    if (r.status === 'failed') losses.push(`inbox event ${r.kind} ${r.event_id} failed: ${r.last_error}`);
    else if (r.status !== 'done') violations.push(`inbox event ${r.event_id} still ${r.status}`);
  }
  for (const msgId of input.members.textsOk) {
    if (!inboxByEventId.has(msgId)) losses.push(`text ${msgId} answered 200 but not in the inbox`);
  }
  const clicksStored = new Set(
    inbox
      .filter((r) => r.kind === 'card_action')
      .map((r) => {
        const e = (typeof r.event === 'string' ? JSON.parse(r.event) : r.event) as Record<string, string>;
        return `${e.userId}|${Math.floor(new Date(e.at!).getTime() / 1000)}|${e.cardId}|${e.actionId}`;
      }),
  );
  for (const click of input.members.clicksOk) {
    if (!clicksStored.has(click)) losses.push(`click ${click} answered 200 but not in the inbox`);
  }

  // --- outbox rows: the intended notifications ----------------------------------------------------------
  const outboxByStatus = await byStatus('outbox');
  const rows = await query(
    'SELECT id, dedupe_key, status, rendered_api, rendered_body, rendered_target, last_error, message FROM outbox',
  );
  const keys = new Set(rows.map((r) => String(r.dedupe_key)));
  for (const r of inbox) {
    if (r.kind !== 'text' || r.status !== 'done') continue;
    const prefix = `reply:wecom:${r.event_id}`;
    if (![...keys].some((k) => k === prefix || k.startsWith(`${prefix}:`))) {
      losses.push(`text ${r.event_id} processed but no reply queued`);
    }
  }

  // Escalations: one event per lead, ladder and level, each with its card row.
  // An owned lead's ladders start again with each claim (claimNo) or stage version: one per those too.
  const escalationEvents = await query(
    "SELECT lead_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ladder')) AS ladder, JSON_EXTRACT(data, '$.level') AS level, " +
      "COALESCE(JSON_UNQUOTE(JSON_EXTRACT(data, '$.claimNo')), '-') AS claim_no, " +
      "JSON_UNQUOTE(JSON_EXTRACT(data, '$.to')) AS recipient, COUNT(*) AS n " +
      "FROM lead_events WHERE type = 'sla.escalated' GROUP BY 1, 2, 3, 4, 5",
  );
  const perLevel = new Map<string, number>();
  for (const e of escalationEvents) {
    bump(perLevel, `lead ${e.lead_id} ${e.ladder} L${e.level} claim ${e.claim_no}`, Number(e.n));
  }
  for (const [key, n] of perLevel) if (n > 1) duplicates.push(`escalation ${key} recorded ${n} times`);
  for (const e of escalationEvents) {
    if (e.ladder !== 'unclaimed' || e.recipient === null || e.recipient === 'null') continue;
    const key = `lead:${e.lead_id}:escalation:unclaimed:L${e.level}`;
    if (!keys.has(key)) losses.push(`escalation ${key} recorded but no card queued`);
  }

  // Digests: one run per team, kind and period, each with its text and chart.
  const digestRows = await query(
    'SELECT team_id, kind, period_key, late FROM digest_runs ORDER BY team_id, kind',
  );
  const digests = digestRows.map((r) => ({
    team: String(r.team_id),
    kind: String(r.kind),
    periodKey: String(r.period_key),
    late: Number(r.late),
  }));
  for (const team of input.org.teams) {
    if (!team.digest?.robot?.wecom) continue;
    for (const kind of ['daily', 'weekly']) {
      if (!digests.some((d) => d.team === team.id && d.kind === kind)) {
        losses.push(`no ${kind} digest for team ${team.id}`);
      }
    }
  }
  for (const d of digests) {
    for (const part of ['text', 'chart']) {
      const key = `digest:${d.team}:${d.kind}:${d.periodKey}:${part}`;
      if (!keys.has(key)) losses.push(`digest run ${key} without its outbox row`);
    }
  }

  // --- deliveries: each row delivered exactly once ------------------------------------------------------
  const robotKeyOf = new Map(
    input.org.teams.flatMap((t) => (t.digest?.robot?.wecom ? [[t.id, t.digest.robot.wecom] as const] : [])),
  );
  const expected = new Map<string, number>();
  /** Rows that may or may not have been delivered: maybe_sent. */
  const optional = new Map<string, number>();
  const rowsByFingerprint = new Map<string, string[]>();
  let updateRows = 0;
  let updateRowsMaybe = 0;
  let intended = 0;
  for (const r of rows) {
    intended++;
    const status = String(r.status);
    if (status === 'pending' || status === 'sending') {
      losses.push(`outbox ${r.dedupe_key} still ${status} after the drain`);
      continue;
    }
    if (status === 'dead') {
      losses.push(`outbox ${r.dedupe_key} dead: ${String(r.last_error ?? '').slice(0, 160)}`);
      continue;
    }
    const api = String(r.rendered_api ?? '');
    const body = JSON.parse(String(r.rendered_body)) as Record<string, unknown>;
    const target = status === 'maybe_sent' ? optional : expected;
    let fingerprints: string[] = [];
    if (api === 'message/send') fingerprints = sendFingerprints(body);
    else if (api === 'webhook/send') {
      const key = robotKeyOf.get(String(r.rendered_target)) ?? String(r.rendered_target);
      const msgtype = String(body.msgtype);
      fingerprints = [groupFingerprint(key, msgtype, body[msgtype] as Record<string, unknown>)];
    } else if (api === 'message/update_template_card') {
      if (status === 'maybe_sent') updateRowsMaybe++;
      else updateRows++;
      continue;
    } else {
      violations.push(`outbox ${r.dedupe_key}: unexpected api ${api}`);
      continue;
    }
    for (const fp of fingerprints) {
      bump(target, fp);
      rowsByFingerprint.set(fp, [...(rowsByFingerprint.get(fp) ?? []), String(r.dedupe_key)]);
    }
  }

  const snapshot = (await (await fetch(`${input.emulatorControl}/state`)).json()) as EmulatorSnapshot;
  const delivered = new Map<string, number>();
  let deliveredCount = 0;
  for (const member of snapshot.members) {
    for (const m of member.messages) {
      if (m.direction !== 'out') continue;
      bump(delivered, chatFingerprint(member.userid, m));
      deliveredCount++;
    }
  }
  for (const group of snapshot.groups) {
    for (const m of group.messages) {
      bump(delivered, groupFingerprint(group.key, m.msgtype, m.body));
      deliveredCount++;
    }
  }
  let maybeSentDelivered = 0;
  for (const fp of new Set([...expected.keys(), ...optional.keys(), ...delivered.keys()])) {
    const want = expected.get(fp) ?? 0;
    const maybe = optional.get(fp) ?? 0;
    const got = delivered.get(fp) ?? 0;
    const rowsOf = list(rowsByFingerprint.get(fp) ?? ['(no outbox row)'], 3);
    if (got > want + maybe)
      duplicates.push(`delivered ${got}× for ${want + maybe} row(s): ${rowsOf} [${fp.slice(0, 120)}]`);
    else if (got < want)
      losses.push(`delivered ${got}× for ${want} sent row(s): ${rowsOf} [${fp.slice(0, 120)}]`);
    else if (maybe > 0 && got < want + maybe) {
      losses.push(`maybe_sent row never delivered: ${rowsOf} [${fp.slice(0, 120)}]`);
    } else maybeSentDelivered += Math.max(0, got - want);
  }
  const applied = Number(snapshot.stats.cards_updated ?? 0);
  if (applied > updateRows + updateRowsMaybe) {
    duplicates.push(`${applied} card updates applied for ${updateRows + updateRowsMaybe} update rows`);
  } else if (applied < updateRows) {
    losses.push(`${applied} card updates applied for ${updateRows} sent update rows`);
  } else if (applied < updateRows + updateRowsMaybe) {
    losses.push(`${updateRows + updateRowsMaybe - applied} maybe_sent card updates never applied`);
  } else maybeSentDelivered += applied - updateRows;
  if (Number(snapshot.stats.dropped_rate_limited ?? 0) > 0) {
    losses.push(
      `${snapshot.stats.dropped_rate_limited} messages silently dropped by WeCom's per-member limit`,
    );
  }

  return {
    leadsAccepted: input.intake.accepted.size,
    leadsStored: [...stored.values()].reduce((n, ids) => n + ids.length, 0),
    storedUnanswered,
    notificationsIntended: intended,
    notificationsDelivered: deliveredCount,
    cardUpdatesApplied: applied,
    maybeSent: outboxByStatus.maybe_sent ?? 0,
    maybeSentDelivered,
    escalations: perLevel.size,
    digests,
    inboxEvents: inbox.length,
    outboxByStatus,
    timersByStatus,
    emulatorStats: snapshot.stats,
    duplicates,
    losses,
    violations,
  };
}
