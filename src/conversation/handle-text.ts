import { and, eq } from 'drizzle-orm';
import { setAway, setBack } from '../availability/availability';
import type { MemberConfig } from '../config/org-types';
import type { Executor } from '../db/client';
import { cards, leadEvents, leads } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { AssignDeps } from '../leads/assign-lead';
import { type CardActionOutcome, claimLead } from '../leads/card-actions';
import { canWrite, whoMayWrite } from '../leads/lead-access';
import { cardContext, queueCard } from '../leads/lead-cards';
import type { LeadRow } from '../leads/lead-record';
import { listMyLeads } from '../leads/list-mine';
import { addNote } from '../leads/notes';
import { reassignLead } from '../leads/reassign';
import { setReminder } from '../leads/reminders';
import { changeStage } from '../leads/stage-change';
import { checkTransition, stageName } from '../leads/stages';
import { parseDuration } from '../lib/duration';
import { AppError } from '../lib/errors';
import { maskName } from '../lib/mask';
import { enqueueOutbox } from '../outbox/enqueue';
import type { InboundEvent } from '../platforms/types';
import { grabLead } from '../pool/grab-lead';
import { listPool } from '../pool/list-pool';
import { buildDigest, digestPeriod } from '../reports/digest';
import type { Command } from './command';
import { currentLead, setFocus } from './focus';
import { parseCommand } from './grammar';
import {
  bantExample,
  fieldList,
  formatLocalTime,
  HELP,
  type Language,
  stageChangedText,
  stageLabel,
  USAGE,
} from './replies';

type TextEvent = Extract<InboundEvent, { kind: 'text' }>;

/** What happened to a text message, for the log line (never the text itself: it is personal data). */
export type TextOutcome = string;

interface Turn {
  deps: AssignDeps;
  event: TextEvent;
  member: MemberConfig;
  lang: Language;
  timeZone: string;
  now: Date;
}

/**
 * A member typed to the bot (PRODUCT.md 8): the text becomes a command (grammar.ts), the command runs
 * the same domain action a card button runs, and the reply (what was recorded, or what is missing and
 * what to type instead) is queued in that action's transaction with a key derived from the platform's
 * message id, so a re-delivered message neither writes nor answers twice. Identity is the verified
 * callback's user id only.
 */
export async function handleText(deps: AssignDeps, event: TextEvent): Promise<TextOutcome> {
  const member = deps.directory.memberByPlatformUser(event.platform, event.userId);
  if (!member?.active) {
    await withTransaction(deps.db, (tx) =>
      reply(
        tx,
        { deps, event },
        '你不在 LeadRelay 的成员名单中（或已停用），请联系管理员把你的账号加入配置。',
      ),
    );
    return 'unknown_member';
  }
  const team = deps.directory.teamsOf(member.id)[0];
  const turn: Turn = {
    deps,
    event,
    member,
    lang: member.language ?? 'zh',
    timeZone: team?.timezone ?? deps.org.timezone,
    now: deps.clock.now(),
  };
  const command = parseCommand(event.text, { now: turn.now, timeZone: turn.timeZone });
  const outcome = await run(turn, command);
  return `${command.kind}:${outcome}`;
}

async function run(turn: Turn, command: Command): Promise<string> {
  switch (command.kind) {
    case 'help':
      return say(turn, HELP[turn.lang], 'help');
    case 'mine':
      return mine(turn);
    case 'pool':
      return pool(turn);
    case 'away':
      return away(turn, command.until);
    case 'back':
      return back(turn);
    case 'digest':
      return digest(turn);
    case 'invalid':
      return say(turn, invalidText(turn, command), command.problem);
    default:
      break;
  }
  const leadId = command.leadId ?? (await currentLeadOf(turn));
  if (leadId === null) return say(turn, noLeadText(turn, command), 'no_current_lead');
  switch (command.kind) {
    case 'note':
      return note(turn, leadId, command, command.leadId !== undefined);
    case 'claim':
      return claim(turn, leadId);
    case 'stage':
      return stage(turn, leadId, { to: command.stage });
    case 'won':
      return stage(turn, leadId, { to: 'won', amount: command.amount });
    case 'lost':
      return stage(turn, leadId, { to: 'lost', lostReason: command.reason });
    case 'remind':
      return remind(turn, leadId, command.at, command.text);
    case 'show':
      return show(turn, leadId);
    case 'reassign':
      return reassign(turn, leadId, command.to);
  }
}

