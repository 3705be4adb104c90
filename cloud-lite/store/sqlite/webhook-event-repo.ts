import type Database from 'better-sqlite3';
import type { WebhookEventRepo } from '../repos/webhook-event-repo.js';

export function sqliteWebhookEventRepo(db: Database.Database): WebhookEventRepo {
  return {
    async insertIfNew(provider, eventId, at) {
      return (
        db
          .prepare(
            'INSERT OR IGNORE INTO webhook_events (provider, event_id, received_at) VALUES (?, ?, ?)',
          )
          .run(provider, eventId, at).changes === 1
      );
    },
  };
}
