import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Backlog } from './read-backlog';

/** How an intake request ended, per source. */
export type IntakeMetricOutcome = 'created' | 'merged' | 'rejected' | 'replayed';

/** An SLA breach as the timeline records it: `sla.escalated` (per ladder) or `sla.claim_missed`. */
export interface SlaBreach {
  type: 'sla.escalated' | 'sla.claim_missed';
  ladder: string;
}

/**
 * The Prometheus metrics of one server: one registry per instance of this object, created by the
 * composition root and passed in deps (no prom-client default registry, no module state), so tests
 * and several servers in one process never share counters.
 *
 * Counters and the request histogram are updated in memory (a few hundred nanoseconds on the hot
 * path, no I/O); the backlog gauges are read from MySQL only when `/metrics` is scraped.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  countIntake(sourceId: string, outcome: IntakeMetricOutcome): void;
  countSlaBreach(breach: SlaBreach): void;
  observeRequest(request: { method: string; route: string; status: number }, seconds: number): void;
  /** The exposition text; reads the backlog (once per `cacheMs`, shared by concurrent scrapes). */
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** Reads the MySQL-backed gauges; without it they are absent (e.g. a server without a database). */
  readBacklog?: () => Promise<Backlog>;
  /** Warned about when the backlog cannot be read; the scrape still answers with the rest. */
  onBacklogError?: (error: unknown) => void;
  /** Node process metrics (CPU, memory, event loop lag, GC): on in main.ts, off in tests. */
  processMetrics?: boolean;
  /** Scrapes within this many ms share one backlog read (so a scrape storm is one query). */
  cacheMs?: number;
  /** Wall-clock milliseconds, for the cache only. */
  now: () => number;
}

/**
 * Request durations: buckets around WeCom's deadlines (the callback must be answered within 5 s, and
 * we answer 503 past 800 ms of storing) and the intake target (p99 under 100 ms).
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2.5, 5];

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'leadrelay_' });

  const intake = new Counter({
    name: 'leadrelay_intake_total',
    help: 'Intake requests from authenticated sources by outcome (created, merged, rejected = kept for replay, replayed = Idempotency-Key replay).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const breaches = new Counter({
    name: 'leadrelay_sla_breaches_total',
    help: 'SLA breaches recorded on lead timelines by this instance: sla.escalated (per ladder) and sla.claim_missed.',
    labelNames: ['type', 'ladder'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'leadrelay_http_request_duration_seconds',
    help: 'Time to answer HTTP requests by matched route (e.g. /callbacks/wecom: until WeCom gets its 200).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });

  const cacheMs = options.cacheMs ?? 5000;
  let cached: { at: number; value: Promise<Backlog | null> } | undefined;
  const backlog = (): Promise<Backlog | null> => {
    const read = options.readBacklog;
    if (!read) return Promise.resolve(null);
    const now = options.now();
    // Reused while in flight (every gauge of one scrape asks at once) and for cacheMs after.
    if (cached && now - cached.at <= cacheMs) return cached.value;
    const value = read().catch((error: unknown) => {
      options.onBacklogError?.(error);
      cached = undefined;
      return null;
    });
    cached = { at: now, value };
    return value;
  };

  if (options.readBacklog) registerBacklogGauges(registry, backlog);

  return {
    registry,
    contentType: registry.contentType,
    countIntake: (source, outcome) => intake.inc({ source, outcome }),
    countSlaBreach: (breach) => breaches.inc({ type: breach.type, ladder: breach.ladder }),
    observeRequest: (request, seconds) =>
      durations.observe(
        { method: request.method, route: request.route, status: String(request.status) },
        seconds,
      ),
    render: () => registry.metrics(),
  };
}

function registerBacklogGauges(registry: Registry, backlog: () => Promise<Backlog | null>): void {
  // On a failed read a gauge shows NaN (unknown), never a reassuring 0; leadrelay_backlog_up says why.
  const gauge = (name: string, help: string, pick: (value: Backlog) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await backlog();
        this.set(value ? pick(value) : Number.NaN);
      },
    });
  new Gauge({
    name: 'leadrelay_backlog_up',
    help: '1 when the backlog gauges could be read from MySQL at this scrape, else 0 (they show NaN).',
    registers: [registry],
    async collect() {
      this.set((await backlog()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'leadrelay_outbox_messages',
    help: 'Outbox rows by status (pending, sending, maybe_sent, dead; sent rows are not counted), read from MySQL.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const value = await backlog();
      this.reset();
      if (!value) return;
      this.set({ status: 'pending' }, value.outbox.pending);
      this.set({ status: 'sending' }, value.outbox.sending);
      this.set({ status: 'maybe_sent' }, value.outbox.maybeSent);
      this.set({ status: 'dead' }, value.outbox.dead);
    },
  });
  gauge(
    'leadrelay_outbox_oldest_pending_age_seconds',
    'Seconds since the oldest pending outbox message was written (database clock); 0 when none is pending.',
    (v) => v.outboxOldestPendingSeconds,
  );
  gauge('leadrelay_timers_due', 'Pending timers whose due time has passed.', (v) => v.timersDue);
  gauge(
    'leadrelay_timer_lag_seconds',
    'How late the most overdue pending timer is (database clock: NOW(3) - MIN(due_at)); 0 when none is due.',
    (v) => v.timerLagSeconds,
  );
  gauge(
    'leadrelay_inbox_unprocessed_events',
    'Verified callbacks stored in the inbox and not yet processed.',
    (v) => v.inboxUnprocessed,
  );
}
