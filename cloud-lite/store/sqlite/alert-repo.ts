import type Database from 'better-sqlite3';
import type { AlertDeliveryRecord, AlertRecord, AlertRepo } from '../repos/alert-repo.js';
import { marks, table } from './table.js';

export function sqliteAlertRepo(db: Database.Database): AlertRepo {
  const alerts = table<AlertRecord, number>(db, { name: 'alerts', key: 'id', json: ['details'] });
  const deliveries = table<AlertDeliveryRecord, number>(db, {
    name: 'alert_deliveries',
    key: 'id',
    json: ['body'],
  });
  const live = (key: string) =>
    alerts.one("SELECT * FROM alerts WHERE dedupe_key = ? AND state <> 'resolved'", key);
  return {
    async raise(a) {
      const found = live(a.dedupeKey);
      if (found) {
        db.prepare(
          'UPDATE alerts SET message = ?, details = ?, severity = ?, last_seen_at = ? WHERE id = ?',
        ).run(
          a.message,
          a.details === null ? null : JSON.stringify(a.details),
          a.severity,
          a.at,
          found.id,
        );
        return { alert: (await alerts.get(found.id))!, created: false };
      }
      const r = db
        .prepare(
          `INSERT INTO alerts (kind, dedupe_key, kiosk_id, severity, message, details, state, opened_at, last_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
        )
        .run(
          a.kind,
          a.dedupeKey,
          a.kioskId,
          a.severity,
          a.message,
          a.details === null ? null : JSON.stringify(a.details),
          a.at,
          a.at,
        );
      return { alert: (await alerts.get(Number(r.lastInsertRowid)))!, created: true };
    },
    get: (id) => alerts.get(id),
    async live(key) {
      return live(key);
    },
    async listLive(kind) {
      return kind === undefined
        ? alerts.all("SELECT * FROM alerts WHERE state <> 'resolved' ORDER BY id")
        : alerts.all(
            "SELECT * FROM alerts WHERE state <> 'resolved' AND kind = ? ORDER BY id",
            kind,
          );
    },
    async list(states, limit) {
      if (states.length === 0) return [];
      return alerts.all(
        `SELECT * FROM alerts WHERE state IN (${marks(states.length)}) ORDER BY id DESC LIMIT ?`,
        ...states,
        limit,
      );
    },
    async acknowledge(id, by, at) {
      return (
        db
          .prepare(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND state = 'open'",
          )
          .run(at, by, id).changes === 1
      );
    },
    async resolve(id, by, at) {
      return (
        db
          .prepare(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ? WHERE id = ? AND state <> 'resolved'",
          )
          .run(at, by, id).changes === 1
      );
    },
    async markNotified(id, at) {
      db.prepare(
        'UPDATE alerts SET notified_at = ?, notify_count = notify_count + 1 WHERE id = ?',
      ).run(at, id);
    },
    async countLive() {
      return (
        db.prepare("SELECT count(*) AS n FROM alerts WHERE state <> 'resolved'").get() as {
          n: number;
        }
      ).n;
    },
    async enqueueDelivery(d) {
      db.prepare(
        'INSERT INTO alert_deliveries (alert_id, event, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)',
      ).run(d.alertId, d.event, JSON.stringify(d.body), d.at, d.at);
    },
    async dueDeliveries(at, limit) {
      return deliveries.all(
        `SELECT * FROM alert_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL
           AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
        at,
        limit,
      );
    },
    async deliveryDone(id, at) {
      db.prepare(
        'UPDATE alert_deliveries SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?',
      ).run(at, id);
    },
    async deliveryFailed(id, r) {
      db.prepare(
        'UPDATE alert_deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?, failed_at = ? WHERE id = ?',
      ).run(r.attempts, r.error, r.nextAttemptAt, r.failedAt, id);
    },
    async deliveries(alertId) {
      return deliveries.all(
        'SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id',
        alertId,
      );
    },
  };
}
