import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { CardContext } from '../cards/card-context';
import { renderCard } from '../cards/render-card';
import type { MemberConfig, TeamConfig } from '../config/org-types';
import type { Tx } from '../db/client';
import { cards, cardUpdateTokens, GROUP_CARD_TOKEN_HOLDER } from '../db/schema';
import { enqueueOutbox, type OutboxItem } from '../outbox/enqueue';
import type { LeadDeps } from './lead-deps';
import type { LeadRow } from './lead-record';
import { stageName } from './stages';

export type CardRow = typeof cards.$inferSelect;

export function cardContext(
  deps: LeadDeps,
  lead: LeadRow,
  extra: Omit<CardContext, 'lead' | 'timezone'> = {},
  team?: TeamConfig,
): CardContext {
  return {
    lead: {
      id: lead.id,
      name: lead.name,
      phone: lead.phone,
      company: lead.company,
      title: lead.title,
      province: lead.province,
      city: lead.city,
      industry: lead.industry,
      need: lead.need,
      sourceName: deps.directory.sourceName(lead.sourceId),
      grade: lead.grade,
      score: lead.score,
      budget: lead.budgetText ?? (lead.budget !== null ? `${lead.budget} 元` : null),
      authority: lead.authority,
      timeline: lead.purchaseTimeline,
      stage: stageName(lead.stage),
    },
    timezone: team?.timezone ?? deps.org.timezone,
    ...(team ? { team: { name: team.name } } : {}),
    ...extra,
  };
}

/**
 * Card ids are WeCom task_ids: unique per app forever, `[0-9A-Za-z_-@]`, ≤ 128 bytes (path 90236).
 * The random part keeps a reinstalled database (ids starting again at 1) clear of old task ids.
 */
function newCardId(leadId: number, template: string): string {
  return `L${leadId}-${template}-${randomBytes(4).toString('hex')}`;
}

/**
 * Queues a card to one member inside the caller's transaction: a `cards` row (so the click finds its
 * lead) and an outbox row with a deterministic key. Skipped, with a log line, when the member has no
 * account on an enabled platform.
 */
export async function queueCard(tx: Tx, deps: LeadDeps, input: CardRequest): Promise<string | null> {
  const writes = buildCardWrites(deps, input);
  if (!writes) return null;
  await tx.insert(cards).values(writes.card);
  await enqueueOutbox(tx, [writes.outbox], writes.card.createdAt);
  return writes.card.id;
}

export interface CardRequest {
  leadId: number;
  member: MemberConfig;
  template: string;
  context: CardContext;
  dedupeKey: string;
  /**
   * Whether this card makes its lead the member's current one (free text then goes to it). Default
   * true; false for cards offered to many (pool offers), which a member cannot write to.
   */
  focus?: boolean;
}

export type CardWrites = {
  card: typeof cards.$inferInsert & { id: string; createdAt: Date };
  outbox: OutboxItem;
};

/**
 * The two rows a card needs, built without touching the database, so a caller can write them in a
 * drizzle transaction (queueCard) or in a one-round-trip batch (the intake). Null, with a log line,
 * when the member has no account on an enabled platform.
 */
export function buildCardWrites(deps: LeadDeps, input: CardRequest): CardWrites | null {
  const address = deps.directory.addressOf(input.member, deps.platforms);
  if (!address) {
    deps.logger.warn(
      { leadId: input.leadId, memberId: input.member.id },
      'member has no enabled chat account; card not sent',
    );
    return null;
  }
  const cardId = newCardId(input.leadId, input.template);
  const card = renderCard(deps.cards, input.template, input.context);
  return {
    card: {
      id: cardId,
      leadId: input.leadId,
      template: input.template,
      platform: address.platform,
      recipients: [input.member.id],
      focusMemberId: input.focus === false ? null : input.member.id,
      createdAt: deps.clock.now(),
    },
    outbox: {
      dedupeKey: input.dedupeKey,
      platform: address.platform,
      leadId: input.leadId,
      cardId,
      message: { kind: 'card', to: { kind: 'user', userId: address.userId }, cardId, card },
    },
  };
}

/**
 * Queues one card to a team's group chat for several members at once (a pool offer on a platform
 * whose group cards call back): one `cards` row whose recipients are those members, so any of them
 * may click it, and one outbox row to the group.
 */