function t(turn: Pick<Turn, 'lang'>, zh: string, en: string): string {
  return turn.lang === 'en' ? en : zh;
}

/** One reply per inbound message (suffix for a second one): the key makes a re-delivery a no-op. */
async function reply(
  tx: Executor,
  turn: Pick<Turn, 'deps' | 'event'>,
  text: string,
  options: { leadId?: number; suffix?: string } = {},
): Promise<void> {
  const { event, deps } = turn;
  await enqueueOutbox(
    tx,
    [
      {
        dedupeKey: `reply:${event.platform}:${event.eventId}${options.suffix ?? ''}`,
        platform: event.platform,
        ...(options.leadId !== undefined ? { leadId: options.leadId } : {}),
        message: { kind: 'text', to: { kind: 'user', userId: event.userId }, text },
      },
    ],
    deps.clock.now(),
  );
}

async function say(turn: Turn, text: string, outcome: string, leadId?: number): Promise<string> {
  await withTransaction(turn.deps.db, (tx) => reply(tx, turn, text, leadId !== undefined ? { leadId } : {}));
  return outcome;
}

async function currentLeadOf(turn: Turn): Promise<number | null> {
  return currentLead(
    turn.deps.db,
    turn.member.id,
    turn.now,
    parseDuration(turn.deps.org.conversation.contextWindow),
  );
}

/** `#123 张伟（华为）`: names in full only to people who may write to the lead (a 1:1 chat). */
function label(turn: Turn, lead: LeadRow, full = true): string {
  const name = full ? lead.name : maskName(lead.name);
  const who = [name, lead.company].filter(Boolean);
  if (who.length === 0) return `#${lead.id}`;
  return turn.lang === 'en'
    ? `#${lead.id} ${who.join(', ')}`
    : `#${lead.id} ${who[0]}${who[1] ? `（${who[1]}）` : ''}`;
}

function notYours(turn: Turn, lead: LeadRow): string {
  return t(
    turn,
    `${label(turn, lead, false)} 不是你的线索，只有${whoMayWrite(turn.deps, lead, 'zh')}可以记录或修改。`,
    `${label(turn, lead, false)} is not yours: only ${whoMayWrite(turn.deps, lead, 'en')} may update it.`,
  );
}

function notFound(turn: Turn, leadId: number): string {
  return t(turn, `没有找到线索 #${leadId}，请检查编号。`, `There is no lead #${leadId}; check the number.`);
}

function unclaimed(turn: Turn, lead: LeadRow): string {
  return t(
    turn,
    `${label(turn, lead, false)} 还没有人认领，请先回复「认领 ${lead.id}」。`,
    `${label(turn, lead, false)} is not claimed yet: reply "claim ${lead.id}" first.`,
  );
}

function noLeadText(turn: Turn, command: Command): string {
  if (command.kind === 'note') {
    return t(
      turn,
      `没有找到你当前的线索（最近没有收到或处理过线索卡片），这条没有记录。请在开头写上编号再发一次，例如：\n#123 ${command.text.slice(0, 60)}`,
      `I don't know which lead you mean (no recent card), so nothing was recorded. Start with the lead's number, e.g.:\n#123 ${command.text.slice(0, 60)}`,
    );
  }
  const usage = USAGE[turn.lang][command.kind] ?? USAGE[turn.lang].note;
  return t(turn, `请写上线索编号，例如：${usage}`, `Which lead? For example: ${usage}`);
}

