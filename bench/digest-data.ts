import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { loadOrgConfig } from '../src/config/load-org-config';

/**
 * The data of `npm run bench -- digest`: a generated org (teams of uneven size, sources in several
 * channels) and a year of its leads with their timelines, written with multi-row INSERTs (plain SQL,
 * MySQL 8 and MariaDB alike) as fast as the server takes them.
 *
 * Each lead lives a simulated life from its creation up to `now`: the offer to a rep (a missed claim
 * window reroutes it, an unclaimed lead escalates), the claim, notes, the stage walk
 * new → contacted → qualified → opportunity → won, with exits to lost (one of the default lost
 * reasons) and nurture along the way, follow-up reminders and escalations on stalled leads, and
 * recycling of some of those. Whatever would happen after `now` does not exist yet, so the leads of
 * the last weeks are still open, as in production. The lead row is the state its timeline leads to.
 *
 * Lead ids follow creation time; event ids follow event time across all leads (events are held in
 * day buckets and written in time order once the leads of that day exist), so a lead's events are
 * spread through `lead_events` as the live system writes them, not stored side by side.
 */

export const TIME_ZONE = 'Asia/Shanghai';
const TZ_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;
const MINUTE = 60_000;
const HOUR = 3600_000;

/** Teams by share of the leads: one big team, a long tail (the biggest is what the bench measures). */
const TEAM_SHARES = [0.22, 0.16, 0.13, 0.11, 0.09, 0.08, 0.07, 0.06, 0.05, 0.03];
const TEAM_NAMES = ['华东', '华南', '华北', '西南', '华中', '西北', '东北', '港澳', '海外', '大客户'];
/** One rep per this many leads a year (about 35 new leads a rep a month), at least 3 a team. */
const LEADS_PER_REP_YEAR = 9_000;

const SOURCES: { id: string; name: string; channel: string; share: number; campaign: boolean }[] = [
  { id: 'website', name: '官网表单', channel: 'web_form', share: 0.22, campaign: false },
  { id: 'baidu', name: '百度推广', channel: 'search_ads', share: 0.2, campaign: true },
  { id: 'so360', name: '360 推广', channel: 'search_ads', share: 0.05, campaign: true },
  { id: 'douyin', name: '抖音', channel: 'social_ads', share: 0.15, campaign: true },
  { id: 'wechat_mp', name: '微信公众号', channel: 'wechat', share: 0.1, campaign: false },
  { id: 'hotline', name: '400 电话', channel: 'phone', share: 0.12, campaign: false },
  { id: 'expo', name: '展会', channel: 'trade_show', share: 0.08, campaign: false },
  { id: 'partner', name: '合作伙伴', channel: 'referral', share: 0.08, campaign: false },
];
/** Monthly spend entered per paid channel (yuan), so the channel report prorates and shares costs. */
const MONTHLY_COSTS: Record<string, number> = {
  search_ads: 600_000,
  social_ads: 300_000,
  trade_show: 150_000,
};

/** The default lost reasons (config/sections/stages.schema.json) with how often each is given. */
const LOST_REASONS: [string, number][] = [
  ['预算不符', 0.24],
  ['需求不匹配', 0.15],
  ['选择了竞品', 0.2],
  ['联系不上', 0.2],
  ['暂无需求', 0.1],
  ['价格太高', 0.08],
  ['其他', 0.03],
];
/** The default claim windows (sla policies): A 5m, B 30m, C 2h. */
const CLAIM_WINDOW: Record<string, number> = { A: 5 * MINUTE, B: 30 * MINUTE, C: 2 * HOUR };

const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN =
  '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力鹏宇浩凯晨欣怡婷雪琳佳嘉子梓轩涵然博';
