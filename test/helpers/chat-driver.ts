import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import type { DingtalkCard, DingtalkChatMessage } from '../../src/emulator/dingtalk/types';
import type { CardView, ChatMessage, GroupMessage } from '../../src/emulator/wecom/types';
import type { ManualClock } from '../../src/lib/clock';
import type { PlatformName } from '../../src/platforms/types';
import { type DingtalkStack, startDingtalkStack } from './dingtalk-stack';
import type { TestApp } from './test-app';
import { startWecomStack, type WecomStack, waitFor } from './wecom-stack';

export { waitFor };

/**
 * A neutral "chat driver" for the end-to-end tests of assignment, conversation and digests (issue 7:
 * "parametrise them rather than copy them"): the real server and the emulator of one platform, driven
 * in member ids. Tests speak of `rep_a`, a lead id and a card template; the driver knows that on WeCom
 * a card is a template_card found by task_id and voided with replace_name, and on DingTalk an
 * interactive card found and updated by outTrackId, possibly in the team group.
 */

/** The platforms the parametrised suites run on; `LEADRELAY_E2E_PLATFORMS=dingtalk` narrows them. */
export const PLATFORMS: PlatformName[] = (() => {
  const all: PlatformName[] = ['wecom', 'dingtalk'];
  const wanted = process.env.LEADRELAY_E2E_PLATFORMS?.split(',').map((p) => p.trim());
  return wanted ? all.filter((p) => wanted.includes(p)) : all;
})();

/** What genuinely differs between the platforms, stated once for the tests to branch on. */
export interface PlatformTraits {
  /**
   * Where a pooled lead's 抢单 card goes: one card in each offered member's chat (WeCom group robots
   * carry no buttons), or one card in the team group whose clicks call back (DingTalk).
   */
  poolOffers: 'each-member' | 'team-group';
  /** Whether the digest is followed by its funnel chart image (DingTalk robots post no images). */
  digestChart: boolean;
}

export const TRAITS: Record<PlatformName, PlatformTraits> = {
  wecom: { poolOffers: 'each-member', digestChart: true },
  dingtalk: { poolOffers: 'team-group', digestChart: false },
};

/** One of our cards as a member sees it. */
export interface ChatCard {
  /** Our card id (WeCom task_id, DingTalk outTrackId). */
  id: string;
  /** Settled: the buttons are gone (WeCom: greyed with replace_name; DingTalk: status settled). */
  settled: boolean;
  /** What the settled card says instead of its buttons (WeCom cuts it to the button's 10 characters). */
  settledText: string | undefined;
  /** Everything the card shows, as one string to search. */
  text: string;
}

/** A message the bot sent a member one-to-one. */
export interface BotMessage {
  kind: 'text' | 'markdown' | 'card' | 'other';
  text: string;
}

/** A message in a team's group chat: robot digests, group cards. */
export interface GroupPost {
  kind: 'text' | 'markdown' | 'image' | 'card' | 'other';
  /** The visible text (markdown source, text content, card variables). */
  content: string;
  /** The whole message as sent, to search for what must never appear. */
  raw: string;
}

/** A member's message as delivered; `redeliver` sends it again byte for byte (a platform retry). */
export interface SentText {
  ok: boolean;
  redeliver(): Promise<{ ok: boolean }>;
}

export interface ChatDriver {
  readonly platform: PlatformName;
  readonly traits: PlatformTraits;
  readonly app: TestApp;
  readonly db: TestApp['database']['db'];
  readonly clock: ManualClock;
  /** The platform user id of a member (WeCom userid, DingTalk staff id). */
  userId(memberId: string): string;
  /** The member writes to the bot one-to-one. */
  send(memberId: string, text: string): Promise<SentText>;
  /** The member clicks a button (by action id) on the card of this lead and template they can see. */
  click(memberId: string, leadId: number, template: string, actionId: string): Promise<{ ok: boolean }>;
  /** The newest card of this lead and template the member can see: in their chat or their team group. */
  card(memberId: string, leadId: number, template: string): ChatCard | undefined;
  /** The same, in the member's one-to-one chat only. */
  directCard(memberId: string, leadId: number, template: string): ChatCard | undefined;
  /** The newest card of this lead and template in the team's group chat (DingTalk only). */
  groupCard(teamId: string, leadId: number, template: string): ChatCard | undefined;
  /** What the bot sent the member one-to-one, oldest first. */
  messagesTo(memberId: string): BotMessage[];
  /** The texts among them. */
  textsTo(memberId: string): string[];
  /** The team's group chat (robot posts and group cards), oldest first. */
  groupPosts(teamId: string): GroupPost[];
  close(): Promise<void>;
}