function invalidText(turn: Turn, command: Extract<Command, { kind: 'invalid' }>): string {
  const usage = USAGE[turn.lang][command.command] ?? '';
  const detail = command.detail ? `「${command.detail}」` : '';
  const zh: Record<string, string> = {
    bad_lead_id: `线索编号${detail}不对，应为数字。`,
    bad_stage: `没有${detail}这个阶段。`,
    bad_amount: `金额${detail}看不懂，可以写 8万、80000 或 ¥80,000。`,
    bad_time: `时间${detail}看不懂，可以写 明天下午3点、后天、下周一、3天后、15:30。`,
    missing_time: '请写上提醒时间。',
    time_in_past: `时间${detail}已经过去了。`,
    missing_member: '请写上要转派给谁。',
    bad_duration: `时长${detail}看不懂，可以写 3天、半天、到周五。`,
  };
  const en: Record<string, string> = {
    bad_lead_id: `Lead number ${command.detail ?? ''} is not valid.`,
    bad_stage: `There is no stage ${command.detail ?? ''}.`,
    bad_amount: `I can't read the amount ${command.detail ?? ''}: write 80000, 8万 or ¥80,000.`,
    bad_time: `I can't read the time ${command.detail ?? ''}: try tomorrow 15:00, mon, in 3 days.`,
    missing_time: 'When should I remind you?',
    time_in_past: `${command.detail ?? 'That time'} is in the past.`,
    missing_member: 'Reassign to whom?',
    bad_duration: `I can't read ${command.detail ?? 'that'}: try 3d, 4h or until 2026-11-25.`,
  };
  const table = turn.lang === 'en' ? en : zh;
  return `${table[command.problem] ?? ''}${t(turn, `例如：${usage}`, ` For example: ${usage}`)}`;
}

async function note(
  turn: Turn,
  leadId: number,
  command: Extract<Command, { kind: 'note' }>,
  named: boolean,
): Promise<string> {
  if (!command.text.trim()) return say(turn, t(turn, '笔记是空的。', 'The note is empty.'), 'empty');
  const outcome = await addNote(
    turn.deps,
    {
      leadId,
      member: turn.member,
      text: command.text,
      fields: command.fields,
      source: { platform: turn.event.platform, messageId: turn.event.eventId },
    },
    async (tx, o) => {
      if (o.kind === 'not_found') return reply(tx, turn, notFound(turn, leadId));
      if (o.kind === 'not_authorised') return reply(tx, turn, notYours(turn, o.lead), { leadId });
      if (o.kind === 'unclaimed') return reply(tx, turn, unclaimed(turn, o.lead), { leadId });
      if (named) await setFocus(tx, turn.member.id, leadId, turn.now);
      if (o.kind === 'duplicate')
        return reply(tx, turn, t(turn, '这条已经记录过了。', 'Already recorded.'), { leadId });
      const lines = [
        t(turn, `已记录到 ${label(turn, o.lead)} 的跟进。`, `Note added to ${label(turn, o.lead)}.`),
      ];
      if (o.filled.length > 0) {
        const filled = o.filled.map((f) => `${fieldName(turn, f)} ${bantValue(o.lead, f)}`);
        lines.push(t(turn, `已填写：${filled.join('、')}。`, `Filled: ${filled.join(', ')}.`));
      }
      if (o.stageChangedTo) {
        lines.push(t(turn, `阶段：新线索 → 已联系。`, 'Stage: new → contacted.'));
      }
      const next = nextGateHint(turn, o.lead);
      if (next) lines.push(next);
      return reply(tx, turn, lines.join('\n'), { leadId });
    },
  );
  return outcome.kind;
}

function fieldName(turn: Turn, field: string): string {
  const zh: Record<string, string> = { budget: '预算', authority: '决策人', need: '需求', timeline: '时间' };
  return turn.lang === 'en' ? field : (zh[field] ?? field);
}

