/**
 * Fault injection for tests (RELIABILITY.md, "Faults survived"): the next n API calls (optionally only
 * those to one path) answer errcode -1, an HTTP error, hang and drop, answer late, or are processed
 * and then cut off without an answer (the ambiguous send the outbox must survive).
 */
import type { Context, Next } from 'koa';
import { readRawBody } from './http-util';
import type { Fault } from './types';

interface QueuedFault {
  remaining: number;
  fault: Fault;
  path: string | undefined;
}

export class FaultInjector {
  private queue: QueuedFault[] = [];
  private aborter = new AbortController();

  add(n: number, fault: Fault, path?: string): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`failNext: n must be a positive integer, got ${n}`);
    this.queue.push({ remaining: n, fault, path });
  }

  clear(): void {
    this.queue = [];
  }

  /** Ends every pending hold so `stop()` does not wait for them; later holds work again. */
  close(): void {
    this.aborter.abort();
    this.aborter = new AbortController();
  }

  private take(path: string): Fault | undefined {
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

  /** Koa middleware for the `/cgi-bin/` API only (the emulator's own API and page are never faulted). */
  middleware() {
    return async (ctx: Context, next: Next): Promise<void> => {
      const fault = ctx.path.startsWith('/cgi-bin/') ? this.take(ctx.path) : undefined;
      if (!fault) return next();
      switch (fault.kind) {
        case 'errcode':
          ctx.status = 200;
          ctx.body = { errcode: fault.errcode, errmsg: fault.errmsg ?? 'system busy (injected)' };
          return;
        case 'http':
          ctx.status = fault.status;
          ctx.type = 'text/html';
          ctx.body = `<html><body>${fault.status}</body></html>`;
          return;
        case 'timeout':
          await this.sleep(fault.ms);
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
        case 'delay':
          // The platform has the whole request before it stalls: a client that gives up meanwhile
          // does not stop the processing (the ambiguous case the outbox must handle).
          await readRawBody(ctx);
          await this.sleep(fault.ms);
          return next();
        case 'accept_then_drop':
          await next();
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
      }
    };
  }
}
