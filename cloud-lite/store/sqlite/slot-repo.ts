import type Database from 'better-sqlite3';
import type { SlotRecord, SlotRepo, StockSlot } from '../repos/slot-repo.js';
import { fromJson, toJson } from './json.js';
import { marks } from './table.js';

interface Row {
  kiosk_id: string;
  slot: number;
  state: string;
  snapshot: string;
  updated_at: string;
}

export function sqliteSlotRepo(db: Database.Database): SlotRepo {
  const s = {
    del: db.prepare('DELETE FROM slots WHERE kiosk_id = ?'),
    insert: db.prepare(
      'INSERT INTO slots (kiosk_id, slot, state, snapshot, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    list: db.prepare('SELECT * FROM slots WHERE kiosk_id = ? ORDER BY slot'),
    get: db.prepare('SELECT * FROM slots WHERE kiosk_id = ? AND slot = ?'),
    // Row values: (kiosk_id, slot) after the last page's, in the primary key's order.
    readyStock: db.prepare(
      `SELECT kiosk_id AS kioskId, slot, json_extract(snapshot, '$.diskId') AS diskId,
         json_extract(snapshot, '$.contentVersion') AS contentVersion,
         json_extract(snapshot, '$.capacityBytes') AS capacityBytes,
         json_extract(snapshot, '$.reservationId') AS reservationId
       FROM slots WHERE state = 'ready' AND json_extract(snapshot, '$.contentId') = ?
         AND (kiosk_id, slot) > (?, ?)
       ORDER BY kiosk_id, slot LIMIT ?`,
    ),
    upsert: db.prepare(
      `INSERT INTO slots (kiosk_id, slot, state, snapshot, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kiosk_id, slot) DO UPDATE SET state = excluded.state,
         snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
    ),
  };
  /** listInStates' statement per number of states, prepared once. */
  const inStates = new Map<number, Database.Statement>();
  return {
    async replaceAll(kioskId, slots) {
      s.del.run(kioskId);
      for (const sl of slots)
        s.insert.run(kioskId, sl.slot, sl.state, toJson(sl.snapshot), sl.updatedAt);
    },
    async list(kioskId): Promise<SlotRecord[]> {
      return (s.list.all(kioskId) as Row[]).map(toRecord);
    },
    async listInStates(states) {
      if (states.length === 0) return [];
      let st = inStates.get(states.length);
      if (!st) {
        st = db.prepare(
          `SELECT * FROM slots WHERE state IN (${marks(states.length)}) ORDER BY kiosk_id, slot`,
        );
        inStates.set(states.length, st);
      }
      return (st.all(...states) as Row[]).map(toRecord);
    },
    async listReadyStock(contentId, limit, after) {
      return s.readyStock.all(
        contentId,
        after?.kioskId ?? '',
        after?.slot ?? -1,
        limit,
      ) as StockSlot[];
    },
    async get(kioskId, slot) {
      const r = s.get.get(kioskId, slot) as Row | undefined;
      return r ? toRecord(r) : undefined;
    },
    async upsert(sl) {
      s.upsert.run(sl.kioskId, sl.slot, sl.state, toJson(sl.snapshot), sl.updatedAt);
    },
  };
}

function toRecord(r: Row): SlotRecord {
  return {
    kioskId: r.kiosk_id,
    slot: r.slot,
    state: r.state,
    snapshot: fromJson<Record<string, unknown>>(r.snapshot) ?? {},
    updatedAt: r.updated_at,
  };
}
