import type { AssignDeps } from '../leads/assign-lead';
import { handleCardAction } from '../leads/card-actions';
import type { InboundEvent } from '../platforms/types';

/**
 * Routes a verified, stored inbound event to its domain action. Text messages become follow-up notes
 * and commands in the conversation issue; until then they are acknowledged and logged by kind only.
 */
export async function handleInboundEvent(deps: AssignDeps, event: InboundEvent): Promise<void> {
  switch (event.kind) {
    case 'card_action': {
      const outcome = await handleCardAction(deps, event);
      deps.logger.info({ cardId: event.cardId, actionId: event.actionId, outcome }, 'card action handled');
      return;
    }
    case 'text':
    case 'contact_added':
    case 'ignored':
      deps.logger.info({ kind: event.kind, platform: event.platform }, 'inbound event has no handler yet');
      return;
  }
}
