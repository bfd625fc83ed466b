import autocannon from 'autocannon';

export interface LoadSpec {
  /** Full URL including the path. */
  url: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second over all connections (autocannon `overallRate`); unset = as fast as possible. */
  overallRate?: number;
  headers: Record<string, string>;
  /** Called before every request (autocannon `setupRequest`); `context` lives for that one request. */
  setupRequest(request: autocannon.Request, context: object): autocannon.Request;
  /** Called with every complete response, with the `context` its `setupRequest` saw. */
  onResponse(status: number, body: string, context: object): void;
}

export interface LoadFigures {
  /** Mean of autocannon's per-second samples. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  sent: number;
  completed: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  durationSeconds: number;
}

/** One autocannon run on loopback, no pipelining, POSTing whatever `setupRequest` builds. */
export async function runLoad(spec: LoadSpec): Promise<LoadFigures> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    pipelining: 1,
    timeout: 10,
    method: 'POST',
    headers: spec.headers,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (request, context) => spec.setupRequest(request, context),
        onResponse: (status, body, context) => spec.onResponse(status, body, context),
      },
    ],
  });
  const statusCounts: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCounts[code] = stats.count ?? 0;
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    sent: result.requests.sent,
    completed: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCounts,
    durationSeconds: result.duration,
  };
}
