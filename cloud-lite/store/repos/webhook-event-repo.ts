/** Payment providers' webhook events seen, for de-duplication. */
export interface WebhookEventRepo {
  /** False when already recorded. */
  insertIfNew(provider: string, eventId: string, at: string): Promise<boolean>;
}
