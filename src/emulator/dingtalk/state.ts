/**
 * Everything the DingTalk emulator remembers: tokens, chats (members' one-to-one chats with the robot,
 * group chats), card instances by outTrackId, registered card callbacks, rate-limit windows, throttled
 * custom robots and counters. One instance per emulator; time only from the injected clock.
 */
import { randomBytes } from 'node:crypto';
import type { DingtalkCard, DingtalkChatMessage, DingtalkSettings, JsonObject } from './types';

export interface DingtalkStats {
  /** Robot messages and cards delivered (one per chat). */
  delivered: number;
  cards_created: number;
  cards_updated: number;
  token_calls: number;
  /** batchSend recipients refused by the per-member limit (flowControlledStaffIdList). */
  flow_controlled: number;
  /** v1.0 calls refused with 403 QpsLimit…. */
  qps_limited: number;
  /** Custom robot posts refused with 130101. */
  robot_throttled: number;
  callbacks_sent: number;
  callback_failures: number;
  stream_frames_pushed: number;
  stream_frames_repushed: number;
  stream_acks: number;
  stream_connections: number;
}

const emptyStats = (): DingtalkStats => ({
  delivered: 0,
  cards_created: 0,
  cards_updated: 0,
  token_calls: 0,
  flow_controlled: 0,
  qps_limited: 0,
  robot_throttled: 0,
  callbacks_sent: 0,
  callback_failures: 0,
  stream_frames_pushed: 0,
  stream_frames_repushed: 0,
  stream_acks: 0,
  stream_connections: 0,
});

export type DingtalkStateChange =
  | { kind: 'member' | 'group'; id: string; message: DingtalkChatMessage }
  | { kind: 'card'; card: DingtalkCard }
  | { kind: 'reset' };

interface Chat {
  id: string;
  name: string;
  title?: string;
  members?: string[];
  messages: DingtalkChatMessage[];
  sends: number[];
}

interface RobotState {
  name: string;
  secret: string;
  sends: number[];
  throttledUntilMs: number;
  messages: DingtalkChatMessage[];
}

const MINUTE_MS = 60_000;

export class DingtalkEmulatorState {
  readonly counters: DingtalkStats = emptyStats();
  private tokens = new Map<string, number>();
  private members = new Map<string, Chat>();
  private groups = new Map<string, Chat>();
  private robots = new Map<string, RobotState>();
  readonly cardsById = new Map<string, DingtalkCard>();
  /** callbackRouteKey → where clicks go. */
  readonly callbacks = new Map<string, { url: string; apiSecret: string }>();
  private apiCalls: number[] = [];
  private seq = 0;
  private msgSeq = 0;
  private listeners = new Set<(change: DingtalkStateChange) => void>();

  constructor(readonly settings: DingtalkSettings) {
    this.reset();
  }

  nowMs(): number {
    return this.settings.clock.now().getTime();
  }

  nowIso(): string {
    return this.settings.clock.now().toISOString();
  }

  randomId(bytes = 24): string {
    return randomBytes(bytes).toString('base64url');
  }

  /** A msgId like DingTalk's (`msg` + base64), unique within this emulator. */
  nextMsgId(): string {
    this.msgSeq += 1;
    return `msg${randomBytes(8).toString('base64url')}${this.msgSeq}`;
  }

