/**
 * Acting as DingTalk members for tests and the page: write to the robot (a signed HTTP callback or a
 * Stream frame, as the robot is configured), click a card button (to the card's registered callback
 * URL or as a Stream frame, as the card was created), check the event subscription URL, cut the
 * Stream connections, inject faults, expire tokens, reset.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { getSignature, decrypt as wecomDecrypt, encrypt as wecomEncrypt } from '@wecom/crypto';
import axios from 'axios';
import type { DingtalkFaults } from './faults';
import type { DingtalkEmulatorState } from './state';
import type { StreamGateway } from './stream-gateway';
import type {
  CallbackAttempt,
  CallbackOutcome,
  DingtalkCard,
  DingtalkFault,
  DingtalkSettings,
  JsonObject,
} from './types';

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

export class DingtalkInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DingtalkInputError';
  }
}

const sign = (secret: string, timestamp: string) =>
  createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');

export interface ClickOptions {
  /** The card; when omitted, the newest card in the member's chat (or in `group`). */
  outTrackId?: string;
  /** Our action id (`claim`) or the button's text (`认领`). */
  action?: string;
  buttonText?: string;
  /** Look for the newest card in this group instead of the member's chat. */
  group?: string;
}

export class DingtalkControl {
  private aborter = new AbortController();

  constructor(
    private readonly state: DingtalkEmulatorState,
    private readonly settings: DingtalkSettings,
    private readonly faults: DingtalkFaults,
    private readonly stream: StreamGateway,
  ) {}

  close(): void {
    this.aborter.abort();
    this.aborter = new AbortController();
  }

  failNext(n: number, fault: DingtalkFault, options: { path?: string } = {}): void {
    this.faults.add(n, fault, options.path);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  expireTokens(): void {
    this.state.expireTokens();
  }

  reset(): void {
    this.faults.clear();
    this.state.reset();
  }

  setCallbackUrl(url: string | undefined): void {
    this.settings.callbackUrl = url;
  }

  setEventUrl(url: string): void {
    if (!this.settings.events) throw new DingtalkInputError(409, 'no event subscription configured');
    this.settings.events.url = url;
  }

  /** Kills every Stream connection server-side; unacknowledged frames are pushed again later. */
  dropStreamConnections(): void {
    this.stream.dropConnections();
  }

  /** The next `n` Stream acknowledgements are lost on the way: those frames will be pushed again. */
  loseNextStreamAcks(n: number): void {
    this.stream.loseNextAcks(n);
  }

  get streamConnections(): number {
    return this.stream.connections;
  }

  get unacknowledgedFrames(): number {
    return this.stream.unacknowledged;
  }

  private async post(
    url: string,
    body: string,
    headers: Record<string, string>,
    attempts = this.settings.callbackRetries,
    sign?: () => Record<string, string>,
  ): Promise<CallbackAttempt[]> {
    const done: CallbackAttempt[] = [];
    for (let n = 1; n <= attempts; n++) {
      const started = Date.now();
      try {
        const res = await axios.post<string>(url, body, {
          headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers, ...sign?.() },
          timeout: this.settings.callbackTimeoutMs,
          responseType: 'text',
          transformResponse: (d: string) => d,
          validateStatus: () => true,
          maxRedirects: 0,
          proxy: false,
          signal: this.aborter.signal,
        });
        done.push({ attempt: n, status: res.status, body: res.data, ms: Date.now() - started });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        done.push({ attempt: n, error: e.code ?? e.message ?? 'request failed', ms: Date.now() - started });
      }
      this.state.counters.callbacks_sent += 1;
      if (done.at(-1)?.status === 200) break;
      this.state.counters.callback_failures += 1;
    }
    return done;
  }

