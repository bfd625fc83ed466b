import { setTimeout as delay } from 'node:timers/promises';
import type { Random } from './random';

/**
 * Salespeople in the emulator: they follow their chats live, press 认领 on new-lead cards (some too late),
 * 抢单 on pool offers (several at once), 已跟进 on reminders, 我来跟进 / 改派给下一位 on escalations,
 * and type notes and commands. Every action goes through the emulator's own API, so it reaches
 * LeadRelay as a signed, encrypted callback (through the load balancer), with WeCom's retries.
 *
 * What the books need from here: every text whose callback was answered 200 (its MsgId), and every
 * click answered 200 (member, CreateTime, card, button), each of which must be in the inbox once.
 */
export interface MemberSpec {
  userid: string;
  role: 'rep' | 'supervisor' | 'director';
}

export interface MemberLedger {
  /** Emulator API calls that acted (texts and clicks), whatever the outcome. */
  actions: number;
  /** MsgIds of texts LeadRelay answered 200 (stored in its inbox). */
  textsOk: string[];
  /** Texts whose every callback attempt failed (WeCom gives up too): no promise either way. */
  textsGivenUp: number;
  /** `${userid}|${createTime}|${taskId}|${eventKey}` of clicks LeadRelay answered 200. */
  clicksOk: Set<string>;
  clicksGivenUp: number;
  /** The emulator refused the action (card greyed out, down): nothing reached LeadRelay. */
  refused: number;
}

interface ChatMessage {
  seq: number;
  direction: 'in' | 'out';
  msgtype: string;
  card?: { taskId?: string; disabled: boolean; card: { button_list?: { key: string; text: string }[] } };
}

interface CallbackOutcome {
  ok: boolean;
  msgId?: string;
  createTime: number;
}

const NOTES = [
  '已电话联系，客户对设备联网感兴趣。预算：50万',
  '客户要一份报价，下周再约。决策人：王总',
  '加了微信，发了资料。需求：MES 一期，时间：Q3',
  '客户在外地出差，约了周五回电。',
];

