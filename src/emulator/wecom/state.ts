/**
 * Everything the WeCom emulator remembers: tokens, chats, task ids, response codes, the duplicate-check
 * store, rate-limit windows and counters. One instance per emulator (no module-level state); time is
 * read only from the injected clock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type EmulatorStats, emptyStats } from './stats';
import type { CardView, ChatMessage, GroupMessage, JsonObject, WecomSettings } from './types';

interface TokenRecord {
  expiresAtMs: number;
}

export interface TaskRecord {
  taskId: string;
  cardType: string;
  recipients: string[];
}

interface ResponseCodeRecord {
  taskId: string;
  issuedAtMs: number;
  used: boolean;
}

interface DuplicateRecord {
  acceptedAtMs: number;
  intervalSeconds: number;
  answer: JsonObject;
}

/** What the page's live stream (`GET /_emulator/api/events`) is told about. */
export type StateChange =
  | { kind: 'member'; id: string; message: ChatMessage }
  | { kind: 'group'; id: string; message: GroupMessage }
  | { kind: 'reset' };

interface MemberState {
  userid: string;
  name: string;
  title: string | undefined;
  chat: ChatMessage[];
  /** Delivery times (ms) inside the last hour, for the path 90454 limits. */
  deliveries: number[];
  dropped: number;
}

interface RobotState {
  key: string;
  name: string;
  messages: GroupMessage[];
  sends: number[];
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export type { EmulatorStats };

export class WecomEmulatorState {
  readonly counters: EmulatorStats = emptyStats();
  private tokens = new Map<string, TokenRecord>();
  private members = new Map<string, MemberState>();
  private robots = new Map<string, RobotState>();
  private tasks = new Map<string, TaskRecord>();
  private responseCodes = new Map<string, ResponseCodeRecord>();
  private duplicates = new Map<string, DuplicateRecord>();
  private seq = 0;
  private msgSeq = 0n;
  private listeners = new Set<(change: StateChange) => void>();

  constructor(private readonly settings: WecomSettings) {
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

  /** A numeric MsgId like WeCom's 64-bit ids, unique within this emulator. */
  nextMsgId(): string {
    this.msgSeq += 1n;
    return (7_300_000_000_000_000_000n + this.msgSeq).toString();
  }

  /** Calls `listener` after every new or updated message and on reset; returns the unsubscribe. */
  subscribe(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.settings.logger.error({ err }, 'wecom emulator: state listener failed');
      }
    }
  }

  reset(): void {
    Object.assign(this.counters, emptyStats());
    this.tokens.clear();
    this.tasks.clear();
    this.responseCodes.clear();
    this.duplicates.clear();
    this.members.clear();
    this.robots.clear();
    for (const m of this.settings.members) {
      this.members.set(m.userid, {
        userid: m.userid,
        name: m.name,
        title: m.title,
        chat: [],
        deliveries: [],
        dropped: 0,
      });
    }
    for (const r of this.settings.groupRobots) {
      this.robots.set(r.key, { key: r.key, name: r.name, messages: [], sends: [] });
    }
    this.emit({ kind: 'reset' });
  }

  // --- access tokens (path 91039) ---

  issueToken(): { token: string; expiresIn: number } {
    const now = this.nowMs();
    if (this.settings.tokenIssuance === 'reuse') {
      for (const [token, rec] of this.tokens) {
        if (rec.expiresAtMs > now) return { token, expiresIn: Math.floor((rec.expiresAtMs - now) / 1000) };
      }
    }
    const token = this.randomId(48);
    this.tokens.set(token, { expiresAtMs: now + this.settings.tokenTtlSeconds * 1000 });
    return { token, expiresIn: this.settings.tokenTtlSeconds };
  }

  /** 0 when valid, else the errcode WeCom would answer. */
  checkToken(token: string | undefined): number {
    if (!token) return 41001;
    const rec = this.tokens.get(token);
    if (!rec) return 40014;
    return rec.expiresAtMs > this.nowMs() ? 0 : 42001;
  }

  expireTokens(): void {
    const now = this.nowMs();
    for (const rec of this.tokens.values()) rec.expiresAtMs = Math.min(rec.expiresAtMs, now);
  }

  // --- members and robots ---

  hasMember(userid: string): boolean {
    return this.members.has(userid);
  }

  memberIds(): string[] {
    return [...this.members.keys()];
  }

  hasRobot(key: string): boolean {
    return this.robots.has(key);
  }

  /** Records a delivery if the member is under both limits (path 90454); false = silently dropped. */
  admitToMember(userid: string): boolean {
    const m = this.members.get(userid)!;
    const now = this.nowMs();
    m.deliveries = m.deliveries.filter((t) => t > now - HOUR_MS);
    const lastMinute = m.deliveries.filter((t) => t > now - MINUTE_MS).length;
    const { perMemberPerMinute, perMemberPerHour } = this.settings.rateLimits;
    if (lastMinute >= perMemberPerMinute || m.deliveries.length >= perMemberPerHour) {
      m.dropped += 1;
      this.counters.dropped_rate_limited += 1;
      return false;
    }
    m.deliveries.push(now);
    return true;
  }