function bantValue(lead: LeadRow, field: string): string {
  switch (field) {
    case 'budget':
      return lead.budgetText ?? String(lead.budget ?? '');
    case 'authority':
      return lead.authority ?? '';
    case 'need':
      return (lead.need ?? '').slice(0, 30);
    case 'timeline':
      return lead.purchaseTimeline ?? '';
    default:
      return '';
  }
}

/** After a note: what the next stage still needs, so the rep knows what to ask the customer. */
function nextGateHint(turn: Turn, lead: LeadRow): string | null {
  const next = lead.stage === 'contacted' ? 'qualified' : lead.stage === 'qualified' ? 'opportunity' : null;
  if (!next) return null;
  const check = checkTransition(turn.deps.org.stages, lead.stage, next, { lead });
  if (check.ok) {
    return t(
      turn,
      `可以推进到${stageLabel(next, 'zh')}了：回复「阶段 ${lead.id} ${stageName(next)}」。`,
      `Ready for ${next}: reply "stage ${lead.id} ${next}".`,
    );
  }
  if (check.problem !== 'gate') return null;
  return t(
    turn,
    `推进到${stageLabel(next, 'zh')}还缺：${fieldList(check.missing, 'zh')}。`,
    `For ${next} still missing: ${fieldList(check.missing, 'en')}.`,
  );
}

async function stage(
  turn: Turn,
  leadId: number,
  change: {
    to: import('../leads/stages').Stage;
    amount?: number | undefined;
    lostReason?: string | undefined;
  },
): Promise<string> {
  const outcome = await changeStage(
    turn.deps,
    { leadId, member: turn.member, ...change, via: 'chat' },
    async (tx, o) => {
      if (o.kind === 'not_found') return reply(tx, turn, notFound(turn, leadId));
      if (o.kind === 'not_authorised') return reply(tx, turn, notYours(turn, o.lead), { leadId });
      if (o.kind === 'unclaimed') return reply(tx, turn, unclaimed(turn, o.lead), { leadId });
      await setFocus(tx, turn.member.id, leadId, turn.now);
      const lead = label(turn, o.lead);
      switch (o.kind) {
        case 'changed':
          return reply(
            tx,
            turn,
            stageChangedText(
              lead,
              o.from,
              o.to,
              { amount: o.lead.wonAmount, reason: o.lead.lostReason },
              turn.lang,
            ),
            { leadId },
          );
        case 'same_stage':
          return reply(
            tx,
            turn,
            t(
              turn,
              `${lead} 已经是${stageLabel(o.lead.stage, 'zh')}阶段。`,
              `${lead} is already ${o.lead.stage}.`,
            ),
            { leadId },
          );
        case 'closed':
          return reply(
            tx,
            turn,
            t(turn, `${lead} 已赢单，阶段不能再改。`, `${lead} is won; its stage is final.`),
            { leadId },
          );
        case 'bad_reason': {
          const reasons = o.reasons.join(turn.lang === 'en' ? ', ' : '、');
          return reply(
            tx,
            turn,
            t(
              turn,
              `输单需要写明原因，可选：${reasons}。例如：输单 ${leadId} ${o.reasons[0] ?? ''}`,
              `A lost lead needs a reason, one of: ${reasons}. For example: lost ${leadId} ${o.reasons[0] ?? ''}`,
            ),
            { leadId },
          );
        }
        case 'gate': {
          const missing = fieldList(o.missing, turn.lang);
          const onlyAmount = o.missing.length === 1 && o.missing[0] === 'amount';
          if (onlyAmount) {
            return reply(
              tx,
              turn,
              t(
                turn,
                `赢单需要成交金额，例如：赢单 ${leadId} 8万`,
                `Won needs the amount, e.g.: won ${leadId} 80000`,
              ),
              { leadId },
            );
          }
          const example = bantExample(o.missing, turn.lang);
          return reply(
            tx,
            turn,
            t(
              turn,
              `${lead} 还不能改为${stageLabel(o.to, 'zh')}：缺少 ${missing}。${example ? `请先发一条跟进补上，例如：\n#${leadId}\n${example}` : ''}`,
              `${lead} cannot move to ${o.to} yet: missing ${missing}.${example ? ` Send a note first, e.g.:\n#${leadId}\n${example}` : ''}`,
            ),
            { leadId },
          );
        }
      }
    },
  );
  return outcome.kind;
}