export async function queueGroupCard(
  tx: Tx,
  deps: LeadDeps,
  input: Omit<CardRequest, 'member' | 'focus'> & {
    members: MemberConfig[];
    group: { platform: 'wecom' | 'dingtalk'; groupKey: string };
  },
): Promise<string> {
  const cardId = newCardId(input.leadId, input.template);
  const card = renderCard(deps.cards, input.template, input.context);
  const now = deps.clock.now();
  await tx.insert(cards).values({
    id: cardId,
    leadId: input.leadId,
    template: input.template,
    platform: input.group.platform,
    recipients: input.members.map((m) => m.id),
    focusMemberId: null,
    createdAt: now,
  });
  await enqueueOutbox(
    tx,
    [
      {
        dedupeKey: input.dedupeKey,
        platform: input.group.platform,
        leadId: input.leadId,
        cardId,
        message: { kind: 'card', to: { kind: 'group', groupKey: input.group.groupKey }, cardId, card },
      },
    ],
    now,
  );
  return cardId;
}

/**
 * Updates a card in place for the given members (the claimed state, or void with a reason) and marks
 * it settled. Needs an update token: the one from the click that caused this, else the freshest one
 * stored for a recipient or, for a card in a group chat, for the group (a pool offer grabbed by
 * command). Without one the card cannot change (WeCom response codes are single use).
 */
export async function settleCard(
  tx: Tx,
  deps: LeadDeps,
  input: {
    card: CardRow;
    lead: LeadRow;
    template: 'claimed' | 'closed';
    context: CardContext;
    members: MemberConfig[];
    updateToken?: { userId: string; token: string };
    dedupeKey: string;
  },
): Promise<boolean> {
  const userIds = input.members
    .map((m) => deps.directory.addressOf(m, deps.platforms))
    .filter((a): a is NonNullable<typeof a> => a !== null && a.platform === input.card.platform)
    .map((a) => a.userId);
  if (userIds.length === 0) return false;
  let token = input.updateToken?.token;
  let tokenOwner = input.updateToken?.userId;
  if (!token) {
    const stored = await tx
      .select()
      .from(cardUpdateTokens)
      .where(
        and(
          eq(cardUpdateTokens.cardId, input.card.id),
          inArray(cardUpdateTokens.userId, [...userIds, GROUP_CARD_TOKEN_HOLDER]),
        ),
      )
      .orderBy(cardUpdateTokens.issuedAt)
      .limit(10);
    const freshest = stored.at(-1);
    token = freshest?.token;
    tokenOwner = freshest?.userId;
  }
  const now = deps.clock.now();
  await tx.update(cards).set({ status: 'settled', settledAt: now }).where(eq(cards.id, input.card.id));
  if (!token) {
    deps.logger.warn({ cardId: input.card.id }, 'no card update token available; card left as it is');
    return false;
  }
  // A token is single use: take it out of the table with the update that uses it, and only if it is
  // still there. Two updates racing for one card (a timer voiding it while a click settles it) both
  // read the same token; the second DELETE waits for the first to commit, finds nothing and queues no
  // update, where before both were queued and WeCom refused the second (found by
  // `npm run test:chaos`: update rows dead-lettered with 40058).
  const [taken] = await tx
    .delete(cardUpdateTokens)
    .where(
      and(
        eq(cardUpdateTokens.cardId, input.card.id),
        eq(cardUpdateTokens.userId, tokenOwner!),
        eq(cardUpdateTokens.token, token),
      ),
    );
  if (taken.affectedRows !== 1 && !(await supersededClickToken(tx, input.card.id, input.updateToken))) {
    deps.logger.warn({ cardId: input.card.id }, 'card update token taken by another update; card left to it');
    return false;
  }
  const card = renderCard(deps.cards, input.template, input.context);
  await enqueueOutbox(
    tx,
    [
      {
        dedupeKey: input.dedupeKey,
        platform: input.card.platform as 'wecom' | 'dingtalk',
        leadId: input.lead.id,
        cardId: input.card.id,
        message: { kind: 'card_update', userIds, cardId: input.card.id, card, updateToken: token },
      },
    ],
    now,
  );
  return true;
}

/**
 * A click's own token that is no longer in the table because a newer click of the same member on the
 * same card replaced it: nobody else ever saw it, so it is still this update's alone. (Gone with no
 * newer token in its place means another update took it.)
 */
async function supersededClickToken(
  tx: Tx,
  cardId: string,
  click: { userId: string; token: string } | undefined,
): Promise<boolean> {
  if (!click) return false;
  const [row] = await tx
    .select({ token: cardUpdateTokens.token })
    .from(cardUpdateTokens)
    .where(and(eq(cardUpdateTokens.cardId, cardId), eq(cardUpdateTokens.userId, click.userId)));
  return row !== undefined && row.token !== click.token;
}
