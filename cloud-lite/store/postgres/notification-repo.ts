import type { NotificationRepo } from '../repos/notification-repo.js';
import type { Sql } from './sql.js';

export function pgNotificationRepo(sql: Sql): NotificationRepo {
  return {
    async claim(n) {
      return (
        (await sql.run(
          'INSERT INTO sent_notifications (kind, subject, user_id, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
          [n.kind, n.subject, n.userId, n.at],
        )) === 1
      );
    },
    async unclaim(kind, subject) {
      await sql.run('DELETE FROM sent_notifications WHERE kind = $1 AND subject = $2', [
        kind,
        subject,
      ]);
    },
    async wasSent(kind, subject) {
      return (
        (await sql.one('SELECT 1 FROM sent_notifications WHERE kind = $1 AND subject = $2', [
          kind,
          subject,
        ])) !== undefined
      );
    },
    async optOut(userId, kind, at) {
      await sql.run(
        'INSERT INTO notification_opt_outs (user_id, kind, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [userId, kind, at],
      );
    },
    async optedOut(userId, kind) {
      return (
        (await sql.one('SELECT 1 FROM notification_opt_outs WHERE user_id = $1 AND kind = $2', [
          userId,
          kind,
        ])) !== undefined
      );
    },
  };
}
