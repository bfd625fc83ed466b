import type { CardModel } from '../cards/types';

/**
 * The one thing the domain knows about chat platforms (ARCHITECTURE.md "Dependency rules"): inbound
 * events normalised, outbound messages neutral. Each platform folder (`wecom/`, `dingtalk/`)
 * implements `ChatPlatform`; nothing outside it knows its formats.
 */
export type PlatformName = 'wecom' | 'dingtalk';

interface InboundBase {
  platform: PlatformName;
  /** Stable id of this event on the platform, used to dedupe deliveries (inbox unique key). */
  eventId: string;
  /** The platform user id of the person who acted: identity comes only from here. */
  userId: string;
  at: Date;
}

export type InboundEvent =
  | (InboundBase & { kind: 'text'; text: string })
  | (InboundBase & {
      kind: 'card_action';
      /** Our card id (WeCom task_id, DingTalk outTrackId). */
      cardId: string;
      actionId: string;
      /**
       * Opaque token that lets us update this card once (WeCom ResponseCode: single use, 72 h).
       * Absent where the platform updates cards by id alone.
       */
      updateToken?: string;
    })
  | (InboundBase & { kind: 'contact_added'; externalContactId: string })
  | (InboundBase & { kind: 'ignored'; reason: string });

/** Where a message goes. Members are resolved to platform user ids by the adapter. */
export type Recipient = { kind: 'user'; userId: string } | { kind: 'group'; groupKey: string };

export type OutboundMessage =
  | { kind: 'text'; to: Recipient; text: string }
  | { kind: 'markdown'; to: Recipient; markdown: string }
  | { kind: 'card'; to: Recipient; cardId: string; card: CardModel }
  | {
      kind: 'card_update';
      /** Users whose copy of the card changes (WeCom updates per user list). */
      userIds: string[];
      cardId: string;
      card: CardModel;
      updateToken?: string;
    }
  | { kind: 'image'; to: Recipient; pngBase64: string };

/**
 * How a send ended. `retry`: try again later (network, 5xx, busy, rate limited). `permanent`: it
 * will never work (invalid user, bad card); alert. `ambiguous`: the platform may have accepted it
 * (timeout after the request was written): retry only inside the duplicate-check window.
 */
export type SendResult =
  | { ok: true; platformMessageId?: string; updateToken?: string }
  | {
      ok: false;
      outcome: 'retry' | 'permanent' | 'ambiguous';
      code: string;
      message: string;
      retryAfterMs?: number;
      /**
       * The platform refused the request because an identical one already went through (WeCom 42014,
       * task_id reused). After an earlier ambiguous attempt this means "probably delivered".
       */
      alreadyAccepted?: boolean;
    };

export interface ChatPlatform {
  readonly name: PlatformName;
  /**
   * Renders a message to the platform's exact request body. Deterministic: the outbox stores the
   * result the first time and every retry sends the same bytes (WeCom's duplicate check needs it).
   */
  render(message: OutboundMessage, options: { dedupeKey: string }): RenderedRequest;
  /** Sends a rendered request. Never throws for platform or network failures: returns a result. */
  send(request: RenderedRequest): Promise<SendResult>;
  /** Pacing target of a message (`wecom:user:ZhangWei`, `wecom:robot:<key hash>`), and its limits. */
  pacing(message: OutboundMessage): PacingRule;
}

/** A platform request ready to send: which API, and the exact body. */
export interface RenderedRequest {
  api: string;
  body: string;
  /** For APIs addressed by a secret in the URL (group robots): a reference, never the secret. */
  target?: string;
  /**
   * How long after the first attempt an ambiguous send (the platform may have accepted it) may be
   * retried without risking a duplicate: WeCom message/send drops byte-identical JSON inside its
   * duplicate-check interval; a single-use update token cannot apply twice (Infinity); a group
   * robot has no such check (0: never retry an ambiguous robot post, mark it maybe_sent).
   */
  ambiguousRetryWindowMs?: number;
}

export interface PacingRule {
  target: string;
  limits: { perSeconds: number; max: number }[];
}