const TITLES = [
  '总经理',
  '采购经理',
  '技术总监',
  'IT 负责人',
  '运营总监',
  '销售经理',
  '厂长',
  '董事长',
  '行政主管',
  '工程师',
];
const INDUSTRIES = ['制造业', '零售', '教育', '医疗', '物流', '金融', '互联网', '建筑', '餐饮', '能源'];
const REGIONS: [string, string[]][] = [
  ['上海', ['上海']],
  ['江苏', ['南京', '苏州', '无锡']],
  ['浙江', ['杭州', '宁波', '温州']],
  ['广东', ['广州', '深圳', '东莞', '佛山']],
  ['北京', ['北京']],
  ['山东', ['济南', '青岛']],
  ['四川', ['成都', '绵阳']],
  ['湖北', ['武汉', '宜昌']],
  ['陕西', ['西安']],
  ['辽宁', ['沈阳', '大连']],
];
const COMPANY_WORDS = [
  '华信',
  '中科',
  '宏达',
  '启明',
  '恒通',
  '嘉禾',
  '鼎盛',
  '博远',
  '瑞丰',
  '金桥',
  '海纳',
  '新锐',
];
const COMPANY_KINDS = ['科技', '实业', '贸易', '智能', '信息', '机械', '医药', '物流'];
const NEEDS = [
  '想了解产品报价和实施周期',
  '需要 CRM 系统，50 人左右的销售团队',
  '现有系统要替换，希望尽快演示',
  '咨询私有化部署方案',
  '需要对接企业微信和钉钉',
  '比较几家供应商，下月决定',
];
const NOTES = [
  '已电话沟通，客户有兴趣',
  '发送了报价单',
  '约了下周演示',
  '客户在比价',
  '决策人：王总',
  '时间：Q3',
];

// ---------------------------------------------------------------------------------------------------
// The org

export interface BenchTeam {
  id: string;
  name: string;
  share: number;
  reps: string[];
}

export interface BenchOrg {
  file: string;
  teams: BenchTeam[];
  reps: number;
  sources: number;
  channels: number;
  remove(): void;
}