async function claim(turn: Turn, leadId: number): Promise<string> {
  const { deps, member } = turn;
  const [lead] = await deps.db.select().from(leads).where(eq(leads.id, leadId));
  if (!lead) return say(turn, notFound(turn, leadId), 'not_found');
  let outcome: CardActionOutcome;
  if (lead.ownerId === null && lead.assigneeId === null) {
    const card = await openCardFor(deps, leadId, member.id, 'pool-offer');
    outcome = await grabLead(deps, { leadId, card, member });
  } else {
    const card =
      lead.assigneeId === member.id ? await openCardFor(deps, leadId, member.id, 'new-lead') : null;
    outcome = await claimLead(deps, { leadId, card, member });
  }
  const [after] = await deps.db.select().from(leads).where(eq(leads.id, leadId));
  const now = after ?? lead;
  const owner = now.ownerId ? deps.directory.member(now.ownerId) : undefined;
  const texts: Record<string, [string, string]> = {
    claimed: [
      `已认领 ${label(turn, now)}${now.phone ? `，电话 ${now.phone}` : ''}。联系后直接把跟进内容发给我。`,
      `Claimed ${label(turn, now)}${now.phone ? `, phone ${now.phone}` : ''}. Send me your notes after the call.`,
    ],
    grabbed: [
      `抢单成功：${label(turn, now)}${now.phone ? `，电话 ${now.phone}` : ''}。`,
      `You got ${label(turn, now)}${now.phone ? `, phone ${now.phone}` : ''}.`,
    ],
    already_owner: [`${label(turn, now)} 已经是你的线索。`, `${label(turn, now)} is already yours.`],
    taken_by_other: [
      `${label(turn, now, false)} 已被${owner?.name ?? '他人'}认领。`,
      `${label(turn, now, false)} was claimed by ${owner?.name ?? 'someone else'}.`,
    ],
    not_assignee: [
      `${label(turn, now, false)} 没有分配给你，不能认领；公海里的线索才可以直接抢。`,
      `${label(turn, now, false)} is offered to someone else; only pool leads can be grabbed.`,
    ],
    not_in_team: [
      `${label(turn, now, false)} 不在你所在团队的公海里。`,
      `${label(turn, now, false)} is not in your team's pool.`,
    ],
    daily_limit: [
      `今天的抢单次数已用完（每天 ${deps.org.pool.maxGrabsPerDay} 次），明天再来。`,
      `You have used today's ${deps.org.pool.maxGrabsPerDay} grabs.`,
    ],
    open_leads_limit: [
      '你手上未结的线索已达上限，请先推进、赢单/输单或退回一些再抢。',
      'You hold the maximum number of open leads; close or release some first.',
    ],
    cooldown: [
      `你最近退回或被收回过 ${label(turn, now, false)}，${deps.org.pool.reclaimCooldown} 内不能再抢。`,
      `You gave up ${label(turn, now, false)} recently; wait ${deps.org.pool.reclaimCooldown} before grabbing it again.`,
    ],
  };
  const [zh, en] = texts[outcome] ?? [`#${leadId}：${outcome}`, `#${leadId}: ${outcome}`];
  await withTransaction(deps.db, async (tx) => {
    if (outcome === 'claimed' || outcome === 'grabbed' || outcome === 'already_owner')
      await setFocus(tx, member.id, leadId, turn.now);
    await reply(tx, turn, t(turn, zh, en), { leadId });
  });
  return outcome;
}

