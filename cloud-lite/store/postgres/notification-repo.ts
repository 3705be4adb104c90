import {
  type NotificationRepo,
  type PasswordResetRepo,
  queuedOf,
  type PasswordResetRow as ResetRow,
  type NotificationRow as Row,
  resetOf,
} from '../repos/notification-repo.js';
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
    async enqueue(n) {
      return (
        (await sql.run(
          `INSERT INTO sent_notifications (kind, subject, user_id, sent_at, payload, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5, $4) ON CONFLICT DO NOTHING`,
          [n.kind, n.subject, n.userId, n.at, JSON.stringify(n.payload)],
        )) === 1
      );
    },
    async get(kind, subject) {
      const r = await sql.one<Row>(
        'SELECT * FROM sent_notifications WHERE kind = $1 AND subject = $2',
        [kind, subject],
      );
      return r && queuedOf(r);
    },
    async due(now, limit) {
      return (
        await sql.rows<Row>(
          `SELECT * FROM sent_notifications
           WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at IS NOT NULL
             AND next_attempt_at <= $1
           ORDER BY next_attempt_at, sent_at LIMIT $2`,
          [now, limit],
        )
      ).map(queuedOf);
    },
    async delivered(kind, subject, at) {
      await sql.run(
        'UPDATE sent_notifications SET delivered_at = $1, attempts = attempts + 1 WHERE kind = $2 AND subject = $3',
        [at, kind, subject],
      );
    },
    async attemptFailed(kind, subject, f) {
      await sql.run(
        `UPDATE sent_notifications SET attempts = $1, last_error = $2, next_attempt_at = $3, failed_at = $4
         WHERE kind = $5 AND subject = $6`,
        [f.attempts, f.error, f.nextAttemptAt, f.failedAt, kind, subject],
      );
    },
    async optOut(userId, kind, at) {
      await sql.run(
        'INSERT INTO notification_opt_outs (user_id, kind, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [userId, kind, at],
      );
    },
    async optIn(userId, kind) {
      await sql.run('DELETE FROM notification_opt_outs WHERE user_id = $1 AND kind = $2', [
        userId,
        kind,
      ]);
    },
    async optedOut(userId, kind) {
      return (
        (await sql.one('SELECT 1 FROM notification_opt_outs WHERE user_id = $1 AND kind = $2', [
          userId,
          kind,
        ])) !== undefined
      );
    },
    async listOptOuts(userId) {
      return (
        await sql.rows<{ kind: string }>(
          'SELECT kind FROM notification_opt_outs WHERE user_id = $1 ORDER BY kind',
          [userId],
        )
      ).map((r) => r.kind);
    },
  };
}

export function pgPasswordResetRepo(sql: Sql): PasswordResetRepo {
  return {
    async insert(r) {
      await sql.run(
        'INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)',
        [r.tokenHash, r.userId, r.createdAt, r.expiresAt, r.usedAt],
      );
    },
    async get(tokenHash) {
      const r = await sql.one<ResetRow>('SELECT * FROM password_resets WHERE token_hash = $1', [
        tokenHash,
      ]);
      return r && resetOf(r);
    },
    async use(tokenHash, at) {
      return (
        (await sql.run(
          'UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL',
          [at, tokenHash],
        )) === 1
      );
    },
    async useAllOf(userId, at) {
      await sql.run(
        'UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL',
        [at, userId],
      );
    },
  };
}
