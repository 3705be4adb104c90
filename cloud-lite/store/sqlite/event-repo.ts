import type Database from 'better-sqlite3';
import type { EventRecord, EventRepo } from '../repos/event-repo.js';
import { fromJson, toJson } from './json.js';

interface Row {
  event_id: string;
  kiosk_id: string;
  seq: number;
  type: string;
  at: string;
  data: string;
  received_at: string;
}

export function sqliteEventRepo(db: Database.Database): EventRepo {
  const s = {
    insert: db.prepare(
      'INSERT OR IGNORE INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    get: db.prepare('SELECT * FROM events WHERE event_id = ?'),
    bySeq: db.prepare(
      'SELECT * FROM events WHERE kiosk_id = ? AND seq = ? AND received_at >= ? ORDER BY rowid LIMIT 1',
    ),
    list: db.prepare(
      'SELECT * FROM events WHERE kiosk_id = ? AND seq > ? ORDER BY seq, rowid LIMIT ?',
    ),
    // CROSS JOIN keeps kiosks as the outer loop: each kiosk's newest seqs through
    // events_kiosk_seq, never a scan of the whole events table.
    recentOfType: db.prepare(
      `SELECT e.* FROM kiosks k CROSS JOIN events e
       WHERE e.kiosk_id = k.id AND e.seq > max(0, k.last_seq - @window)
         AND e.type = @type AND e.received_at >= @since
       ORDER BY e.kiosk_id, e.seq, e.rowid`,
    ),
    latestOfType: db.prepare(
      'SELECT * FROM events WHERE kiosk_id = ? AND type = ? ORDER BY rowid DESC LIMIT ?',
    ),
  };
  return {
    async insertIfNew(e) {
      const info = s.insert.run(
        e.eventId,
        e.kioskId,
        e.seq,
        e.type,
        e.at,
        toJson(e.data),
        e.receivedAt,
      );
      return info.changes === 1;
    },
    async get(eventId) {
      const r = s.get.get(eventId) as Row | undefined;
      return r && toRecord(r);
    },
    async findBySeq(kioskId, seq, since) {
      const r = s.bySeq.get(kioskId, seq, since ?? '') as Row | undefined;
      return r && toRecord(r);
    },
    async listForKiosk(kioskId, opts): Promise<EventRecord[]> {
      return (s.list.all(kioskId, opts.afterSeq ?? 0, opts.limit) as Row[]).map(toRecord);
    },
    async recentOfType(type, opts): Promise<EventRecord[]> {
      return (
        s.recentOfType.all({ type, since: opts.receivedSince, window: opts.window }) as Row[]
      ).map(toRecord);
    },
    async latestOfType(kioskId, type, limit): Promise<EventRecord[]> {
      return (s.latestOfType.all(kioskId, type, limit) as Row[]).map(toRecord);
    },
  };
}

function toRecord(r: Row): EventRecord {
  return {
    eventId: r.event_id,
    kioskId: r.kiosk_id,
    seq: r.seq,
    type: r.type,
    at: r.at,
    data: fromJson<Record<string, unknown>>(r.data) ?? {},
    receivedAt: r.received_at,
  };
}