async function openCardFor(deps: AssignDeps, leadId: number, memberId: string, template: string) {
  const open = await deps.db
    .select()
    .from(cards)
    .where(and(eq(cards.leadId, leadId), eq(cards.template, template), eq(cards.status, 'open')));
  return open.find((c) => c.recipients.includes(memberId)) ?? null;
}

async function remind(turn: Turn, leadId: number, at: Date, text: string): Promise<string> {
  const outcome = await setReminder(turn.deps, { leadId, member: turn.member, at, text }, async (tx, o) => {
    if (o.kind === 'not_found') return reply(tx, turn, notFound(turn, leadId));
    if (o.kind === 'not_authorised') return reply(tx, turn, notYours(turn, o.lead), { leadId });
    await setFocus(tx, turn.member.id, leadId, turn.now);
    const when = formatLocalTime(at, turn.timeZone, turn.lang);
    return reply(
      tx,
      turn,
      t(
        turn,
        `好的，${when} 提醒你跟进 ${label(turn, o.lead)}${text ? `：${text}` : ''}。`,
        `OK, I'll remind you about ${label(turn, o.lead)} on ${when}${text ? `: ${text}` : ''}.`,
      ),
      { leadId },
    );
  });
  return outcome.kind;
}

async function show(turn: Turn, leadId: number): Promise<string> {
  const { deps, member } = turn;
  const [lead] = await deps.db.select().from(leads).where(eq(leads.id, leadId));
  if (!lead) return say(turn, notFound(turn, leadId), 'not_found');
  const mayRead = canWrite(deps, member, lead) || lead.assigneeId === member.id;
  const inTeamPool =
    !lead.ownerId &&
    !lead.assigneeId &&
    !!lead.teamId &&
    deps.directory.teamsOf(member.id).some((team) => team.id === lead.teamId);
  if (!mayRead && !inTeamPool) return say(turn, notYours(turn, lead), 'not_authorised', leadId);
  const team = lead.teamId ? deps.directory.team(lead.teamId) : undefined;
  const events = await deps.db
    .select()
    .from(leadEvents)
    .where(eq(leadEvents.leadId, leadId))
    .orderBy(leadEvents.id)
    .limit(500);
  const recent = events
    .slice(-4)
    .reverse()
    .map((e) => timelineLine(turn, e))
    .filter(Boolean)
    .join('\n');
  await withTransaction(deps.db, async (tx) => {
    const cardId = await queueCard(tx, deps, {
      leadId,
      member,
      template: mayRead ? 'detail' : 'pool-offer',
      context: cardContext(
        deps,
        lead,
        mayRead ? { recent } : { reason: t(turn, '公海线索，可抢单', 'In the pool') },
        team,
      ),
      dedupeKey: `reply:${turn.event.platform}:${turn.event.eventId}:card`,
      focus: mayRead,
    });
    if (!cardId)
      await reply(tx, turn, t(turn, '无法发送卡片：你没有可用的聊天账号。', 'Cannot send the card.'), {
        leadId,
      });
  });
  return mayRead ? 'detail' : 'pool_card';
}

const EVENT_NAMES: Record<string, string> = {
  'lead.created': '创建',
  'lead.duplicate': '重复提交已合并',
  'lead.assigned': '分配',
  'lead.rerouted': '改派',
  'lead.claimed': '认领',
  'lead.released': '退回公海',
  'lead.recycled': '收回公海',
  'lead.pooled': '进入公海',
  'lead.note_added': '跟进',
  'lead.followed_up': '已跟进',
  'lead.stage_changed': '阶段',
  'lead.reassigned': '转派',
  'reminder.set': '设提醒',
  'sla.escalated': '超时升级',
  'sla.reminded': '跟进提醒',
};

