import { and, eq } from 'drizzle-orm';
import { cards, cardUpdateTokens, leads, outbox } from '../../src/db/schema';
import { withTransaction } from '../../src/db/transaction';
import { cardContext, settleCard } from '../../src/leads/lead-cards';
import { request } from '../helpers/http';
import { startWecomStack, type WecomStack, waitFor } from '../helpers/wecom-stack';

/**
 * Found by `npm run test:chaos`: a timer voiding a card and a click settling it at the same moment
 * both read the card's one update token and both queued an update with it; WeCom applied the first and
 * refused the second (40058, single-use response_code), which was dead-lettered. Now the token is
 * taken out of the table by the update that uses it, and the loser queues nothing.
 */
let stack: WecomStack;
beforeAll(async () => {
  stack = await startWecomStack();
});
afterAll(() => stack.close());

it('two updates racing for one card token: exactly one is queued', async () => {
  const key = await stack.app.createKey('website');
  const res = await request(`${stack.app.url}/api/v1/leads`, {
    body: { name: '抢令牌', phone: '13600000077', industry: '制造业', title: '总经理' },
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(201);
  const leadId = res.body.id as number;
  const db = stack.app.database.db;
  // The new-lead card is sent and its answer's response_code stored as the card's update token.
  const card = await waitFor(async () => {
    const [row] = await db.select().from(cards).where(eq(cards.leadId, leadId));
    if (!row) return undefined;
    const [token] = await db.select().from(cardUpdateTokens).where(eq(cardUpdateTokens.cardId, row.id));
    return token ? row : undefined;
  }, 'the card and its update token');
  const [lead] = await db.select().from(leads).where(eq(leads.id, leadId));
  const deps = stack.app.server.deps;
  const member = deps.directory.member(card.recipients[0]!)!;
  const settle = (dedupeKey: string) =>
    withTransaction(db, (tx) =>
      settleCard(tx, deps, {
        card,
        lead: lead!,
        template: 'closed',
        context: cardContext(deps, lead!, { reason: '测试' }),
        members: [member],
        dedupeKey,
      }),
    );
  const outcomes = await Promise.all([settle(`card:${card.id}:race-a`), settle(`card:${card.id}:race-b`)]);
  expect(outcomes.sort()).toEqual([false, true]);
  const updates = await db
    .select()
    .from(outbox)
    .where(and(eq(outbox.cardId, card.id), eq(outbox.kind, 'card_update')));
  expect(updates).toHaveLength(1);
  expect(await db.select().from(cardUpdateTokens).where(eq(cardUpdateTokens.cardId, card.id))).toEqual([]);
});
