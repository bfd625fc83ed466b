/**
 * The neutral card model: what the domain says a card shows. Templates in `cards/*.json` render to
 * it; each platform adapter maps it to its own format (WeCom `template_card`, DingTalk card data).
 */
export type ButtonStyle = 'primary' | 'default' | 'danger' | 'link';

export interface CardButton {
  /** Action id the callback carries back, e.g. `claim`, `release`, `grab`, `escalate_take`. */
  actionId: string;
  text: string;
  style: ButtonStyle;
}

export interface CardField {
  label: string;
  value: string;
}

export interface CardModel {
  /** Template name, e.g. `new-lead`, for logs and the emulator. */
  template: string;
  title: string;
  description?: string;
  /** A big number or word shown first (WeCom `emphasis_content`), e.g. the countdown. */
  emphasis?: { value: string; label?: string };
  /** Up to 6 label/value rows. */
  fields: CardField[];
  /** A quoted block (e.g. the customer's need). */
  quote?: string;
  /** Up to 6 buttons; none for a read-only card. */
  buttons: CardButton[];
  /**
   * Shown instead of the buttons once the card is settled (claimed by someone, closed): the
   * platform greys the buttons out with this text.
   */
  settled?: string;
}
