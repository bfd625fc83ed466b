import { eq } from 'drizzle-orm';
import { setFocus } from '../conversation/focus';
import { handleText } from '../conversation/handle-text';
import { cardRefusalText } from '../conversation/replies';
import { cards } from '../db/schema';
import { withTransaction } from '../db/transaction';
import type { AssignDeps } from '../leads/assign-lead';
import { handleCardAction } from '../leads/card-actions';
import { enqueueOutbox } from '../outbox/enqueue';
import type { InboundEvent } from '../platforms/types';

/**
 * Routes a verified, stored inbound event to its domain action: text to the conversation
 * (commands and notes), card clicks to the card actions. A click that is refused (not the clicker's
 * lead, a pool limit) is answered in chat, politely, saying who may act; the card itself already
 * shows why where it can.
 */
export async function handleInboundEvent(deps: AssignDeps, event: InboundEvent): Promise<void> {
  switch (event.kind) {
    case 'card_action': {
      const outcome = await handleCardAction(deps, event);
      deps.logger.info({ cardId: event.cardId, actionId: event.actionId, outcome }, 'card action handled');
      const member = deps.directory.memberByPlatformUser(event.platform, event.userId);
      const refusal = cardRefusalText(deps, outcome, member);
      const [card] = member ? await deps.db.select().from(cards).where(eq(cards.id, event.cardId)) : [];
      await withTransaction(deps.db, async (tx) => {
        // The lead of the card a member acted on becomes their current one (PRODUCT.md 8).
        if (member && card) await setFocus(tx, member.id, card.leadId, deps.clock.now());
        if (!refusal) return;
        await enqueueOutbox(
          tx,
          [
            {
              dedupeKey: `reply:${event.platform}:${event.eventId}`,
              platform: event.platform,
              ...(card ? { leadId: card.leadId } : {}),
              message: { kind: 'text', to: { kind: 'user', userId: event.userId }, text: refusal },
            },
          ],
          deps.clock.now(),
        );
      });
      return;
    }
    case 'text': {
      const outcome = await handleText(deps, event);
      deps.logger.info({ platform: event.platform, outcome }, 'text message handled');
      return;
    }
    case 'contact_added':
    case 'ignored':
      deps.logger.info({ kind: event.kind, platform: event.platform }, 'inbound event has no handler');
      return;
  }
}
