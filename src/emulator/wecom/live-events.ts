/**
 * `GET /_emulator/api/events`: the page's live feed as Server-Sent Events. A connection first gets the
 * whole state (`snapshot`), then one event per new or changed message (`member`, `group`), the
 * counters at most every 300 ms (`stats`) and `reset`. EventSource reconnects by itself and then
 * gets a fresh snapshot, so no event ids or replay are needed.
 */
import type { Context } from 'koa';
import type { RouteDeps } from './http-util';
import type { StateChange } from './state';

const STATS_EVERY_MS = 300;
/** Proxies and browsers drop a silent connection; a comment line every 15 s keeps it open. */
const HEARTBEAT_MS = 15_000;

function frame(event: string, data: unknown): string {
  // JSON has no raw newlines, so one `data:` line carries it whole.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function handleLiveEvents(ctx: Context, { state }: RouteDeps): void {
  // Written straight to the socket (Koa stays out: a stream body would report every closed tab as
  // a premature close).
  ctx.respond = false;
  const res = ctx.res;
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  });

  let statsTimer: NodeJS.Timeout | undefined;
  const write = (chunk: string) => {
    if (!res.writableEnded && !res.destroyed) res.write(chunk);
  };
  const sendStats = () => {
    statsTimer = undefined;
    write(frame('stats', state.stats()));
  };
  const onChange = (change: StateChange) => {
    if (change.kind === 'reset') write(frame('reset', {}));
    else write(frame(change.kind, { id: change.id, message: change.message }));
    statsTimer ??= setTimeout(sendStats, STATS_EVERY_MS);
  };
  write('retry: 1000\n\n');
  write(frame('snapshot', state.snapshot()));
  const unsubscribe = state.subscribe(onChange);
  const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
  // The response, not the request: a request emits 'close' once its (empty) body is read.
  res.on('close', () => {
    clearInterval(heartbeat);
    if (statsTimer) clearTimeout(statsTimer);
    unsubscribe();
  });
}
