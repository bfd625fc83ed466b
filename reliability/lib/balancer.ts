import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  name: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** False while the supervisor knows the process is down (killed, restarting): skipped. */
  up: boolean;
}

export interface BalancerCounters {
  requests: number;
  /** A backend refused the connection and the request went to the next one (nothing was sent). */
  failedOver: number;
  /** The backend took the request and then failed (reset, timeout): answered 502/504. */
  badGateway: number;
}

/**
 * A round-robin reverse proxy in front of the LeadRelay instances, as a load balancer in production:
 * backends the supervisor marks down are skipped; a refused connection goes to the next backend
 * (nothing reached the first one, so that is safe for any request); a backend that takes a request
 * and then dies or hangs gets the client a 502/504, and the client retries (WeCom does; the lead
 * sources here retry with the same Idempotency-Key). It does not know about paused (SIGSTOP) backends.
 */
export async function startBalancer(
  backends: Backend[],
  options: { timeoutMs: number },
): Promise<{ url: string; counters: BalancerCounters; close(): Promise<void> }> {
  const counters: BalancerCounters = { requests: 0, failedOver: 0, badGateway: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });
  let next = 0;

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
    tried: Set<Backend>,
  ): void => {
    const candidates = backends.filter((b) => b.up && !tried.has(b));
    const pool = candidates.length > 0 ? candidates : backends.filter((b) => !tried.has(b));
    if (pool.length === 0) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('no backend');
      return;
    }
    const backend = pool[next++ % pool.length]!;
    tried.add(backend);
    const target = new URL(req.url ?? '/', backend.url);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers.connection;
    let connected = false;
    const upstream = http.request(
      target,
      { method: req.method, headers, agent, timeout: options.timeoutMs },
      (answer) => {
        const out: http.OutgoingHttpHeaders = { ...answer.headers };
        delete out.connection;
        delete out['keep-alive'];
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!connected && error.code === 'ECONNREFUSED') {
        counters.failedOver++;
        forward(req, body, res, tried);
        return;
      }
      counters.badGateway++;
      const status = error.message === 'upstream timeout' ? 504 : 502;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`${backend.name}: ${error.code ?? error.message}`);
    });
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    counters.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, Buffer.concat(chunks), res, new Set()));
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