function timelineLine(turn: Turn, event: typeof leadEvents.$inferSelect): string {
  const name = EVENT_NAMES[event.type];
  if (!name) return '';
  const when = formatLocalTime(event.createdAt, turn.timeZone, 'zh').replace(/周./, '').trim();
  const who = event.actorId ? (turn.deps.directory.member(event.actorId)?.name ?? '') : '';
  const data = event.data as Record<string, unknown>;
  let what = name;
  if (event.type === 'lead.note_added') what = `跟进：${String(data.text ?? '').slice(0, 30)}`;
  if (event.type === 'lead.stage_changed')
    what = `阶段 ${stageName(String(data.from))}→${stageName(String(data.to))}`;
  return `${when} ${who} ${what}`.replace(/\s+/g, ' ').trim();
}

async function reassign(turn: Turn, leadId: number, to: string): Promise<string> {
  const outcome = await reassignLead(turn.deps, { leadId, actor: turn.member, to }, async (tx, o) => {
    switch (o.kind) {
      case 'not_found':
        return reply(tx, turn, notFound(turn, leadId));
      case 'not_authorised': {
        const team = o.lead.teamId ? turn.deps.directory.team(o.lead.teamId) : undefined;
        const sup = team ? turn.deps.directory.member(team.supervisor)?.name : undefined;
        return reply(
          tx,
          turn,
          t(
            turn,
            `只有线索所在团队的主管或总监可以转派 ${label(turn, o.lead, false)}${sup ? `（主管：${sup}）` : ''}。`,
            `Only the supervisor or director of the lead's team${sup ? ` (${sup})` : ''} may reassign ${label(turn, o.lead, false)}.`,
          ),
          { leadId },
        );
      }
      case 'closed':
        return reply(
          tx,
          turn,
          t(
            turn,
            `${label(turn, o.lead)} 已结束（赢单或输单），不能转派。`,
            `${label(turn, o.lead)} is closed.`,
          ),
          { leadId },
        );
      case 'unknown_member': {
        const team = turn.deps.directory.team(o.lead.teamId!);
        const names = (team?.members ?? [])
          .map((id) => turn.deps.directory.member(id))
          .filter((m) => m?.active)
          .map((m) => m!.name)
          .join(turn.lang === 'en' ? ', ' : '、');
        return reply(
          tx,
          turn,
          t(
            turn,
            `团队里没有「${o.typed}」。可以转派给：${names}`,
            `No team member "${o.typed}". Members: ${names}`,
          ),
          { leadId },
        );
      }
      case 'same_owner':
        return reply(
          tx,
          turn,
          t(
            turn,
            `${label(turn, o.lead)} 已经由${o.to.name}负责。`,
            `${o.to.name} already owns ${label(turn, o.lead)}.`,
          ),
          { leadId },
        );
      case 'reassigned':
        await setFocus(tx, turn.member.id, leadId, turn.now);
        return reply(
          tx,
          turn,
          t(
            turn,
            `已将 ${label(turn, o.lead)} 转派给${o.to.name}${o.from ? `（原负责人：${o.from.name}）` : ''}，已通知对方。`,
            `Reassigned ${label(turn, o.lead)} to ${o.to.name}${o.from ? ` (was ${o.from.name})` : ''}.`,
          ),
          { leadId },
        );
    }
  });
  return outcome.kind;
}

async function mine(turn: Turn): Promise<string> {
  const { total, leads: list } = await listMyLeads(turn.deps.db, turn.member.id);
  if (total === 0) return say(turn, t(turn, '你现在没有未结的线索。', 'You have no open leads.'), 'empty');
  const shown = list.slice(0, 10).map((item, i) => {
    const l = item.lead;
    const due = item.nextDueAt
      ? item.nextDueAt.getTime() <= turn.now.getTime()
        ? t(turn, '已到期', 'overdue')
        : formatLocalTime(item.nextDueAt, turn.timeZone, turn.lang)
      : '';
    return `${i + 1}. ${label(turn, l)} · ${l.grade} · ${stageName(l.stage, turn.lang)}${due ? ` · ${due}` : ''}`;
  });
  const head = t(
    turn,
    `你的未结线索 ${total} 条（最紧急的在前）：`,
    `Your open leads: ${total} (most urgent first):`,
  );
  const more = total > 10 ? t(turn, `\n……还有 ${total - 10} 条`, `\n…and ${total - 10} more`) : '';
  return say(
    turn,
    `${head}\n${shown.join('\n')}${more}\n${t(turn, '回复「详情 编号」看详情。', 'Reply "show <id>" for details.')}`,
    'listed',
  );
}

