/**
 * Feeds the demo: every few seconds a lead from one of the org's sources, posted to the real intake
 * API with that source's key, as a web form or an ad platform would. Now and then a customer comes
 * back through another channel (a duplicate, merged into the existing lead: 撞单 prevented), or a
 * lead shows buying intent (an activity that re-scores it).
 */
import { type DemoPerson, generatePerson, leadFor, pickSource, type Random } from './lead-generator';

export interface FeederOptions {
  apiUrl: string;
  /** Source id → bearer key. */
  keys: ReadonlyMap<string, string>;
  sourceNames: ReadonlyMap<string, string>;
  intervalMs: number;
  /** Stops feeding after this many submissions (the server keeps running). */
  maxLeads: number;
  random: Random;
  log: (line: string) => void;
}

export interface Feeder {
  /** Submissions made so far. */
  readonly count: number;
  /** Stops the loop and waits for a submission in flight. */
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  body: { id?: number; status?: string; grade?: string; score?: number; message?: string; issues?: unknown };
}

async function postJson(url: string, key: string, body: unknown, idempotencyKey?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

export function startLeadFeeder(options: FeederOptions): Feeder {
  const { random, log } = options;
  const sources = [...options.keys.keys()];
  const people: Array<{ person: DemoPerson; id: number }> = [];
  let count = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const submit = async (): Promise<void> => {
    count += 1;
    const returning =
      people.length > 5 && random() < 0.07 ? people[Math.floor(random() * people.length)] : undefined;
    // Now and then a known lead reads the pricing page or asks for a demo: it is re-scored.
    if (!returning && people.length > 3 && random() < 0.08) {
      const target = people[Math.floor(random() * people.length)]!;
      const type = random() < 0.5 ? 'demo_request' : 'pricing_page_view';
      const key = options.keys.get('website') ?? options.keys.get(sources[0]!)!;
      const res = await postJson(`${options.apiUrl}/api/v1/leads/${target.id}/activities`, key, { type });
      if (res.status < 300) {
        const what = type === 'demo_request' ? '申请了演示' : '查看了价格页';
        log(
          `🔥 #${target.id} ${target.person.name} ${what}，重新评分 → ${res.body.grade} 级（${res.body.score} 分）`,
        );
      }
      return;
    }
    const source = pickSource(random, sources);
    const person = returning?.person ?? generatePerson(random);
    const body = leadFor(random, source, person, count);
    const res = await postJson(
      `${options.apiUrl}/api/v1/leads`,
      options.keys.get(source)!,
      body,
      `demo-${count}`,
    );
    const from = options.sourceNames.get(source) ?? source;
    if (res.status === 201 && res.body.id !== undefined) {
      people.push({ person, id: res.body.id });
      if (people.length > 200) people.shift();
      log(
        `＋ 新线索 #${res.body.id} ${person.name} · ${person.company} · ${from} → ${res.body.grade} 级（${res.body.score} 分）`,
      );
    } else if (res.status === 200 && res.body.status === 'merged') {
      log(`↺ ${person.name} 又从${from}来了：合并到已有线索 #${res.body.id}，通知原负责人（防撞单）`);
    } else {
      log(
        `✗ ${from} 的提交被拒（${res.status}）：${res.body.message ?? JSON.stringify(res.body.issues ?? res.body)}`,
      );
    }
  };

  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      if (stopped) return;
      inFlight = submit()
        .catch((error: unknown) => {
          if (!stopped) log(`✗ 提交线索失败：${(error as Error).message}`);
        })
        .finally(() => {
          if (stopped) return;
          if (count >= options.maxLeads) {
            log(`已生成 ${count} 条示例线索，停止生成（DEMO_MAX_LEADS）；服务继续运行。`);
            return;
          }
          // ±40% jitter, so leads do not arrive like a metronome.
          schedule(options.intervalMs * (0.6 + random() * 0.8));
        });
    }, delay);
  };
  schedule(0);

  return {
    get count() {
      return count;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