  subscribe(listener: (change: DingtalkStateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: DingtalkStateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.settings.logger.error({ err }, 'dingtalk emulator: state listener failed');
      }
    }
  }

  reset(): void {
    Object.assign(this.counters, emptyStats());
    this.tokens.clear();
    this.cardsById.clear();
    this.callbacks.clear();
    this.apiCalls = [];
    this.members.clear();
    this.groups.clear();
    this.robots.clear();
    for (const m of this.settings.members) {
      this.members.set(m.userId, {
        id: m.userId,
        name: m.name,
        ...(m.title ? { title: m.title } : {}),
        messages: [],
        sends: [],
      });
    }
    for (const g of this.settings.groups) {
      this.groups.set(g.openConversationId, {
        id: g.openConversationId,
        name: g.name,
        members: [...g.members],
        messages: [],
        sends: [],
      });
    }
    for (const r of this.settings.customRobots) {
      this.robots.set(r.accessToken, {
        name: r.name,
        secret: r.secret,
        sends: [],
        throttledUntilMs: 0,
        messages: [],
      });
    }
    this.emit({ kind: 'reset' });
  }

  // --- tokens ---

  issueToken(): { accessToken: string; expireIn: number } {
    const accessToken = this.randomId(24);
    this.tokens.set(accessToken, this.nowMs() + this.settings.tokenTtlSeconds * 1000);
    return { accessToken, expireIn: this.settings.tokenTtlSeconds };
  }

  tokenValid(token: string | undefined): boolean {
    if (!token) return false;
    const expires = this.tokens.get(token);
    return expires !== undefined && expires > this.nowMs();
  }

  expireTokens(): void {
    const now = this.nowMs();
    for (const [token, expires] of this.tokens) this.tokens.set(token, Math.min(expires, now));
  }

  /** The per-app v1.0 QPS limit; false = refuse with 403. */
  admitApiCall(): boolean {
    const now = this.nowMs();
    this.apiCalls = this.apiCalls.filter((t) => t > now - 1000);
    if (this.apiCalls.length >= this.settings.rateLimits.apiPerSecond) {
      this.counters.qps_limited += 1;
      return false;
    }
    this.apiCalls.push(now);
    return true;
  }

  // --- members, groups, robots ---

  hasMember(userId: string): boolean {
    return this.members.has(userId);
  }

  hasGroup(id: string): boolean {
    return this.groups.has(id);
  }

  groupMembers(id: string): string[] {
    return this.groups.get(id)?.members ?? [];
  }

  private admit(chat: Chat, perMinute: number): boolean {
    const now = this.nowMs();
    chat.sends = chat.sends.filter((t) => t > now - MINUTE_MS);
    if (chat.sends.length >= perMinute) return false;
    chat.sends.push(now);
    return true;
  }

  admitToMember(userId: string): boolean {
    return this.admit(this.members.get(userId)!, this.settings.rateLimits.perMemberPerMinute);
  }

  admitToGroup(id: string): boolean {
    return this.admit(this.groups.get(id)!, this.settings.rateLimits.perGroupPerMinute);
  }

  robot(accessToken: string): { name: string; secret: string } | undefined {
    const r = this.robots.get(accessToken);
    return r && { name: r.name, secret: r.secret };
  }

  /**
   * The custom robot limit: at most `customRobotPerMinute` posts in any minute; one more throttles the
   * robot for `customRobotThrottleMs`, during which every post is refused (130101).
   */
  admitToRobot(accessToken: string): boolean {
    const r = this.robots.get(accessToken)!;
    const now = this.nowMs();
    if (now < r.throttledUntilMs) {
      this.counters.robot_throttled += 1;
      return false;
    }
    r.sends = r.sends.filter((t) => t > now - MINUTE_MS);
    if (r.sends.length >= this.settings.rateLimits.customRobotPerMinute) {
      r.throttledUntilMs = now + this.settings.rateLimits.customRobotThrottleMs;
      this.counters.robot_throttled += 1;
      return false;
    }
    r.sends.push(now);
    return true;
  }

  appendToMember(userId: string, msg: Omit<DingtalkChatMessage, 'seq' | 'at'>): DingtalkChatMessage {
    const full: DingtalkChatMessage = { seq: ++this.seq, at: this.nowIso(), ...msg };
    this.members.get(userId)!.messages.push(full);
    if (msg.direction === 'out') this.counters.delivered += 1;
    this.emit({ kind: 'member', id: userId, message: full });
    return full;
  }

  appendToGroup(id: string, msg: Omit<DingtalkChatMessage, 'seq' | 'at'>): DingtalkChatMessage {
    const full: DingtalkChatMessage = { seq: ++this.seq, at: this.nowIso(), ...msg };
    this.groups.get(id)!.messages.push(full);
    if (msg.direction === 'out') this.counters.delivered += 1;
    this.emit({ kind: 'group', id, message: full });
    return full;
  }

  appendToRobot(accessToken: string, msg: Omit<DingtalkChatMessage, 'seq' | 'at'>): DingtalkChatMessage {
    const full: DingtalkChatMessage = { seq: ++this.seq, at: this.nowIso(), ...msg };
    this.robots.get(accessToken)!.messages.push(full);
    this.counters.delivered += 1;
    this.emit({ kind: 'group', id: `robot:${this.robots.get(accessToken)!.name}`, message: full });
    return full;
  }

  // --- cards ---

  putCard(card: DingtalkCard): void {
    this.cardsById.set(card.outTrackId, card);
    this.emit({ kind: 'card', card });
  }

  cardUpdated(card: DingtalkCard): void {
    this.emit({ kind: 'card', card });
  }

  // --- views ---

  chat(userId: string) {
    const m = this.members.get(userId);
    return m && { userId: m.id, name: m.name, ...(m.title ? { title: m.title } : {}), messages: m.messages };
  }

  group(id: string) {
    const g = this.groups.get(id);
    return g && { openConversationId: g.id, name: g.name, members: g.members ?? [], messages: g.messages };
  }

  /** Posts of the custom robot with this name (its access token stays out of views). */
  robotPosts(name: string): DingtalkChatMessage[] {
    for (const r of this.robots.values()) if (r.name === name) return r.messages;
    return [];
  }

  /** Cards delivered to a member's chat (IM_ROBOT) or, with `group`, to a group, newest first. */
  cards(space: { userId: string } | { group: string }): DingtalkCard[] {
    const [type, id] = 'userId' in space ? ['IM_ROBOT', space.userId] : ['IM_GROUP', space.group];
    return [...this.cardsById.values()].filter((c) => c.space.type === type && c.space.id === id).reverse();
  }

  stats(): DingtalkStats {
    return { ...this.counters };
  }

  snapshot(): JsonObject {
    return {
      members: [...this.members.keys()].map((id) => this.chat(id)),
      groups: [...this.groups.keys()].map((id) => this.group(id)),
      robots: [...this.robots.values()].map((r) => ({ name: r.name, messages: r.messages })),
      cards: Object.fromEntries(this.cardsById),
      stats: this.stats(),
    };
  }
}
