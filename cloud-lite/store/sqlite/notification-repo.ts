import type Database from 'better-sqlite3';
import type { NotificationRepo } from '../repos/notification-repo.js';

export function sqliteNotificationRepo(db: Database.Database): NotificationRepo {
  return {
    async claim(n) {
      return (
        db
          .prepare(
            'INSERT INTO sent_notifications (kind, subject, user_id, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
          )
          .run(n.kind, n.subject, n.userId, n.at).changes === 1
      );
    },
    async unclaim(kind, subject) {
      db.prepare('DELETE FROM sent_notifications WHERE kind = ? AND subject = ?').run(
        kind,
        subject,
      );
    },
    async wasSent(kind, subject) {
      return (
        db
          .prepare('SELECT 1 FROM sent_notifications WHERE kind = ? AND subject = ?')
          .get(kind, subject) !== undefined
      );
    },
    async optOut(userId, kind, at) {
      db.prepare(
        'INSERT INTO notification_opt_outs (user_id, kind, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(userId, kind, at);
    },
    async optedOut(userId, kind) {
      return (
        db
          .prepare('SELECT 1 FROM notification_opt_outs WHERE user_id = ? AND kind = ?')
          .get(userId, kind) !== undefined
      );
    },
  };
}
