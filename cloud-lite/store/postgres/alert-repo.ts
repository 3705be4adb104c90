import type { AlertDeliveryRecord, AlertRecord, AlertRepo } from '../repos/alert-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgAlertRepo(sql: Sql): AlertRepo {
  const alerts = pgTable<AlertRecord, number>(sql, {
    name: 'alerts',
    key: 'id',
    json: ['details'],
  });
  const deliveries = pgTable<AlertDeliveryRecord, number>(sql, {
    name: 'alert_deliveries',
    key: 'id',
    json: ['body'],
  });
  const live = (key: string) =>
    alerts.one("SELECT * FROM alerts WHERE dedupe_key = $1 AND state <> 'resolved'", key);
  const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
  return {
    async raise(a) {
      const found = await live(a.dedupeKey);
      if (found) {
        const alert = await alerts.one(
          `UPDATE alerts SET message = $1, details = $2, severity = $3, last_seen_at = $4
           WHERE id = $5 RETURNING *`,
          a.message,
          json(a.details),
          a.severity,
          a.at,
          found.id,
        );
        return { alert: alert!, created: false };
      }
      const alert = await alerts.one(
        `INSERT INTO alerts (kind, dedupe_key, kiosk_id, severity, message, details, state, opened_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7) RETURNING *`,
        a.kind,
        a.dedupeKey,
        a.kioskId,
        a.severity,
        a.message,
        json(a.details),
        a.at,
      );
      return { alert: alert!, created: true };
    },
    get: (id) => alerts.get(id),
    live,
    listLive: (kind) =>
      kind === undefined
        ? alerts.all("SELECT * FROM alerts WHERE state <> 'resolved' ORDER BY id")
        : alerts.all(
            "SELECT * FROM alerts WHERE state <> 'resolved' AND kind = $1 ORDER BY id",
            kind,
          ),
    async list(states, limit) {
      if (states.length === 0) return [];
      return alerts.all(
        'SELECT * FROM alerts WHERE state = ANY($1) ORDER BY id DESC LIMIT $2',
        [...states],
        limit,
      );
    },
    async acknowledge(id, by, at) {
      return (
        (await sql.run(
          "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND state = 'open'",
          [at, by, id],
        )) === 1
      );
    },
    async resolve(id, by, at) {
      return (
        (await sql.run(
          "UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_by = $2 WHERE id = $3 AND state <> 'resolved'",
          [at, by, id],
        )) === 1
      );
    },
    async markNotified(id, at) {
      await sql.run(
        'UPDATE alerts SET notified_at = $1, notify_count = notify_count + 1 WHERE id = $2',
        [at, id],
      );
    },
    async countLive() {
      const r = await sql.one<{ n: number | string }>(
        "SELECT count(*)::int AS n FROM alerts WHERE state <> 'resolved'",
      );
      return Number(r?.n ?? 0);
    },
    async enqueueDelivery(d) {
      await sql.run(
        'INSERT INTO alert_deliveries (alert_id, event, body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)',
        [d.alertId, d.event, JSON.stringify(d.body), d.at],
      );
    },
    dueDeliveries: (at, limit) =>
      deliveries.all(
        `SELECT * FROM alert_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL
           AND next_attempt_at <= $1 ORDER BY id LIMIT $2`,
        at,
        limit,
      ),
    async deliveryDone(id, at) {
      await sql.run(
        'UPDATE alert_deliveries SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2',
        [at, id],
      );
    },
    async deliveryFailed(id, r) {
      await sql.run(
        'UPDATE alert_deliveries SET attempts = $1, last_error = $2, next_attempt_at = $3, failed_at = $4 WHERE id = $5',
        [r.attempts, r.error, r.nextAttemptAt, r.failedAt, id],
      );
    },
    deliveries: (alertId) =>
      deliveries.all('SELECT * FROM alert_deliveries WHERE alert_id = $1 ORDER BY id', alertId),
  };
}
