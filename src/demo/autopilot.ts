/**
 * Simulated colleagues for the demo, so the org looks alive while you watch: some reps claim some of
 * their cards after a while, write a follow-up note (with BANT lines) and move a few leads on; some
 * grab from the pool; reminders are sometimes answered. Everything goes through the emulator as a
 * member would (signed callbacks), never around the product.
 *
 * The moment you act as a member on the page, the autopilot leaves that member to you.
 */
import type { Emulator } from '../emulator/create-emulator';
import type { ChatMessage } from '../emulator/wecom/types';
import { noteFor, pick, type Random } from './lead-generator';

export interface AutopilotOptions {
  emulator: Emulator;
  /** WeCom userid → display name. */
  names: ReadonlyMap<string, string>;
  random: Random;
  log: (line: string) => void;
}

export interface Autopilot {
  stop(): void;
}

const TASK = /^L(\d+)-([a-z-]+)-/;
const seconds = (random: Random, min: number, max: number) => (min + random() * (max - min)) * 1000;

export function startAutopilot(options: AutopilotOptions): Autopilot {
  const { emulator, random, log } = options;
  const { control, state } = emulator;
  const humans = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let acting = false;
  let stopped = false;

  const later = (ms: number, fn: () => Promise<unknown>) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn().catch(() => undefined);
    }, ms);
    timers.add(t);
  };
  /** Runs a member action; the change it makes in the emulator is marked as ours, not a human's. */
  const act = <T>(fn: () => Promise<T>): Promise<T> => {
    acting = true;
    try {
      return fn();
    } finally {
      acting = false;
    }
  };
  const cardStillOpen = (userid: string, taskId: string) => {
    const card = state.cards(userid, taskId)[0]?.card;
    return card !== undefined && !card.disabled;
  };
  const press = (userid: string, taskId: string, buttonText: string) =>
    !humans.has(userid) && cardStillOpen(userid, taskId)
      ? act(() => control.clickButton(userid, { taskId, buttonText }))
      : Promise.resolve(undefined);
  const say = (userid: string, text: string) =>
    humans.has(userid) ? Promise.resolve(undefined) : act(() => control.sendText(userid, text));

  const followUp = (userid: string, leadId: number) => {
    later(seconds(random, 15, 50), async () => {
      await say(userid, `#${leadId} ${noteFor(random)}`);
      const r = random();
      if (r < 0.15)
        later(seconds(random, 20, 60), () =>
          say(userid, `赢单 ${leadId} ${pick(random, ['8万', '12万', '25万', '36万'])}`),
        );
      else if (r < 0.3)
        later(seconds(random, 20, 60), () =>
          say(userid, `输单 ${leadId} ${pick(random, ['预算不符', '选择了竞品', '暂无需求'])}`),
        );
      else if (r < 0.45) later(seconds(random, 20, 60), () => say(userid, `阶段 ${leadId} 商机`));
    });
  };

  const onCard = (userid: string, message: ChatMessage) => {
    const taskId = message.card?.taskId;
    const match = taskId ? TASK.exec(taskId) : null;
    if (!taskId || !match || humans.has(userid)) return;
    const leadId = Number(match[1]);
    switch (match[2]) {
      case 'new-lead':
        if (random() < 0.55) {
          later(seconds(random, 10, 45), async () => {
            const outcome = await press(userid, taskId, '认领');
            if (outcome?.ok) followUp(userid, leadId);
          });
        }
        break;
      case 'pool-offer':
        if (random() < 0.25) {
          later(seconds(random, 8, 30), async () => {
            const outcome = await press(userid, taskId, '抢单');
            if (outcome?.ok) followUp(userid, leadId);
          });
        }
        break;
      case 'reminder':
        if (random() < 0.5) later(seconds(random, 10, 40), () => press(userid, taskId, '已跟进'));
        break;
      case 'escalation':
        if (random() < 0.3) later(seconds(random, 10, 40), () => press(userid, taskId, '改派给下一位'));
        break;
    }
  };

  const unsubscribe = state.subscribe((change) => {
    if (change.kind !== 'member') return;
    const { id: userid, message } = change;
    if (message.direction === 'in') {
      if (!acting && !humans.has(userid)) {
        humans.add(userid);
        log(`👤 你在以「${options.names.get(userid) ?? userid}」的身份操作，自动演示不再替 ta 操作。`);
      }
      return;
    }
    // A new card (an updated one keeps its seq and was seen before).
    if (message.card && message.card.updatedAt === undefined) onCard(userid, message);
  });

  return {
    stop() {
      stopped = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
