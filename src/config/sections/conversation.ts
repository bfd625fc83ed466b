/**
 * The `conversation` section (PRODUCT.md capability 8), schema conversation.schema.json, which fills
 * every default: how a member's plain text finds its lead.
 */
export interface ConversationConfig {
  /** Free text without #id goes to the lead of the member's last card within this window. */
  contextWindow: string;
}
