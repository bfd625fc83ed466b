/**
 * DingTalk's Stream gateway as the `dingtalk-stream` client sees it: `POST /v1.0/gateway/connections/
 * open` answers `{endpoint, ticket}`; the client opens a WebSocket to `endpoint?ticket=` (single use);
 * frames go down as `{specVersion, type, headers: {appId, connectionId, contentType, messageId, time,
 * topic}, data}` (data a JSON string), and the client acknowledges each with `{code: 200, headers:
 * {messageId}, message, data}`. A frame not acknowledged within `repushMs` (DingTalk: 60 s) is pushed
 * again, to whichever connection is open then. `dropConnections()` kills every socket server-side.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { DingtalkEmulatorState } from './state';
import type { DingtalkSettings, JsonObject } from './types';

export const STREAM_PATH = '/v1.0/gateway/stream';

interface PendingFrame {
  messageId: string;
  frame: string;
  topic: string;
  lastPushMs: number;
  pushes: number;
  onAck: ((ackData: string) => void) | undefined;
}

export class StreamGateway {
  private wss = new WebSocketServer({ noServer: true });
  private tickets = new Set<string>();
  private sockets = new Set<WebSocket>();
  private pending = new Map<string, PendingFrame>();
  private timer: NodeJS.Timeout | undefined;
  private baseUrl = '';
  private acksToLose = 0;

  constructor(
    private readonly state: DingtalkEmulatorState,
    private readonly settings: DingtalkSettings,
  ) {}

  /** Serves WebSocket upgrades on the emulator's HTTP server and starts the re-push loop. */
  attach(server: Server, baseUrl: string): void {
    this.baseUrl = baseUrl;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== STREAM_PATH || !this.tickets.delete(ticket)) {
        socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
    const every = Math.max(20, Math.min(1000, Math.floor(this.settings.repushMs / 4)));
    this.timer = setInterval(() => this.repush(), every);
    this.timer.unref();
  }

  open(): { endpoint: string; ticket: string } {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return { endpoint: `${this.baseUrl.replace(/^http/, 'ws')}${STREAM_PATH}`, ticket };
  }

  get connections(): number {
    return [...this.sockets].filter((s) => s.readyState === s.OPEN).length;
  }

  get unacknowledged(): number {
    return this.pending.size;
  }

  private onConnection(ws: WebSocket): void {
    this.sockets.add(ws);
    this.state.counters.stream_connections += 1;
    ws.on('message', (raw) => this.onUpstream(String(raw)));
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('error', () => this.sockets.delete(ws));
  }

  private onUpstream(raw: string): void {
    let msg: JsonObject;
    try {
      msg = JSON.parse(raw) as JsonObject;
    } catch {
      return;
    }
    const headers = (msg.headers ?? {}) as JsonObject;
    const messageId = typeof headers.messageId === 'string' ? headers.messageId : '';
    const pending = this.pending.get(messageId);
    if (!pending || msg.code !== 200) return;
    if (this.acksToLose > 0) {
      // Lost on the way: the frame stays pending and is pushed again.
      this.acksToLose -= 1;
      return;
    }
    this.pending.delete(messageId);
    this.state.counters.stream_acks += 1;
    pending.onAck?.(typeof msg.data === 'string' ? msg.data : '');
  }

  private send(p: PendingFrame): boolean {
    const open = [...this.sockets].filter((s) => s.readyState === s.OPEN);
    const socket = open.at(-1);
    if (!socket) return false;
    socket.send(p.frame);
    return true;
  }

  /** Pushes a CALLBACK frame; resolves its messageId. `onAck` runs when the client acknowledges. */
  push(topic: string, data: JsonObject, onAck?: (ackData: string) => void): string {
    const messageId = randomUUID();
    const frame = JSON.stringify({
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: {
        appId: this.settings.appKey,
        connectionId: 'emulator',
        contentType: 'application/json',
        messageId,
        time: String(this.state.nowMs()),
        topic,
      },
      data: JSON.stringify(data),
    });
    const p: PendingFrame = { messageId, frame, topic, lastPushMs: Date.now(), pushes: 1, onAck };
    this.pending.set(messageId, p);
    this.send(p);
    this.state.counters.stream_frames_pushed += 1;
    return messageId;
  }

  /** Real time, not the emulator clock: re-push is a transport timeout, like the callback deadline. */
  private repush(): void {
    const now = Date.now();
    for (const p of this.pending.values()) {
      if (now - p.lastPushMs < this.settings.repushMs) continue;
      p.lastPushMs = now;
      if (this.send(p)) {
        p.pushes += 1;
        this.state.counters.stream_frames_repushed += 1;
      }
    }
  }

  /** The next `n` acknowledgements are lost on the way (the frames will be pushed again). */
  loseNextAcks(n: number): void {
    this.acksToLose += n;
  }

  /** Kills every connection server-side (no close handshake), as a network cut would. */
  dropConnections(): void {
    for (const s of this.sockets) s.terminate();
    this.sockets.clear();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.dropConnections();
    this.wss.close();
    this.pending.clear();
  }
}