async function pool(turn: Turn): Promise<string> {
  const teams = turn.deps.directory.teamsOf(turn.member.id).map((team) => team.id);
  const entries = await listPool(turn.deps.db, teams, 10);
  if (entries.length === 0) return say(turn, t(turn, '公海里现在没有线索。', 'The pool is empty.'), 'empty');
  const lines = entries.map(
    (e, i) =>
      `${i + 1}. #${e.id} ${[e.name, e.company].filter(Boolean).join(' · ')} · ${e.grade} · ${turn.deps.directory.sourceName(e.sourceId)}`,
  );
  return say(
    turn,
    `${t(turn, '公海线索（最好的在前）：', 'Pool (best first):')}\n${lines.join('\n')}\n${t(turn, '回复「认领 编号」抢单。', 'Reply "claim <id>" to grab one.')}`,
    'listed',
  );
}

async function away(turn: Turn, until: Date): Promise<string> {
  try {
    await setAway(turn.deps, {
      memberId: turn.member.id,
      until,
      setBy: { kind: 'member', memberId: turn.member.id },
      now: turn.now,
    });
  } catch (error) {
    if (error instanceof AppError) return say(turn, error.message, 'refused');
    throw error;
  }
  const when = formatLocalTime(until, turn.timeZone, turn.lang);
  return say(
    turn,
    t(
      turn,
      `已设置离开，到 ${when}。这段时间不会给你分配新线索；提前回来请回复「回来了」。`,
      `You are away until ${when}; no new leads meanwhile. Reply "back" when you return.`,
    ),
    'away',
  );
}

async function back(turn: Turn): Promise<string> {
  const wasAway = await setBack(turn.deps, {
    memberId: turn.member.id,
    setBy: { kind: 'member', memberId: turn.member.id },
    now: turn.now,
  });
  return say(
    turn,
    wasAway
      ? t(turn, '欢迎回来！已恢复给你分配新线索。', 'Welcome back! New leads will reach you again.')
      : t(turn, '你当前不在离开状态，新线索照常分配。', 'You were not away; leads reach you as usual.'),
    wasAway ? 'back' : 'not_away',
  );
}

/**
 * 战报 / digest: the member's team's figures for today so far, to the member alone (the scheduled
 * digest of yesterday goes to the group once a day; this one may be asked for any time).
 */
async function digest(turn: Turn): Promise<string> {
  const team = turn.deps.directory.teamsOf(turn.member.id)[0];
  if (!team) return say(turn, t(turn, '你不在任何团队中，没有战报。', 'You are not in a team.'), 'no_team');
  // Today so far: a member asking during the day wants today's figures (yesterday's went to the group).
  const { period, periodKey } = digestPeriod(
    'daily',
    team.timezone,
    new Date(turn.now.getTime() + 86_400_000),
  );
  const built = await buildDigest(turn.deps, { team, kind: 'daily', period, periodKey });
  await withTransaction(turn.deps.db, (tx) =>
    enqueueOutbox(
      tx,
      [
        {
          dedupeKey: `reply:${turn.event.platform}:${turn.event.eventId}`,
          platform: turn.event.platform,
          message: {
            kind: 'markdown',
            to: { kind: 'user', userId: turn.event.userId },
            markdown: built.markdown,
          },
        },
      ],
      turn.deps.clock.now(),
    ),
  );
  return 'sent';
}
