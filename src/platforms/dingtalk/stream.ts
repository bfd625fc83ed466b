/**
 * Stream mode (`DINGTALK_MODE=stream`): instead of DingTalk calling our public URL, we open a
 * WebSocket to DingTalk with the official `dingtalk-stream` package and receive robot messages
 * (`/v1.0/im/bot/messages/get`) and card clicks (`/v1.0/card/instances/callback`) as frames. Each
 * frame is verified by nothing but the connection itself (opened with our app key and secret), parsed
 * with the same schemas as the HTTP callbacks (events.ts), stored in the same inbox, and acknowledged
 * only once stored: an unacknowledged frame is pushed again (within 60 s), and the inbox key drops the
 * second copy, so a dropped socket neither loses nor duplicates a click.
 *
 * What `dingtalk-stream` 2.1.5 does not let us configure, and how this subclass handles it:
 * - the gateway URL is a module constant (`GATEWAY_URL`, https://api.dingtalk.com/v1.0/gateway/
 *   connections/open) used directly by `getEndpoint()`; the `endpoint` option is overwritten with the
 *   gateway's answer, not read. `getEndpoint()` is overridden to call `${DINGTALK_API_BASE}` instead
 *   (same request: clientId, clientSecret, ua, subscriptions; same `{endpoint, ticket}` answer), which
 *   is what lets tests and the demo point it at the emulator;
 * - a failed connect schedules a reconnect twice (its `error` handler rejects, which `connect()`
 *   retries, and terminates the socket, whose `close` handler reconnects too), so connections could
 *   multiply; `connect()` is made single-flight and does nothing while connected or stopped, and
 *   `disconnect()` sets our own stop flag (its private one is reset by a pending reconnect);
 * - its default subscriptions list is one array shared by every client in the process (and includes
 *   every EVENT topic); each client gets its own list with just our two callback topics;
 * - its `keepAlive` heartbeat starts a new interval on every reconnect without stopping the old ones
 *   (they pile up, terminate healthy sockets and outlive `disconnect()`), so it stays off and this
 *   class runs one heartbeat of its own: a ping every 8 s, and a socket that has not answered the
 *   previous ping is terminated (which makes the package reconnect).
 * The package still logs its own connect/disconnect lines with console.info/warn.
 */
import axios from 'axios';
import { DWClient, type DWClientDownStream, TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import type WebSocket from 'ws';
import type { DingtalkSettings } from '../../config/env';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { InboundEvent } from '../types';
import { cardCallbackEvent, cardCallbackSchema, robotMessageEvent, robotMessageSchema } from './events';

export { TOPIC_CARD, TOPIC_ROBOT };

const HEARTBEAT_MS = 8000;

class GatewayStreamClient extends DWClient {
  private stopped = false;
  private connecting = false;
  private alive = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    opts: { clientId: string; clientSecret: string },
    private readonly gatewayUrl: string,
    private readonly logger: Logger,
  ) {
    super({ ...opts, keepAlive: false });
    this.config.subscriptions = [];
  }

  /** The package's private socket (no accessor), for the heartbeat only. */
  private currentSocket(): WebSocket | undefined {
    return (this as unknown as { socket?: WebSocket }).socket;
  }

  override async _connect(): Promise<void> {
    await super._connect();
    const socket = this.currentSocket();
    this.alive = true;
    socket?.on('pong', () => {
      this.alive = true;
    });
    this.heartbeatTimer ??= setInterval(() => {
      const current = this.currentSocket();
      if (!current || current.readyState !== current.OPEN) return;
      if (!this.alive) {
        this.logger.warn('dingtalk stream: no pong within the heartbeat, reconnecting');
        current.terminate();
        return;
      }
      this.alive = false;
      current.ping();
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  override async getEndpoint(): Promise<this> {
    const res = await axios.post(
      this.gatewayUrl,
      {
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: 'leadrelay',
        subscriptions: this.config.subscriptions,
      },
      { headers: { Accept: 'application/json' }, timeout: 10_000, proxy: false, maxRedirects: 0 },
    );
    const { endpoint, ticket } = (res.data ?? {}) as { endpoint?: unknown; ticket?: unknown };
    if (typeof endpoint !== 'string' || typeof ticket !== 'string' || !endpoint || !ticket) {
      throw new Error('dingtalk stream: the gateway answered no endpoint or ticket');
    }
    // The package connects to this private field; it has no setter.
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${encodeURIComponent(ticket)}`;
    return this;
  }

  override async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.connected) return;
    this.connecting = true;
    try {
      await super.connect();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'dingtalk stream: connect failed');
    } finally {
      this.connecting = false;
    }
  }

  override disconnect(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    super.disconnect();
  }
}

export interface DingtalkStream {
  start(): Promise<void>;
  stop(): void;
  readonly connected: boolean;
}

export function createDingtalkStream(deps: {
  settings: Pick<DingtalkSettings, 'appKey' | 'appSecret' | 'robotCode' | 'apiBase'>;
  clock: Clock;
  logger: Logger;
  accept(event: InboundEvent, appId: string): Promise<'accepted' | 'duplicate'>;
}): DingtalkStream {
  const { settings, logger } = deps;
  const gateway = `${settings.apiBase.replace(/\/+$/, '')}/v1.0/gateway/connections/open`;
  const client = new GatewayStreamClient(
    { clientId: settings.appKey, clientSecret: settings.appSecret },
    gateway,
    logger,
  );

  /** Parses, stores, then acknowledges; a frame that cannot be stored stays unacknowledged (re-pushed). */
  async function onFrame(frame: DWClientDownStream, toEvent: (data: unknown) => InboundEvent | undefined) {
    const messageId = frame.headers?.messageId;
    let data: unknown;
    try {
      data = JSON.parse(frame.data);
    } catch {
      data = undefined;
    }
    const event = toEvent(data);
    if (!event) {
      // Never going to parse: acknowledge, or DingTalk pushes it again forever.
      logger.warn({ topic: frame.headers?.topic }, 'dingtalk stream: unreadable frame acknowledged');
      if (messageId) client.socketCallBackResponse(messageId, {});
      return;
    }
    try {
      const stored = await deps.accept(event, settings.appKey);
      logger.debug(
        { eventKind: event.kind, eventId: event.eventId, stored },
        'dingtalk stream frame accepted',
      );
      if (messageId) client.socketCallBackResponse(messageId, {});
    } catch (error) {
      logger.error(
        { err: error, eventKind: event.kind },
        'dingtalk stream: inbox store failed; frame left for re-push',
      );
    }
  }

  client.registerCallbackListener(TOPIC_ROBOT, (frame) => {
    void onFrame(frame, (data) => {
      const message = robotMessageSchema.safeParse(data);
      return message.success ? robotMessageEvent(message.data, settings.robotCode) : undefined;
    });
  });
  client.registerCallbackListener(TOPIC_CARD, (frame) => {
    void onFrame(frame, (data) => {
      const callback = cardCallbackSchema.safeParse(data);
      return callback.success ? cardCallbackEvent(callback.data, deps.clock.now()) : undefined;
    });
  });

  return {
    start: () => client.connect(),
    stop: () => client.disconnect(),
    get connected() {
      return client.connected;
    },
  };
}