export function createMembers(options: { emulatorUrl: string; members: MemberSpec[]; random: Random }) {
  const { random } = options;
  const ledger: MemberLedger = {
    actions: 0,
    textsOk: [],
    textsGivenUp: 0,
    clicksOk: new Set(),
    clicksGivenUp: 0,
    refused: 0,
  };
  const lastSeq = new Map<string, number>();
  /** Lead ids each member has seen on a card (for notes and commands). */
  const leadsOf = new Map<string, number[]>();
  const pending = new Set<Promise<void>>();
  let running = false;
  const MAX_IN_FLIGHT = 40;

  const post = async (path: string, body: unknown): Promise<CallbackOutcome | null> => {
    ledger.actions++;
    try {
      const res = await fetch(`${options.emulatorUrl}/_emulator/api/members/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status !== 200) {
        ledger.refused++;
        await res.arrayBuffer();
        return null;
      }
      return (await res.json()) as CallbackOutcome;
    } catch {
      // The emulator is down (or went down during the callback): the outcome is unknown, so it is
      // not counted either way.
      ledger.refused++;
      return null;
    }
  };

  async function text(userid: string, content: string): Promise<void> {
    const outcome = await post(`${userid}/text`, { content });
    if (!outcome) return;
    if (outcome.ok && outcome.msgId) ledger.textsOk.push(outcome.msgId);
    else ledger.textsGivenUp++;
  }

  async function click(userid: string, taskId: string, eventKey: string): Promise<void> {
    const outcome = await post(`${userid}/click`, { taskId, eventKey });
    if (!outcome) return;
    if (outcome.ok) ledger.clicksOk.add(`${userid}|${outcome.createTime}|${taskId}|${eventKey}`);
    else ledger.clicksGivenUp++;
  }

  const later = (ms: number, action: () => Promise<void>) => {
    if (pending.size >= MAX_IN_FLIGHT) return;
    const task = delay(ms).then(() => (running ? action() : undefined));
    pending.add(task);
    void task.finally(() => pending.delete(task));
  };

  function react(member: MemberSpec, message: ChatMessage): void {
    const taskId = message.card?.taskId;
    if (!taskId || message.card!.disabled) return;
    const leadId = Number(/^L(\d+)-/.exec(taskId)?.[1]);
    if (Number.isFinite(leadId)) {
      const seen = leadsOf.get(member.userid) ?? [];
      seen.push(leadId);
      leadsOf.set(member.userid, seen.slice(-20));
    }
    const u = member.userid;
    if (taskId.includes('-new-lead-')) {
      // The claim window is 10 s (A) / 15 s (B): most press in time, some too late.
      if (random.chance(0.85)) later(random.between(300, 11_000), () => click(u, taskId, 'claim'));
      else if (random.chance(0.3)) later(random.between(300, 3000), () => click(u, taskId, 'release'));
      // A note soon after (the first follow-up is due 15 s after the claim for grade A).
      if (random.chance(0.7))
        later(random.between(3000, 16_000), () => text(u, `#${leadId} ${random.pick(NOTES)}`));
    } else if (taskId.includes('-pool-offer-')) {
      if (random.chance(0.35)) later(random.between(100, 2000), () => click(u, taskId, 'grab'));
    } else if (taskId.includes('-reminder-')) {
      if (random.chance(0.6)) later(random.between(200, 3000), () => click(u, taskId, 'followed_up'));
      else if (random.chance(0.2)) later(random.between(200, 4000), () => click(u, taskId, 'snooze_1d'));
    } else if (taskId.includes('-escalation-')) {
      if (random.chance(0.4)) later(random.between(200, 4000), () => click(u, taskId, 'take_over'));
      else if (random.chance(0.5)) later(random.between(200, 4000), () => click(u, taskId, 'reassign_next'));
    }
  }

  function command(member: MemberSpec): void {
    const leads = leadsOf.get(member.userid) ?? [];
    const id = leads.length > 0 ? random.pick(leads) : undefined;
    const choices = ['我的', '公海', '帮助'];
    if (id !== undefined)
      choices.push(`详情 ${id}`, `阶段 ${id} 已联系`, `认领 ${id}`, `#${id} ${random.pick(NOTES)}`);
    const content = random.pick(choices);
    later(0, () => text(member.userid, content));
  }

  const specOf = new Map(options.members.map((m) => [m.userid, m]));

  function seen(userid: string, message: ChatMessage): void {
    const last = lastSeq.get(userid) ?? 0;
    // Updates of a card come again with its old seq: only new messages count.
    if (message.seq <= last) return;
    lastSeq.set(userid, message.seq);
    const member = specOf.get(userid);
    if (member && message.direction === 'out' && running) react(member, message);
  }

  /**
   * Follows the emulator's live feed (GET /_emulator/api/events, server-sent events), so members react
   * to a card within milliseconds of its delivery, as people with the app open do. Reconnects after
   * the emulator was down; the snapshot it then sends catches up with anything missed.
   */
  async function follow(): Promise<void> {
    while (running) {
      try {
        const res = await fetch(`${options.emulatorUrl}/_emulator/api/events`, { signal: aborter.signal });
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            const event = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (!event || !data) continue;
            if (event === 'member') {
              const { id, message } = JSON.parse(data) as { id: string; message: ChatMessage };
              seen(id, message);
            } else if (event === 'snapshot') {
              const snapshot = JSON.parse(data) as { members: { userid: string; messages: ChatMessage[] }[] };
              for (const chat of snapshot.members)
                for (const message of chat.messages) seen(chat.userid, message);
            }
          }
        }
      } catch {
        // The emulator went down, or we stopped.
      }
      if (running) await delay(500);
    }
  }

  async function commands(commandRate: number): Promise<void> {
    while (running) {
      await delay(random.between(0.5, 1.5) * (1000 / commandRate));
      if (running) command(random.pick(options.members));
    }
  }

  let looping: Promise<void> | undefined;
  const aborter = new AbortController();
  return {
    ledger,
    /** Follows the live feed; about `commandRate` commands per second in all. */
    start(commandRate = 0.7) {
      running = true;
      looping = Promise.all([follow(), commands(commandRate)]).then(() => undefined);
    },
    async stop() {
      running = false;
      aborter.abort();
      await looping;
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