/** The org file for `leads` leads a year: TEAM_SHARES.length teams, reps in proportion to their leads. */
export function writeDigestOrg(leads: number): BenchOrg {
  const members: Record<string, unknown>[] = [];
  const teams: BenchTeam[] = TEAM_SHARES.map((share, t) => {
    const count = Math.max(3, Math.round((share * leads) / LEADS_PER_REP_YEAR));
    const reps = Array.from({ length: count }, (_, i) => `rep_${t + 1}_${i + 1}`);
    return { id: `t${t + 1}`, name: `${TEAM_NAMES[t]}组`, share, reps };
  });
  let n = 0;
  for (const [t, team] of teams.entries()) {
    members.push({ id: `sup_${t + 1}`, name: `${TEAM_NAMES[t]}主管`, platforms: { wecom: `Sup${t + 1}` } });
    for (const rep of team.reps) {
      const name =
        SURNAMES[n % SURNAMES.length]! + GIVEN[(n * 7) % GIVEN.length]! + GIVEN[(n * 13) % GIVEN.length]!;
      members.push({ id: rep, name, platforms: { wecom: rep.replace(/_/g, 'x') } });
      n++;
    }
  }
  const org = {
    timezone: TIME_ZONE,
    members,
    teams: teams.map((team, t) => ({
      id: team.id,
      name: team.name,
      supervisor: `sup_${t + 1}`,
      members: team.reps,
    })),
    sources: SOURCES.map(({ id, name, channel }) => ({ id, name, channel })),
    scoring: {
      fit: [
        { field: 'industry', equals: '制造业', points: 40 },
        { field: 'title', contains: '总', points: 25 },
      ],
      behaviour: [],
      grades: { A: 60, B: 30 },
    },
    routing: { rules: [], fallbackTeam: 't1' },
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-bench-digest-'));
  const file = path.join(dir, 'bench-org.jsonc');
  writeFileSync(file, JSON.stringify(org, null, 2));
  // A config the server would refuse fails here, naming the problem.
  loadOrgConfig(file, {});
  return {
    file,
    teams,
    reps: teams.reduce((sum, t) => sum + t.reps.length, 0),
    sources: SOURCES.length,
    channels: new Set(SOURCES.map((s) => s.channel)).size,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Random numbers (seeded: every run generates the same data for the same size and `now`)

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** Log-normal with the given median and log-space sigma. */
  logNormal(median: number, sigma: number): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  /** An index drawn by the cumulative weights `cumulative` (ascending, last = 1). */
  weighted(cumulative: readonly number[]): number {
    const x = this.next();
    for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return i;
    return cumulative.length - 1;
  }
}

function cumulate(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => (sum += w / total));
}

// ---------------------------------------------------------------------------------------------------
// Writing: multi-row INSERTs, a few in flight on their own connections

/** `2026-11-21 08:00:00.000`: a DATETIME(3) literal in UTC (the pool's session time zone). */
function ts(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

const q = (s: string | null) => (s === null ? 'NULL' : `'${s}'`);

class BulkWriter {
  private rows: string[] = [];
  private bytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  rowsWritten = 0;
  statements = 0;

  constructor(
    private readonly pool: mysql.Pool,
    private readonly head: string,
    private readonly rowsPerStatement: number,
    private readonly maxInFlight: number,
  ) {}

  /** Adds one `(…)` tuple; resolves at once unless too many statements are waiting on the server. */
  async add(tuple: string): Promise<void> {
    this.rows.push(tuple);
    this.bytes += tuple.length;
    if (this.rows.length >= this.rowsPerStatement || this.bytes > 2_000_000) await this.send();
  }

  private async send(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.rows.length === 0) return;
    const text = `${this.head} ${this.rows.join(',')}`;
    const count = this.rows.length;
    this.rows = [];
    this.bytes = 0;
    const pending: Promise<void> = this.pool.query(text).then(
      () => {
        this.rowsWritten += count;
        this.statements++;
        this.inFlight.delete(pending);
      },
      (error: unknown) => {
        this.failure ??= error;
        this.inFlight.delete(pending);
      },
    );
    this.inFlight.add(pending);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<void> {
    await this.send();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}

// ---------------------------------------------------------------------------------------------------
// Secondary indexes: dropped for the load and built once at the end (a sort per index instead of a
// random insert per row per index), then checked against the migrated definitions.

interface IndexDefinition {
  table: string;
  name: string;
  unique: boolean;
  columns: string[];
}

async function secondaryIndexes(pool: mysql.Pool, tables: string[]): Promise<IndexDefinition[]> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, INDEX_NAME AS name, NON_UNIQUE AS non_unique, COLUMN_NAME AS col, SUB_PART AS sub
     FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?) AND INDEX_NAME <> 'PRIMARY'
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [tables],
  );
  const byName = new Map<string, IndexDefinition>();
  for (const row of rows) {
    const key = `${row.t}.${row.name}`;
    let index = byName.get(key);
    if (!index) {
      index = {
        table: String(row.t),
        name: String(row.name),
        unique: Number(row.non_unique) === 0,
        columns: [],
      };
      byName.set(key, index);
    }
    index.columns.push(row.sub === null ? `\`${row.col}\`` : `\`${row.col}\`(${Number(row.sub)})`);
  }
  return [...byName.values()];
}