  /** Records a robot send if under 20 per minute (path 91770). */
  admitToRobot(key: string): boolean {
    const r = this.robots.get(key)!;
    const now = this.nowMs();
    r.sends = r.sends.filter((t) => t > now - MINUTE_MS);
    if (r.sends.length >= this.settings.rateLimits.perRobotPerMinute) {
      this.counters.robot_rate_limited += 1;
      return false;
    }
    r.sends.push(now);
    return true;
  }

  appendToMember(userid: string, msg: Omit<ChatMessage, 'seq' | 'at'>): ChatMessage {
    const full: ChatMessage = { seq: ++this.seq, at: this.nowIso(), ...msg };
    this.members.get(userid)!.chat.push(full);
    if (msg.direction === 'out') this.counters.delivered += 1;
    this.emit({ kind: 'member', id: userid, message: full });
    return full;
  }

  appendToGroup(key: string, msgtype: string, body: JsonObject): GroupMessage {
    const full: GroupMessage = { seq: ++this.seq, at: this.nowIso(), msgtype, body };
    this.robots.get(key)!.messages.push(full);
    this.counters.delivered += 1;
    this.emit({ kind: 'group', id: key, message: full });
    return full;
  }

  /** Tells listeners a member's message changed in place (a card updated by update_template_card). */
  messageUpdated(userid: string, message: ChatMessage): void {
    this.emit({ kind: 'member', id: userid, message });
  }

  // --- task ids and response codes (path 90236, 94888) ---

  taskExists(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  task(taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskId);
  }

  registerTask(rec: TaskRecord): void {
    this.tasks.set(rec.taskId, rec);
  }

  issueResponseCode(taskId: string): string {
    const code = this.randomId(32);
    this.responseCodes.set(code, { taskId, issuedAtMs: this.nowMs(), used: false });
    return code;
  }

  /** Checks a response_code without consuming it: usable once, for responseCodeTtlSeconds. */
  checkResponseCode(code: string): { taskId: string } | { reason: 'unknown' | 'used' | 'expired' } {
    const rec = this.responseCodes.get(code);
    if (!rec) return { reason: 'unknown' };
    if (rec.used) return { reason: 'used' };
    if (this.nowMs() - rec.issuedAtMs > this.settings.responseCodeTtlSeconds * 1000)
      return { reason: 'expired' };
    return { taskId: rec.taskId };
  }

  consumeResponseCode(code: string): void {
    const rec = this.responseCodes.get(code);
    if (rec) rec.used = true;
  }

  // --- duplicate check (path 90236) ---

  static bodyHash(raw: Buffer): string {
    return createHash('sha256').update(raw).digest('hex');
  }

  findDuplicate(hash: string): JsonObject | undefined {
    const rec = this.duplicates.get(hash);
    if (!rec) return undefined;
    if (this.nowMs() - rec.acceptedAtMs < rec.intervalSeconds * 1000) return rec.answer;
    this.duplicates.delete(hash);
    return undefined;
  }

  rememberForDuplicates(hash: string, intervalSeconds: number, answer: JsonObject): void {
    this.duplicates.set(hash, { acceptedAtMs: this.nowMs(), intervalSeconds, answer });
  }

  // --- views for tests and the page ---

  chat(
    userid: string,
  ): { userid: string; name: string; title?: string; dropped: number; messages: ChatMessage[] } | undefined {
    const m = this.members.get(userid);
    return (
      m && {
        userid: m.userid,
        name: m.name,
        ...(m.title !== undefined ? { title: m.title } : {}),
        dropped: m.dropped,
        messages: m.chat,
      }
    );
  }

  group(key: string): { key: string; name: string; messages: GroupMessage[] } | undefined {
    const r = this.robots.get(key);
    return r && { key: r.key, name: r.name, messages: r.messages };
  }

  stats(): EmulatorStats {
    return { ...this.counters };
  }

  /** The member's cards carrying `taskId` (every card when omitted), newest first. */
  cards(userid: string, taskId?: string): Array<ChatMessage & { card: CardView }> {
    const chat = this.members.get(userid)?.chat ?? [];
    const found = chat.filter(
      (m): m is ChatMessage & { card: CardView } =>
        m.card !== undefined && (taskId === undefined || m.card.taskId === taskId),
    );
    return found.reverse();
  }

  snapshot(): JsonObject {
    return {
      members: [...this.members.keys()].map((id) => this.chat(id)),
      groups: [...this.robots.keys()].map((key) => this.group(key)),
      stats: this.stats(),
    };
  }
}
