/**
 * Fault injection for DingTalk's APIs (`/v1.0/…` and the custom robot `/robot/send`): the next n
 * calls (to one path, when given) answer an HTTP error, an errcode (custom robot style), hang and
 * drop, or are processed and then cut off without an answer (an ambiguous send).
 */
import type { Context, Next } from 'koa';
import type { DingtalkFault } from './types';

interface Queued {
  remaining: number;
  fault: DingtalkFault;
  path: string | undefined;
}

const FAULTABLE = (path: string) =>
  (path.startsWith('/v1.0/') && !path.startsWith('/v1.0/gateway/')) || path === '/robot/send';

export class DingtalkFaults {
  private queue: Queued[] = [];
  private aborter = new AbortController();

  add(n: number, fault: DingtalkFault, path?: string): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`failNext: n must be a positive integer, got ${n}`);
    this.queue.push({ remaining: n, fault, path });
  }

  clear(): void {
    this.queue = [];
  }

  close(): void {
    this.aborter.abort();
    this.aborter = new AbortController();
  }

  private take(path: string): DingtalkFault | undefined {
    const entry = this.queue.find((q) => q.path === undefined || q.path === path);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.queue.splice(this.queue.indexOf(entry), 1);
    return entry.fault;
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.aborter.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  middleware() {
    return async (ctx: Context, next: Next): Promise<void> => {
      const fault = FAULTABLE(ctx.path) ? this.take(ctx.path) : undefined;
      if (!fault) return next();
      switch (fault.kind) {
        case 'http':
          ctx.status = fault.status;
          ctx.type = 'application/json';
          ctx.body = {
            code: fault.code ?? 'ServiceUnavailable',
            message: 'injected fault',
            requestid: 'fault',
          };
          return;
        case 'errcode':
          ctx.status = 200;
          ctx.body = { errcode: fault.errcode, errmsg: 'injected fault' };
          return;
        case 'timeout':
          await this.sleep(fault.ms);
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
        case 'accept_then_drop':
          await next();
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
      }
    };
  }
}