export interface ChatStackOptions {
  /** The org fixture, written for WeCom; for DingTalk it is rewritten (see `dingtalkOrg`). */
  orgFile: string;
  server?: NonNullable<Parameters<typeof startWecomStack>[0]>['server'];
}

interface OrgJson {
  members: { id: string; name: string; platforms: { wecom?: string; dingtalk?: string } }[];
  teams: {
    id: string;
    name: string;
    supervisor?: string;
    director?: string;
    members: string[];
    dingtalk?: { openConversationId: string };
    digest?: { robot?: { wecom?: string; dingtalk?: { accessToken: string; secret: string } } };
  }[];
}

const readOrg = (file: string) => parseJsonc(readFileSync(file, 'utf8')) as OrgJson;

const teamMemberIds = (team: OrgJson['teams'][number]) =>
  [...new Set([...team.members, team.supervisor, team.director])].filter((m): m is string => !!m);

const textsOf = (messages: BotMessage[]) => messages.filter((m) => m.kind === 'text').map((m) => m.text);

const cardPrefix = (leadId: number, template: string) => `L${leadId}-${template}-`;

/** Starts the server and the emulator of `platform` for an org fixture. */
export function startChatStack(platform: PlatformName, options: ChatStackOptions): Promise<ChatDriver> {
  return platform === 'wecom' ? startWecom(options) : startDingtalk(options);
}

// --- WeCom ---

async function startWecom(options: ChatStackOptions): Promise<ChatDriver> {
  const org = readOrg(options.orgFile);
  const stack: WecomStack = await startWecomStack({
    orgFile: options.orgFile,
    members: org.members
      .filter((m) => m.platforms.wecom)
      .map((m) => ({ userid: m.platforms.wecom!, name: m.name })),
    groupRobots: org.teams.flatMap((t) =>
      t.digest?.robot?.wecom ? [{ key: t.digest.robot.wecom, name: `${t.name}销售群` }] : [],
    ),
    ...(options.server ? { server: options.server } : {}),
  });
  const { state, control } = stack.emulator;
  const userId = (memberId: string) => {
    const found = org.members.find((m) => m.id === memberId)?.platforms.wecom;
    if (!found) throw new Error(`member ${memberId} has no WeCom userid in ${options.orgFile}`);
    return found;
  };
  const view = (message: ChatMessage & { card: CardView }): ChatCard => ({
    id: message.card.taskId!,
    settled: message.card.disabled,
    settledText: message.card.replaceName,
    text: JSON.stringify(message.card),
  });
  const findCard = (memberId: string, leadId: number, template: string) =>
    state.cards(userId(memberId)).find((c) => c.card.taskId?.startsWith(cardPrefix(leadId, template)));
  const KINDS: Record<string, BotMessage['kind']> = {
    text: 'text',
    markdown: 'markdown',
    template_card: 'card',
  };
  const messagesTo = (memberId: string): BotMessage[] =>
    (state.chat(userId(memberId))?.messages ?? [])
      .filter((m) => m.direction === 'out')
      .map((m) => ({
        kind: KINDS[m.msgtype] ?? 'other',
        text: m.text ?? m.markdown ?? (m.card ? JSON.stringify(m.card) : JSON.stringify(m)),
      }));
  return {
    platform: 'wecom',
    traits: TRAITS.wecom,
    app: stack.app,
    db: stack.app.database.db,
    clock: stack.clock,
    userId,
    async send(memberId, text) {
      const outcome = await control.sendText(userId(memberId), text);
      return { ok: outcome.ok, redeliver: () => control.redeliver(outcome) };
    },
    async click(memberId, leadId, template, actionId) {
      const found = findCard(memberId, leadId, template);
      if (!found) throw new Error(`${memberId} has no ${template} card of #${leadId}`);
      return control.clickButton(userId(memberId), { taskId: found.card.taskId!, eventKey: actionId });
    },
    card(memberId, leadId, template) {
      const found = findCard(memberId, leadId, template);
      return found && view(found);
    },
    directCard(memberId, leadId, template) {
      const found = findCard(memberId, leadId, template);
      return found && view(found);
    },
    // WeCom group robots post cards without buttons; nothing of ours is a group card there.
    groupCard: () => undefined,
    messagesTo,
    textsTo: (memberId) => textsOf(messagesTo(memberId)),
    groupPosts(teamId) {
      const key = org.teams.find((t) => t.id === teamId)?.digest?.robot?.wecom;
      const messages: GroupMessage[] = (key && state.group(key)?.messages) || [];
      return messages.map((m) => {
        const body = m.body as { content?: string; markdown?: { content?: string } };
        const kind = (['text', 'markdown', 'image'] as const).find((k) => k === m.msgtype);
        return {
          kind: kind ?? (m.msgtype === 'template_card' ? 'card' : 'other'),
          content: body.content ?? body.markdown?.content ?? '',
          raw: JSON.stringify(m.body),
        };
      });
    },
    close: () => stack.close(),
  };
}

