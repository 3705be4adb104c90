import type { WebhookEventRepo } from '../repos/webhook-event-repo.js';
import type { Sql } from './sql.js';

export function pgWebhookEventRepo(sql: Sql): WebhookEventRepo {
  return {
    async insertIfNew(provider, eventId, at) {
      return (
        (await sql.run(
          'INSERT INTO webhook_events (provider, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [provider, eventId, at],
        )) === 1
      );
    },
  };
}
