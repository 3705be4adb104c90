import type { EventRecord, EventRepo } from '../repos/event-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgEventRepo(sql: Sql): EventRepo {
  const events = pgTable<EventRecord>(sql, { name: 'events', key: 'eventId', json: ['data'] });
  return {
    async insertIfNew(e) {
      return (
        (await sql.run(
          `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
          [e.eventId, e.kioskId, e.seq, e.type, e.at, JSON.stringify(e.data), e.receivedAt],
        )) === 1
      );
    },
    get: events.get,
    findBySeq: (kioskId, seq, since) =>
      events.one(
        'SELECT * FROM events WHERE kiosk_id = $1 AND seq = $2 AND received_at >= $3 ORDER BY row_no LIMIT 1',
        kioskId,
        seq,
        since ?? '',
      ),
    listForKiosk: (kioskId, opts) =>
      events.all(
        'SELECT * FROM events WHERE kiosk_id = $1 AND seq > $2 ORDER BY seq, row_no LIMIT $3',
        kioskId,
        opts.afterSeq ?? 0,
        opts.limit,
      ),
    recentOfType: (type, opts) =>
      events.all(
        `SELECT e.* FROM kiosks k JOIN events e
           ON e.kiosk_id = k.id AND e.seq > GREATEST(0, k.last_seq - $3)
         WHERE e.type = $1 AND e.received_at >= $2
         ORDER BY e.kiosk_id, e.seq, e.row_no`,
        type,
        opts.receivedSince,
        opts.window,
      ),
    latestOfType: (kioskId, type, limit) =>
      events.all(
        'SELECT * FROM events WHERE kiosk_id = $1 AND type = $2 ORDER BY row_no DESC LIMIT $3',
        kioskId,
        type,
        limit,
      ),
  };
}