// --- DingTalk ---

/** A DingTalk staff id for the i-th member of a fixture: digits, nothing like its WeCom userid. */
const staffId = (index: number) => `05${String(index + 1).padStart(5, '0')}`;

/**
 * The fixture with every team on DingTalk: members carry `platforms.dingtalk` staff ids (and no WeCom
 * userid), each team a group (`teams[].dingtalk.openConversationId`) and, where it had a WeCom group
 * robot for digests, a DingTalk custom robot instead.
 */
export function dingtalkOrg(orgFile: string): OrgJson {
  const raw = readOrg(orgFile);
  const members = raw.members.map((m, i) => ({ ...m, platforms: { dingtalk: staffId(i) } }));
  const teams = raw.teams.map((t) => {
    const { digest, ...rest } = t;
    const robot = digest?.robot?.wecom
      ? { dingtalk: { accessToken: `dt-robot-${t.id}-token`, secret: `SEC${t.id}robotsecret0001` } }
      : undefined;
    return {
      ...rest,
      dingtalk: { openConversationId: `cid${t.id}Team0001` },
      ...(digest ? { digest: { ...digest, ...(robot ? { robot } : {}) } } : {}),
    };
  });
  return { ...raw, members, teams };
}

async function startDingtalk(options: ChatStackOptions): Promise<ChatDriver> {
  const org = dingtalkOrg(options.orgFile);
  const dir = mkdtempSync(path.join(tmpdir(), 'leadrelay-e2e-'));
  const orgFile = path.join(dir, `dingtalk-${path.basename(options.orgFile)}`);
  writeFileSync(orgFile, JSON.stringify(org, null, 2));
  const userId = (memberId: string) => {
    const found = org.members.find((m) => m.id === memberId)?.platforms.dingtalk;
    if (!found) throw new Error(`member ${memberId} has no DingTalk staff id`);
    return found;
  };
  const robotName = (team: OrgJson['teams'][number]) => `${team.name}战报机器人`;
  let stack: DingtalkStack;
  try {
    stack = await startDingtalkStack({
      orgFile,
      members: org.members.map((m) => ({ userId: m.platforms.dingtalk!, name: m.name })),
      groups: org.teams.map((t) => ({
        openConversationId: t.dingtalk!.openConversationId,
        name: `${t.name}销售群`,
        members: teamMemberIds(t).map(userId),
      })),
      customRobots: org.teams.flatMap((t) =>
        t.digest?.robot?.dingtalk ? [{ ...t.digest.robot.dingtalk, name: robotName(t) }] : [],
      ),
      // The emulator judges its per-app QPS window (40 calls a second) on the manual clock, which these
      // suites never move: every call of a whole file would fall in one "second". The WeCom emulator has
      // no per-app window; the per-member, per-group and custom robot limits stay as they are.
      rateLimits: { apiPerSecond: 100_000 },
      ...(options.server ? { server: options.server } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { state, control } = stack.dingtalk;
  // Clicks go to the card callback URL the server registers at start.
  await waitFor(() => state.callbacks.size > 0, 'the card callback registration');

  const team = (teamId: string) => {
    const found = org.teams.find((t) => t.id === teamId);
    if (!found) throw new Error(`no team ${teamId}`);
    return found;
  };
  const view = (card: DingtalkCard): ChatCard => ({
    id: card.outTrackId,
    settled: card.params.status === 'settled',
    settledText: card.params.settled || undefined,
    text: JSON.stringify(card.params),
  });
  const inSpace = (space: { userId: string } | { group: string }, leadId: number, template: string) =>
    state.cards(space).find((c) => c.outTrackId.startsWith(cardPrefix(leadId, template)));
  const findCard = (memberId: string, leadId: number, template: string) => {
    const own = inSpace({ userId: userId(memberId) }, leadId, template);
    if (own) return own;
    for (const t of org.teams) {
      if (!teamMemberIds(t).includes(memberId)) continue;
      const shared = inSpace({ group: t.dingtalk!.openConversationId }, leadId, template);
      if (shared) return shared;
    }
    return undefined;
  };
  const cardText = (outTrackId: string | undefined) =>
    JSON.stringify(outTrackId ? (state.cardsById.get(outTrackId)?.params ?? {}) : {});
  const kindOf = (m: DingtalkChatMessage): GroupPost['kind'] => {
    if (m.kind === 'sampleText' || m.kind === 'text') return 'text';
    if (m.kind === 'sampleMarkdown' || m.kind === 'markdown') return 'markdown';
    return m.kind === 'card' ? 'card' : 'other';
  };
  const messagesTo = (memberId: string): BotMessage[] =>
    (state.chat(userId(memberId))?.messages ?? [])
      .filter((m) => m.direction === 'out')
      .map((m) => {
        const kind = kindOf(m);
        return {
          kind: kind === 'image' ? 'other' : kind,
          text: kind === 'card' ? cardText(m.outTrackId) : (m.markdown ?? m.text ?? ''),
        };
      });
  return {
    platform: 'dingtalk',
    traits: TRAITS.dingtalk,
    app: stack.app,
    db: stack.app.database.db,
    clock: stack.clock,
    userId,
    async send(memberId, text) {
      const outcome = await control.sendText(userId(memberId), text);
      return { ok: outcome.ok, redeliver: () => control.redeliver(outcome) };
    },
    async click(memberId, leadId, template, actionId) {
      const found = findCard(memberId, leadId, template);
      if (!found) throw new Error(`${memberId} sees no ${template} card of #${leadId}`);
      return control.clickButton(userId(memberId), { outTrackId: found.outTrackId, action: actionId });
    },
    card(memberId, leadId, template) {
      const found = findCard(memberId, leadId, template);
      return found && view(found);
    },
    directCard(memberId, leadId, template) {
      const found = inSpace({ userId: userId(memberId) }, leadId, template);
      return found && view(found);
    },
    groupCard(teamId, leadId, template) {
      const found = inSpace({ group: team(teamId).dingtalk!.openConversationId }, leadId, template);
      return found && view(found);
    },
    messagesTo,
    textsTo: (memberId) => textsOf(messagesTo(memberId)),
    groupPosts(teamId) {
      const t = team(teamId);
      // The custom robot posts into the same group chat as the app robot: one timeline, by sequence.
      const messages = [
        ...(state.group(t.dingtalk!.openConversationId)?.messages ?? []),
        ...state.robotPosts(robotName(t)),
      ]
        .filter((m) => m.direction === 'out')
        .sort((a, b) => a.seq - b.seq);
      return messages.map((m) => {
        const kind = kindOf(m);
        const content = kind === 'card' ? cardText(m.outTrackId) : (m.markdown ?? m.text ?? '');
        return {
          kind,
          content,
          raw: JSON.stringify({ ...m, ...(kind === 'card' ? { card: content } : {}) }),
        };
      });
    },
    close: async () => {
      try {
        await stack.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
