import { setTimeout as delay } from 'node:timers/promises';
import type { Random } from './random';

/**
 * Lead sources posting to the intake API behind the load balancer, as a well-behaved integration
 * does: every submission carries an Idempotency-Key, and one that got no answer (connection reset,
 * timeout, 502/503/504) is sent again with the same key and body until it gets one. Some people submit
 * twice (a second visit, a new key): those must merge into the first lead, never create a second.
 *
 * "Accepted" = answered 201 (created) or 200 (merged); the books then require exactly one lead per
 * accepted phone number.
 */
export interface IntakeLedger {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Answers by status (`net` = no HTTP answer). */
  statuses: Record<string, number>;
  submissions: number;
  /** Phone → the lead ids the API answered for it (201 or 200). */
  accepted: Map<string, Set<number>>;
  /** Phones whose first visit was answered 201. */
  created: number;
  merged: number;
  /** Submissions that never got an answer before the run ended (their lead may or may not exist). */
  unanswered: number;
  /** Answers that break the contract (a second visit answered 201, a 4xx, an id that changed). */
  violations: string[];
}

/** Half east (the fallback team), half west (四川, 重庆, 云南). */
const PLACES: readonly (readonly [string, string])[] = [
  ['浙江', '杭州'],
  ['四川', '成都'],
  ['江苏', '苏州'],
  ['重庆', '重庆'],
  ['上海', '上海'],
  ['云南', '昆明'],
];
const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'];

/** Grade A (制造业 + 总), B (制造业) or C (neither), about a third each. */
function leadBody(n: number, visit: number, random: Random): Record<string, unknown> {
  const [province, city] = PLACES[n % PLACES.length]!;
  const roll = random.next();
  const industry = roll < 0.7 ? '制造业' : '零售';
  const title = roll < 0.35 ? '总经理' : '采购经理';
  return {
    name: `${SURNAMES[n % SURNAMES.length]}先生${n}`,
    phone: phoneOf(n),
    company: `${city}混沌测试${n}号有限公司`,
    title,
    industry,
    province,
    city,
    need: visit > 0 ? `第 ${visit + 1} 次访问：想看演示` : 'MES 选型',
  };
}

export function phoneOf(n: number): string {
  return `139${String(n).padStart(8, '0')}`;
}

export function createIntakeDriver(options: {
  url: string;
  apiKey: string;
  random: Random;
  /** Leads per second (new people; second visits come on top). */
  rate: number;
  /** Share of submissions that are a second visit of someone already accepted. */
  repeatShare: number;
  runId: string;
}) {
  const ledger: IntakeLedger = {
    requests: 0,
    statuses: {},
    submissions: 0,
    accepted: new Map(),
    created: 0,
    merged: 0,
    unanswered: 0,
    violations: [],
  };
  const inFlight = new Set<Promise<void>>();
  let running = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  let next = 0;
  const acceptedList: number[] = [];
  /** Visits per person so far: each visit is a submission of its own, with a key of its own. */
  const visits = new Map<number, number>();

  const count = (status: string) => {
    ledger.statuses[status] = (ledger.statuses[status] ?? 0) + 1;
  };

  async function submit(n: number, visit: number): Promise<void> {
    ledger.submissions++;
    const body = JSON.stringify(leadBody(n, visit, options.random));
    const key = `${options.runId}-${n}-${visit}`;
    const phone = phoneOf(n);
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > giveUpAt) {
        ledger.unanswered++;
        return;
      }
      ledger.requests++;
      let status: number | null = null;
      let text = '';
      try {
        const res = await fetch(`${options.url}/api/v1/leads`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${options.apiKey}`,
            'idempotency-key': key,
          },
          body,
          signal: AbortSignal.timeout(8000),
        });
        status = res.status;
        text = await res.text();
      } catch {
        status = null;
      }
      count(status === null ? 'net' : String(status));
      if (status === 201 || status === 200) {
        const answer = JSON.parse(text) as { id: number; status: string };
        const ids = ledger.accepted.get(phone) ?? new Set<number>();
        if (ids.size > 0 && !ids.has(answer.id)) {
          ledger.violations.push(`${phone}: answered lead ${answer.id}, earlier ${[...ids].join(',')}`);
        }
        if (visit > 0 && status === 201) {
          ledger.violations.push(`${phone}: second visit answered 201 (a second lead) instead of a merge`);
        }
        if (visit === 0 && status === 200 && answer.status === 'merged') {
          ledger.violations.push(`${phone}: a new person was merged into lead ${answer.id}`);
        }
        ids.add(answer.id);
        if (!ledger.accepted.has(phone)) {
          ledger.accepted.set(phone, ids);
          acceptedList.push(n);
        }
        if (status === 201) ledger.created++;
        else ledger.merged++;
        return;
      }
      // 503 (shutting down, overloaded, database unreachable) and the balancer's 502/504: try again.
      const retryable =
        status === null || status === 502 || status === 503 || status === 504 || status === 500;
      if (!retryable) {
        ledger.violations.push(`${phone} (attempt ${attempt}): ${status} ${text.slice(0, 200)}`);
        return;
      }
      await delay(Math.min(5000, 300 * attempt));
    }
  }

  async function loop(): Promise<void> {
    const started = performance.now();
    let sent = 0;
    while (running) {
      const due = Math.floor(((performance.now() - started) / 1000) * options.rate);
      while (sent < due && running) {
        sent++;
        const repeat = acceptedList.length > 10 && options.random.chance(options.repeatShare);
        const n = repeat ? options.random.pick(acceptedList) : next++;
        const visit = visits.get(n) ?? 0;
        visits.set(n, visit + 1);
        const task = submit(n, visit);
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
      }
      await delay(20);
    }
  }

  let looping: Promise<void> | undefined;
  return {
    ledger,
    start() {
      running = true;
      looping = loop();
    },
    /** Stops sending new submissions and waits (up to `graceMs`) for the ones in progress to get an answer. */
    async stop(graceMs: number) {
      running = false;
      await looping;
      giveUpAt = Date.now() + graceMs;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    /** Lead numbers accepted so far (for members' commands). */
    acceptedCount: () => acceptedList.length,
  };
}