  /** Delivers over Stream (resolved once acknowledged or after `waitMs`) or over HTTP. */
  private async deliver(
    via: 'http' | 'stream',
    topic: string,
    payload: JsonObject,
    http: { url: string | undefined; secret?: string },
  ): Promise<CallbackOutcome> {
    if (via === 'stream') {
      let acked: () => void = () => undefined;
      const ack = new Promise<void>((resolve) => {
        acked = resolve;
      });
      const messageId = this.stream.push(topic, payload, () => acked());
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref());
      const ok = (await Promise.race([ack.then(() => 'acked' as const), timeout])) === 'acked';
      return { ok, via, attempts: [], payload, messageId };
    }
    if (!http.url)
      throw new DingtalkInputError(409, 'no callback URL (robot callbackUrl or registered card callback)');
    const secret = http.secret;
    const attempts = await this.post(
      http.url,
      JSON.stringify(payload),
      {},
      this.settings.callbackRetries,
      (): Record<string, string> => {
        if (!secret) return {};
        const timestamp = String(this.state.nowMs());
        return { timestamp, sign: sign(secret, timestamp) };
      },
    );
    return { ok: attempts.at(-1)?.status === 200, via, attempts, payload };
  }

  /** The member writes `content` to the robot, one-to-one or @robot in `group`. */
  async sendText(
    userId: string,
    content: string,
    options: { group?: string } = {},
  ): Promise<CallbackOutcome> {
    const member = this.state.chat(userId);
    if (!member) throw new DingtalkInputError(404, `unknown member ${userId}`);
    if (!content) throw new DingtalkInputError(400, 'content must not be empty');
    if (options.group && !this.state.groupMembers(options.group).includes(userId)) {
      throw new DingtalkInputError(404, `${userId} is not in group ${options.group}`);
    }
    const now = this.state.nowMs();
    const msgId = this.state.nextMsgId();
    const payload: JsonObject = {
      conversationId:
        options.group ?? `cid${createHmac('sha256', 'single').update(userId).digest('base64').slice(0, 22)}`,
      chatbotCorpId: 'dingemulatorcorp',
      chatbotUserId: `$:LWCP_v1:$${this.settings.robotCode}`,
      msgId,
      senderNick: member.name,
      isAdmin: false,
      senderStaffId: userId,
      sessionWebhookExpiredTime: now + 90 * 60_000,
      createAt: now,
      senderCorpId: 'dingemulatorcorp',
      conversationType: options.group ? '2' : '1',
      senderId: `$:LWCP_v1:$${userId}`,
      sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=emulator',
      robotCode: this.settings.robotCode,
      msgtype: 'text',
      text: { content: options.group ? ` ${content}` : content },
      ...(options.group
        ? { isInAtList: true, conversationTitle: this.state.group(options.group)?.name }
        : {}),
    };
    const entry = { direction: 'in' as const, kind: 'text', sender: userId, text: content };
    if (options.group) this.state.appendToGroup(options.group, entry);
    else this.state.appendToMember(userId, entry);
    return this.deliver(this.settings.mode, TOPIC_ROBOT, payload, {
      url: this.settings.callbackUrl,
      secret: this.settings.appSecret,
    });
  }

  /** Delivers an earlier robot message or click again, byte for byte (a platform retry). */
  redeliver(previous: CallbackOutcome): Promise<CallbackOutcome> {
    const topic = 'msgId' in previous.payload ? TOPIC_ROBOT : TOPIC_CARD;
    if (topic === TOPIC_ROBOT) {
      return this.deliver(previous.via, topic, previous.payload, {
        url: this.settings.callbackUrl,
        secret: this.settings.appSecret,
      });
    }
    const card = this.state.cardsById.get(String(previous.payload.outTrackId));
    const registered = card?.callbackRouteKey ? this.state.callbacks.get(card.callbackRouteKey) : undefined;
    return this.deliver(previous.via, topic, previous.payload, {
      url: registered?.url,
      ...(registered && this.settings.unconfirmed.signCardCallbacks ? { secret: registered.apiSecret } : {}),
    });
  }

  findCard(userId: string, options: ClickOptions = {}): DingtalkCard | undefined {
    if (options.outTrackId) {
      const card = this.state.cardsById.get(options.outTrackId);
      if (!card) return undefined;
      const visible =
        card.space.type === 'IM_ROBOT'
          ? card.space.id === userId
          : this.state.groupMembers(card.space.id).includes(userId);
      return visible ? card : undefined;
    }
    return this.state.cards(options.group ? { group: options.group } : { userId })[0];
  }

  /** The member clicks a button of a card they can see: a card callback (回传请求). */
  async clickButton(userId: string, options: ClickOptions): Promise<CallbackOutcome> {
    if (!this.state.hasMember(userId)) throw new DingtalkInputError(404, `unknown member ${userId}`);
    const card = this.findCard(userId, options);
    if (!card) throw new DingtalkInputError(404, `no card ${options.outTrackId ?? ''} visible to ${userId}`);
    let slot: number | undefined;
    for (let i = 1; i <= 6; i++) {
      if (card.params[`button${i}Visible`] !== 'true') continue;
      const matches =
        (options.action !== undefined && card.params[`button${i}Action`] === options.action) ||
        (options.buttonText !== undefined && card.params[`button${i}Text`] === options.buttonText);
      if (matches) slot = i;
    }
    if (slot === undefined) {
      throw new DingtalkInputError(
        409,
        `card ${card.outTrackId} has no visible button ${options.action ?? options.buttonText}`,
      );
    }
    const content = JSON.stringify({
      cardPrivateData: {
        actionIds: [`button${slot}`],
        params: { action: card.params[`button${slot}Action`] },
      },
    });
    const payload: JsonObject = {
      extension: '{}',
      corpId: 'dingemulatorcorp',
      spaceType: card.space.type,
      userIdType: 1,
      type: 'actionCallback',
      userId,
      content,
      spaceId: card.space.id,
      outTrackId: card.outTrackId,
      value: content,
    };
    const entry = {
      direction: 'in' as const,
      kind: 'click',
      sender: userId,
      outTrackId: card.outTrackId,
      text: card.params[`button${slot}Text`],
    };
    if (card.space.type === 'IM_ROBOT') this.state.appendToMember(userId, entry);
    else this.state.appendToGroup(card.space.id, entry);
    if (card.callbackType === 'STREAM')
      return this.deliver('stream', TOPIC_CARD, payload, { url: undefined });
    const registered = card.callbackRouteKey ? this.state.callbacks.get(card.callbackRouteKey) : undefined;
    if (!registered)
      throw new DingtalkInputError(409, `callbackRouteKey ${card.callbackRouteKey} is not registered`);
    return this.deliver('http', TOPIC_CARD, payload, {
      url: registered.url,
      ...(this.settings.unconfirmed.signCardCallbacks ? { secret: registered.apiSecret } : {}),
    });
  }

  /**
   * An event subscription delivery (check_url when `eventType` is omitted): encrypted with the
   * aes_key and the app key as receive id, signed, answered within the deadline with the encrypted
   * `success` — checked here as DingTalk would.
   */
  async sendEvent(eventType = 'check_url', fields: JsonObject = {}) {
    const events = this.settings.events;
    if (!events?.url) throw new DingtalkInputError(409, 'no event subscription URL');
    const plaintext = JSON.stringify({ EventType: eventType, TimeStamp: this.state.nowMs(), ...fields });
    const encrypted = wecomEncrypt(events.aesKey, plaintext, this.settings.appKey);
    const timestamp = String(this.state.nowMs());
    const nonce = randomBytes(6).toString('hex');
    const signature = getSignature(events.token, timestamp, nonce, encrypted);
    const url = new URL(events.url);
    url.searchParams.set('msg_signature', signature);
    url.searchParams.set('signature', signature);
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', nonce);
    const [attempt] = await this.post(url.toString(), JSON.stringify({ encrypt: encrypted }), {}, 1);
    let success = false;
    try {
      const answer = JSON.parse(attempt?.body ?? '') as Record<string, string>;
      const expected = getSignature(
        events.token,
        answer.timeStamp ?? '',
        answer.nonce ?? '',
        answer.encrypt ?? '',
      );
      const plain = wecomDecrypt(events.aesKey, answer.encrypt ?? '');
      success =
        expected === answer.msg_signature && plain.message === 'success' && plain.id === this.settings.appKey;
    } catch {
      success = false;
    }
    const inTime = (attempt?.ms ?? Number.POSITIVE_INFINITY) <= 1500;
    return { ok: attempt?.status === 200 && success && inTime, success, inTime, attempt, plaintext };
  }
}
