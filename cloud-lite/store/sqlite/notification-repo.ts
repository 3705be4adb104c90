import type Database from 'better-sqlite3';
import {
  type NotificationRepo,
  type NotificationRow,
  type PasswordResetRepo,
  type PasswordResetRow,
  queuedOf,
  resetOf,
} from '../repos/notification-repo.js';

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
    async enqueue(n) {
      return (
        db
          .prepare(
            `INSERT INTO sent_notifications (kind, subject, user_id, sent_at, payload, next_attempt_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(n.kind, n.subject, n.userId, n.at, JSON.stringify(n.payload), n.at).changes === 1
      );
    },
    async get(kind, subject) {
      const r = db
        .prepare('SELECT * FROM sent_notifications WHERE kind = ? AND subject = ?')
        .get(kind, subject) as NotificationRow | undefined;
      return r && queuedOf(r);
    },
    async due(now, limit) {
      return (
        db
          .prepare(
            `SELECT * FROM sent_notifications
             WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at IS NOT NULL
               AND next_attempt_at <= ?
             ORDER BY next_attempt_at, sent_at LIMIT ?`,
          )
          .all(now, limit) as NotificationRow[]
      ).map(queuedOf);
    },
    async delivered(kind, subject, at) {
      db.prepare(
        'UPDATE sent_notifications SET delivered_at = ?, attempts = attempts + 1 WHERE kind = ? AND subject = ?',
      ).run(at, kind, subject);
    },
    async attemptFailed(kind, subject, f) {
      db.prepare(
        `UPDATE sent_notifications SET attempts = ?, last_error = ?, next_attempt_at = ?, failed_at = ?
         WHERE kind = ? AND subject = ?`,
      ).run(f.attempts, f.error, f.nextAttemptAt, f.failedAt, kind, subject);
    },
    async optOut(userId, kind, at) {
      db.prepare(
        'INSERT INTO notification_opt_outs (user_id, kind, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(userId, kind, at);
    },
    async optIn(userId, kind) {
      db.prepare('DELETE FROM notification_opt_outs WHERE user_id = ? AND kind = ?').run(
        userId,
        kind,
      );
    },
    async optedOut(userId, kind) {
      return (
        db
          .prepare('SELECT 1 FROM notification_opt_outs WHERE user_id = ? AND kind = ?')
          .get(userId, kind) !== undefined
      );
    },
    async listOptOuts(userId) {
      return (
        db
          .prepare('SELECT kind FROM notification_opt_outs WHERE user_id = ? ORDER BY kind')
          .all(userId) as { kind: string }[]
      ).map((r) => r.kind);
    },
  };
}

export function sqlitePasswordResetRepo(db: Database.Database): PasswordResetRepo {
  return {
    async insert(r) {
      db.prepare(
        'INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)',
      ).run(r.tokenHash, r.userId, r.createdAt, r.expiresAt, r.usedAt);
    },
    async get(tokenHash) {
      const r = db.prepare('SELECT * FROM password_resets WHERE token_hash = ?').get(tokenHash) as
        | PasswordResetRow
        | undefined;
      return r && resetOf(r);
    },
    async use(tokenHash, at) {
      return (
        db
          .prepare(
            'UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL',
          )
          .run(at, tokenHash).changes === 1
      );
    },
    async useAllOf(userId, at) {
      db.prepare(
        'UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL',
      ).run(at, userId);
    },
  };
}