function alterIndexes(indexes: IndexDefinition[], clause: (index: IndexDefinition) => string): string[] {
  const tables = [...new Set(indexes.map((i) => i.table))];
  return tables.map(
    (table) =>
      `ALTER TABLE \`${table}\` ${indexes
        .filter((i) => i.table === table)
        .map(clause)
        .join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Generation

export interface GenerateOptions {
  leads: number;
  /** Events to aim for (the simulation adds notes to reach about this many). */
  events: number;
  /** The end of the generated history (no event after it); history starts 365 days earlier. */
  now: Date;
  org: BenchOrg;
  log(message: string): void;
}

export interface Generated {
  leads: number;
  events: number;
  channelCosts: number;
  /** Wall time of generating and writing both tables (index build and ANALYZE excluded). */
  writeMs: number;
  /** Building the secondary indexes after the load. */
  indexMs: number;
  /** How many secondary indexes were dropped for the load and built after it (0: kept). */
  indexesRebuilt: number;
  analyzeMs: number;
  leadStatements: number;
  eventStatements: number;
  /** Leads by stage at `now`. */
  stages: Record<string, number>;
  /** Leads of each team (id → count). */
  teams: Record<string, number>;
  start: Date;
}

const LEAD_COLUMNS = [
  'id',
  'source_id',
  'stage',
  'team_id',
  'assignee_id',
  'assigned_at',
  'owner_id',
  'claimed_at',
  'version',
  'name',
  'phone',
  'company',
  'company_key',
  'title',
  'province',
  'city',
  'industry',
  'budget',
  'budget_text',
  'need',
  'campaign',
  'tags',
  'custom',
  'won_amount',
  'lost_reason',
  'stage_changed_at',
  'closed_at',
  'score',
  'fit_score',
  'grade',
  'created_at',
  'updated_at',
];
const EVENT_COLUMNS = ['id', 'lead_id', 'type', 'actor_type', 'actor_id', 'data', 'created_at'];

interface PendingEvent {
  t: number;
  /** The tuple after its id: `,lead_id,'type',…)`. */
  rest: string;
}

/** Local (UTC+8) hour-of-day weights for lead arrival: office hours and evenings. */
const HOUR_WEIGHTS = [
  0.15, 0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.9, 1.5, 1.6, 1.5, 0.9, 1.0, 1.5, 1.5, 1.4, 1.2, 0.9, 0.9, 0.9,
  0.7, 0.5, 0.3,
];

export async function generateDigestData(pool: mysql.Pool, options: GenerateOptions): Promise<Generated> {
  const { org, log } = options;
  const rng = new Rng(20_261_122);
  const nowMs = options.now.getTime();
  // The history starts at local midnight 365 days before today's.
  const todayLocal = Math.floor((nowMs + TZ_OFFSET_MS) / DAY_MS);
  const firstDay = todayLocal - 365;
  const startMs = firstDay * DAY_MS - TZ_OFFSET_MS;
  const days = todayLocal - firstDay + 1; // today is partial: up to `now`

  // Leads per day: growing through the year, quieter at weekends, a little noise; today up to `now`.
  const dayWeights = Array.from({ length: days }, (_, d) => {
    const weekday = (firstDay + d + 4) % 7; // 1970-01-01 was a Thursday: 0 = Sunday
    const weekend = weekday === 0 ? 0.45 : weekday === 6 ? 0.55 : 1;
    const growth = 0.75 + (0.5 * d) / days;
    const share = d === days - 1 ? (nowMs - (startMs + d * DAY_MS)) / DAY_MS : 1;
    return weekend * growth * (0.9 + 0.2 * rng.float()) * share;
  });
  const weightSum = dayWeights.reduce((a, b) => a + b, 0);
  const perDay = dayWeights.map((w) => Math.floor((options.leads * w) / weightSum));
  let short = options.leads - perDay.reduce((a, b) => a + b, 0);
  for (let d = days - 2; short > 0; d = d === 0 ? days - 2 : d - 1, short--) perDay[d]!++;

  const hourCumulative = cumulate(HOUR_WEIGHTS);
  const teamCumulative = cumulate(org.teams.map((t) => t.share));
  const sourceCumulative = cumulate(SOURCES.map((s) => s.share));
  const lostCumulative = cumulate(LOST_REASONS.map(([, w]) => w));

  // BENCH_DIGEST_INDEXES=keep writes into the migrated indexes row by row instead (to compare).
  const rebuild = process.env.BENCH_DIGEST_INDEXES !== 'keep';
  const indexes = await secondaryIndexes(pool, ['leads', 'lead_events']);
  if (rebuild)
    for (const alter of alterIndexes(indexes, (i) => `DROP INDEX \`${i.name}\``)) await pool.query(alter);

  const leadWriter = new BulkWriter(pool, `INSERT INTO leads (${LEAD_COLUMNS.join(',')}) VALUES`, 2_000, 2);
  const eventWriter = new BulkWriter(
    pool,
    `INSERT INTO lead_events (${EVENT_COLUMNS.join(',')}) VALUES`,
    5_000,
    2,
  );
  const buckets = new Map<number, PendingEvent[]>();
  let eventId = 0;
  let events = 0;
  const stages: Record<string, number> = {};
  const teamCounts: Record<string, number> = {};
  // Extra notes per lead, tuned as we go so the total lands near `options.events`.
  let extraNoteRate = 0;

  const started = performance.now();
  let leadId = 0;
  let lastLog = started;
  for (let d = 0; d < days; d++) {
    const dayStart = startMs + d * DAY_MS;
    const count = perDay[d]!;
    const times = new Float64Array(count);
    const dayEnd = Math.min(dayStart + DAY_MS, nowMs);
    for (let i = 0; i < count; i++) {
      let t: number;
      do {
        const hour = rng.weighted(hourCumulative);
        t = dayStart + hour * HOUR + rng.int(HOUR);
      } while (t >= dayEnd);
      times[i] = t;
    }
    times.sort();
    for (let i = 0; i < count; i++) {
      leadId++;
      const lead = simulateLead(rng, leadId, times[i]!, nowMs, org, {
        teamCumulative,
        sourceCumulative,
        lostCumulative,
        extraNoteRate,
      });
      stages[lead.stage] = (stages[lead.stage] ?? 0) + 1;
      teamCounts[lead.teamId] = (teamCounts[lead.teamId] ?? 0) + 1;
      for (const e of lead.events) {
        const day = Math.floor((e.t - startMs) / DAY_MS);
        let bucket = buckets.get(day);
        if (!bucket) {
          bucket = [];
          buckets.set(day, bucket);
        }
        bucket.push(e);
      }
      events += lead.events.length;
      await leadWriter.add(lead.tuple);
    }
    // Every event of day d exists now (events follow their lead's creation): write them in time order.
    const bucket = buckets.get(d);
    buckets.delete(d);
    if (bucket) {
      bucket.sort((a, b) => a.t - b.t);
      for (const e of bucket) await eventWriter.add(`(${++eventId}${e.rest}`);
    }
    // Steer the extra notes toward the target events per lead.
    const expected = (options.events * leadId) / options.leads;
    if (leadId > 1_000)
      extraNoteRate = Math.max(0, Math.min(6, extraNoteRate + (expected - events) / leadId));
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      const seconds = (lastLog - started) / 1000;
      log(
        `generated ${leadId.toLocaleString('en-US')} leads, ${eventWriter.rowsWritten.toLocaleString('en-US')} events written ` +
          `in ${seconds.toFixed(0)} s`,
      );
    }
  }
  await leadWriter.finish();
  await eventWriter.finish();
  if (buckets.size > 0) throw new Error(`events after now left unwritten in ${buckets.size} day buckets`);

  // Channel costs: one entry per paid channel and calendar month (local), as an admin enters them.
  const costs: string[] = [];
  const nowLocal = new Date(nowMs + TZ_OFFSET_MS);
  for (let back = 12; back >= 0; back--) {
    const first = Date.UTC(nowLocal.getUTCFullYear(), nowLocal.getUTCMonth() - back, 1) - TZ_OFFSET_MS;
    const next = Date.UTC(nowLocal.getUTCFullYear(), nowLocal.getUTCMonth() - back + 1, 1) - TZ_OFFSET_MS;
    for (const [channel, amount] of Object.entries(MONTHLY_COSTS)) {
      costs.push(`('${channel}','${ts(first)}','${ts(next)}',${amount},'月度投放','${ts(first)}')`);
    }
  }
  await pool.query(
    `INSERT INTO channel_costs (channel, period_start, period_end, amount, note, created_at) VALUES ${costs.join(',')}`,
  );
  // The server's lead ids continue after the generated ones (db/id-allocator.ts).
  await pool.query('UPDATE id_blocks SET next_id = GREATEST(next_id, ?) WHERE name = ?', [
    leadId + 1,
    'leads',
  ]);
  const writeMs = performance.now() - started;

  const indexStarted = performance.now();
  if (rebuild) {
    log(`building ${indexes.length} secondary indexes`);
    const add = (i: IndexDefinition) =>
      `ADD ${i.unique ? 'UNIQUE ' : ''}INDEX \`${i.name}\` (${i.columns.join(', ')})`;
    for (const alter of alterIndexes(indexes, add)) await pool.query(alter);
    const rebuilt = await secondaryIndexes(pool, ['leads', 'lead_events']);
    const text = (list: IndexDefinition[]) => JSON.stringify(list.map(add).sort());
    if (text(rebuilt) !== text(indexes)) throw new Error('the rebuilt indexes differ from the migrated ones');
  }
  const indexMs = performance.now() - indexStarted;

  const analyzeStarted = performance.now();
  await pool.query('ANALYZE TABLE leads, lead_events, channel_costs');
  const analyzeMs = performance.now() - analyzeStarted;
  return {
    leads: leadId,
    events: eventWriter.rowsWritten,
    channelCosts: costs.length,
    writeMs,
    indexMs,
    indexesRebuilt: rebuild ? indexes.length : 0,
    analyzeMs,
    leadStatements: leadWriter.statements,
    eventStatements: eventWriter.statements,
    stages,
    teams: teamCounts,
    start: new Date(startMs),
  };
}

