import http from 'node:http';

/**
 * An open-loop, evenly paced HTTP sender: request i leaves at start + i / rate, whether or not earlier
 * ones have been answered, over keep-alive sockets. Unlike autocannon's `overallRate` (each connection
 * sends its share of a second back to back at the top of the second, see bench/RESULTS.md), arrivals
 * are spread evenly, as WeCom's callbacks or a busy web form's submissions arrive. Every attempt is
 * kept with its send and answer times, so a benchmark can look at any window (e.g. while a table is
 * locked) and tie an answer to what happened after it (e.g. a card reaching the emulator).
 */
export interface PacedItem<T> {
  path: string;
  body: string;
  /** Whatever the benchmark needs to recognise the answer (a MsgId, a lead counter). */
  tag: T;
}

export interface PacedAttempt<T> {
  item: PacedItem<T>;
  /** 1 for the first send, 2… for retries. */
  attempt: number;
  /** When the schedule wanted the first attempt to leave (performance.now() ms). */
  scheduledAt: number;
  /** When this attempt was handed to the socket (performance.now() ms). */
  sentAt: number;
  /** When its answer had fully arrived, or the error happened (performance.now() ms). */
  answeredAt: number;
  /** Wall clock (Date.now()) of `answeredAt`, to compare with timestamps taken by another component. */
  answeredWallMs: number;
  /** HTTP status, or null on a connection error or timeout. */
  status: number | null;
  error: string | null;
  body: string;
}

export interface PacedSpec<T> {
  /** Origin, e.g. http://127.0.0.1:1234 (the path comes with each item). */
  url: string;
  rate: number;
  durationSeconds: number;
  headers: Record<string, string>;
  /** Sockets kept open at most (default 512); beyond that requests wait in the agent's queue. */
  maxSockets?: number;
  /** Per-attempt deadline (default 10 s), an error `timeout` past it. */
  timeoutMs?: number;
  /** Builds the i-th item (called when it is due, so keep it cheap). */
  next(index: number): PacedItem<T>;
  /**
   * Whether to send an item again after an attempt (the platforms' retries): the delay in ms, or null.
   * Every attempt is recorded either way.
   */
  retryAfter?(attempt: PacedAttempt<T>): number | null;
}

export interface PacedRun<T> {
  attempts: PacedAttempt<T>[];
  /** Items scheduled (first attempts). */
  items: number;
  /** Offered rate actually achieved: items ÷ (last scheduled send − first). */
  offeredRate: number;
  /** How late the sender's timer was against the schedule (ms): p99 and max. */
  lagP99: number;
  lagMax: number;
  /** performance.now() at the first scheduled send and when the last answer arrived. */
  startedAt: number;
  finishedAt: number;
}

export async function runPaced<T>(spec: PacedSpec<T>): Promise<PacedRun<T>> {
  const target = new URL(spec.url);
  // Free sockets are closed after 4 s, before the server's 5 s keep-alive timeout can close one under
  // a request being written to it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.maxSockets ?? 512, timeout: 4000 });
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const attempts: PacedAttempt<T>[] = [];
  const lags: number[] = [];
  const pending = new Set<Promise<void>>();
  const interval = 1000 / spec.rate;
  const total = Math.max(1, Math.round(spec.rate * spec.durationSeconds));

  const track = (task: Promise<void>) => {
    pending.add(task);
    void task.finally(() => pending.delete(task));
  };

  const send = (item: PacedItem<T>, attempt: number, scheduledAt: number): void => {
    const task = new Promise<void>((resolve) => {
      const sentAt = performance.now();
      let done = false;
      const finish = (status: number | null, error: string | null, body: string) => {
        if (done) return;
        done = true;
        const record: PacedAttempt<T> = {
          item,
          attempt,
          scheduledAt,
          sentAt,
          answeredAt: performance.now(),
          answeredWallMs: Date.now(),
          status,
          error,
          body,
        };
        attempts.push(record);
        const delay = spec.retryAfter?.(record) ?? null;
        if (delay !== null) {
          // Tracked until the retry has been sent (which tracks itself), so the run waits for it.
          track(
            new Promise<void>((sent) =>
              setTimeout(() => {
                send(item, attempt + 1, scheduledAt);
                sent();
              }, delay),
            ),
          );
        }
        resolve();
      };
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: item.path,
          headers: { ...spec.headers, 'content-length': Buffer.byteLength(item.body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            finish(response.statusCode ?? null, null, Buffer.concat(chunks).toString('utf8')),
          );
          response.on('error', (error) => finish(null, error.message, ''));
        },
      );
      request.setTimeout(timeoutMs, () => {
        finish(null, 'timeout', '');
        request.destroy();
      });
      request.on('error', (error: NodeJS.ErrnoException) => finish(null, error.code ?? error.message, ''));
      request.end(item.body);
    });
    track(task);
  };

  const startedAt = performance.now();
  let index = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (index < total && startedAt + index * interval <= now) {
        const scheduledAt = startedAt + index * interval;
        lags.push(now - scheduledAt);
        send(spec.next(index), 1, scheduledAt);
        index++;
      }
      if (index >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, startedAt + index * interval - performance.now()));
    };
    tick();
  });
  const lastScheduled = startedAt + (total - 1) * interval;
  // Retries add to `pending` while earlier sends settle: wait until nothing is left.
  while (pending.size > 0) await Promise.all([...pending]);
  agent.destroy();
  lags.sort((a, b) => a - b);
  return {
    attempts,
    items: total,
    offeredRate: total > 1 ? ((total - 1) * 1000) / (lastScheduled - startedAt) : spec.rate,
    lagP99: lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))] ?? 0,
    lagMax: lags[lags.length - 1] ?? 0,
    startedAt,
    finishedAt: performance.now(),
  };
}