interface SimulatedLead {
  tuple: string;
  stage: string;
  teamId: string;
  events: PendingEvent[];
}

/** One lead's life from `created` until `now`: its row and its timeline. */
function simulateLead(
  rng: Rng,
  id: number,
  created: number,
  now: number,
  org: BenchOrg,
  tables: {
    teamCumulative: number[];
    sourceCumulative: number[];
    lostCumulative: number[];
    extraNoteRate: number;
  },
): SimulatedLead {
  const team = org.teams[rng.weighted(tables.teamCumulative)]!;
  const source = SOURCES[rng.weighted(tables.sourceCumulative)]!;
  const industry = rng.pick(INDUSTRIES);
  const title = rng.pick(TITLES);
  const fit = (industry === '制造业' ? 40 : 0) + (title.includes('总') ? 25 : 0) + rng.int(30);
  const grade = fit >= 60 ? 'A' : fit >= 30 ? 'B' : 'C';
  const [province, cities] = REGIONS[(org.teams.indexOf(team) + rng.int(3)) % REGIONS.length]!;
  const city = rng.pick(cities);
  const budget = rng.chance(0.6) ? Math.round(rng.logNormal(80_000, 0.9) / 1000) * 1000 : null;

  const events: PendingEvent[] = [];
  let t = created;
  let version = 1;
  let stage = 'new';
  let stageChangedAt: number | null = created;
  let assignee: string | null = null;
  let assignedAt: number | null = null;
  let owner: string | null = null;
  let claimedAt: number | null = null;
  let wonAmount: number | null = null;
  let lostReason: string | null = null;
  let closedAt: number | null = null;
  let updated = created;
  let alive = true;
  /** Appends an event at `at` (strictly after the previous one); false (and the life ends) past `now`. */
  const emit = (at: number, type: string, actorType: string, actorId: string | null, data: string) => {
    const when = Math.max(at, t + 1);
    if (!alive || when > now) {
      alive = false;
      return false;
    }
    t = when;
    updated = when;
    events.push({ t: when, rest: `,${id},'${type}','${actorType}',${q(actorId)},'${data}','${ts(when)}')` });
    return true;
  };
  const otherRep = (not: string | null) => {
    const reps = team.reps;
    let rep = rng.pick(reps);
    if (rep === not && reps.length > 1) rep = reps[(reps.indexOf(rep) + 1) % reps.length]!;
    return rep;
  };
  const changeStage = (at: number, to: string) => {
    if (!emit(at, 'lead.stage_changed', 'member', owner, `{"from":"${stage}","to":"${to}","via":"command"}`))
      return false;
    stage = to;
    stageChangedAt = t;
    version++;
    return true;
  };

  emit(
    created,
    'lead.created',
    'source',
    source.id,
    `{"sourceId":"${source.id}","score":${fit},"grade":"${grade}"}`,
  );
  const window = CLAIM_WINDOW[grade]!;
  if (grade === 'C' && rng.chance(0.15)) {
    // Pooled (no rep free): grabbed from the pool by someone, or never.
    emit(
      created + 1_000,
      'lead.pooled',
      'system',
      null,
      `{"teamId":"${team.id}","reason":"暂无可分配的销售"}`,
    );
    if (rng.chance(0.6)) {
      const rep = otherRep(null);
      if (
        emit(
          t + rng.logNormal(40 * MINUTE, 1.2),
          'lead.claimed',
          'member',
          rep,
          '{"via":"pool","cardId":null}',
        )
      ) {
        owner = rep;
        claimedAt = t;
        version++;
      }
    }
  } else {
    // Offered to a rep; a missed claim window reroutes once; still unclaimed, the supervisor is told.
    let rep = otherRep(null);
    for (let hop = 1; hop <= 2 && alive && owner === null; hop++) {
      const offered = emit(
        t + 500 + rng.int(3_000),
        hop === 1 ? 'lead.assigned' : 'lead.rerouted',
        'system',
        null,
        `{"teamId":"${team.id}","memberId":"${rep}","reason":"轮流分配","hop":${hop}}`,
      );
      if (!offered) break;
      assignee = rep;
      assignedAt = t;
      version++;
      const offeredAt = t;
      const delay = rng.logNormal(window * 0.45, 0.6);
      if (delay <= window || hop === 2) {
        if (hop === 2 && delay > 3 * window) {
          emit(
            offeredAt + 2 * window,
            'sla.escalated',
            'system',
            null,
            `{"ladder":"unclaimed","level":1,"notify":"supervisor"}`,
          );
          if (rng.chance(0.5)) break; // never claimed
        }
        if (emit(offeredAt + delay, 'lead.claimed', 'member', rep, '{"via":"card","cardId":"c"}')) {
          owner = rep;
          claimedAt = t;
          version++;
        }
      } else {
        emit(t + window, 'sla.claim_missed', 'system', null, `{"memberId":"${rep}","hop":${hop}}`);
        rep = otherRep(rep);
      }
    }
  }

  if (owner !== null && alive) {
    // First response, then the stage walk. Each step: the chances of moving on, losing, nurturing.
    const responded = rng.chance(0.65);
    if (responded) {
      emit(
        t + rng.logNormal(25 * MINUTE, 1.3),
        'lead.note_added',
        'member',
        owner,
        `{"text":"${rng.pick(NOTES)}"}`,
      );
    }
    const steps: [string, string, number, number, number, number][] = [
      // from, to, P(to), P(lost), P(nurture), median days to the change
      ['new', 'contacted', responded ? 0.7 : 0.1, 0.05, 0.03, 0.05],
      ['contacted', 'qualified', 0.3, 0.18, 0.08, 3],
      ['qualified', 'opportunity', 0.45, 0.2, 0.05, 6],
      ['opportunity', 'won', 0.4, 0.38, 0.03, 12],
    ];
    for (const [from, to, pTo, pLost, pNurture, medianDays] of steps) {
      if (!alive || stage !== from) break;
      const at = t + rng.logNormal(medianDays * DAY_MS, 0.9);
      const x = rng.float();
      if (x < pTo) {
        if (!changeStage(at, to)) break;
        if (to === 'won') {
          wonAmount =
            Math.round(((budget ?? rng.logNormal(90_000, 0.8)) * (0.7 + 0.5 * rng.float())) / 100) * 100;
          closedAt = t;
        }
      } else if (x < pTo + pLost) {
        const reason = LOST_REASONS[rng.weighted(tables.lostCumulative)]![0];
        if (changeStage(at, 'lost')) {
          lostReason = reason;
          closedAt = t;
        }
        break;
      } else if (x < pTo + pLost + pNurture) {
        changeStage(at, 'nurture');
        break;
      } else {
        // Stalls here: the follow-up ladder reminds, then escalates; some leads are recycled.
        if (rng.chance(0.3)) {
          emit(
            t + 2 * DAY_MS,
            'sla.reminded',
            'system',
            null,
            `{"ladder":"follow_up","level":1,"notify":"rep"}`,
          );
          if (rng.chance(0.4)) {
            emit(
              t + DAY_MS,
              'sla.escalated',
              'system',
              null,
              `{"ladder":"follow_up","level":2,"notify":"supervisor"}`,
            );
          }
        }
        if (
          rng.chance(0.1) &&
          emit(t + 5 * DAY_MS, 'lead.recycled', 'system', null, `{"memberId":"${owner}","after":"7d"}`)
        ) {
          owner = null;
          version++;
        }
        break;
      }
      // Sometimes a note along the way.
      if (rng.chance(0.05))
        emit(
          t + rng.logNormal(6 * HOUR, 1),
          'lead.note_added',
          'member',
          owner,
          `{"text":"${rng.pick(NOTES)}"}`,
        );
    }
    // Extra notes over the following weeks (more for leads still being worked).
    let extra = tables.extraNoteRate * (stage === 'won' || stage === 'lost' ? 0.6 : 1.2);
    while (alive && owner !== null && extra > 0) {
      if (extra < 1 && !rng.chance(extra)) break;
      emit(
        t + rng.logNormal(2 * DAY_MS, 1),
        'lead.note_added',
        'member',
        owner,
        `{"text":"${rng.pick(NOTES)}"}`,
      );
      extra--;
    }
  }

  const name =
    SURNAMES[rng.int(SURNAMES.length)]! +
    rng.pick([...GIVEN]) +
    (rng.chance(0.6) ? rng.pick([...GIVEN]) : '');
  const phone = `1${3 + rng.int(7)}${String(rng.int(1_000_000_000)).padStart(9, '0')}`;
  const company = `${city}${rng.pick(COMPANY_WORDS)}${rng.pick(COMPANY_KINDS)}有限公司`;
  const tuple =
    `(${id},'${source.id}','${stage}','${team.id}',${q(assignee)},${assignedAt === null ? 'NULL' : `'${ts(assignedAt)}'`},` +
    `${q(owner)},${claimedAt === null ? 'NULL' : `'${ts(claimedAt)}'`},${version},'${name}','${phone}','${company}',` +
    `'${company}${rng.int(1000)}','${title}','${province}','${city}','${industry}',${budget ?? 'NULL'},` +
    `${budget === null ? 'NULL' : `'${budget / 10_000}万'`},'${rng.pick(NEEDS)}',` +
    `${source.campaign ? `'${source.id}-${(id % 12) + 1}月'` : 'NULL'},'[]','{}',${wonAmount ?? 'NULL'},` +
    `${q(lostReason)},${stageChangedAt === null ? 'NULL' : `'${ts(stageChangedAt)}'`},` +
    `${closedAt === null ? 'NULL' : `'${ts(closedAt)}'`},${fit},${fit},'${grade}','${ts(created)}','${ts(updated)}')`;
  return { tuple, stage, teamId: team.id, events };
}
