import type Database from 'better-sqlite3';
import type { SlotRecord, SlotRepo } from '../types.js';
import { fromJson, toJson } from './json.js';

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
  };
  return {
    async replaceAll(kioskId, slots) {
      s.del.run(kioskId);
      for (const sl of slots)
        s.insert.run(kioskId, sl.slot, sl.state, toJson(sl.snapshot), sl.updatedAt);
    },
    async list(kioskId): Promise<SlotRecord[]> {
      return (s.list.all(kioskId) as Row[]).map((r) => ({
        kioskId: r.kiosk_id,
        slot: r.slot,
        state: r.state,
        snapshot: fromJson<Record<string, unknown>>(r.snapshot) ?? {},
        updatedAt: r.updated_at,
      }));
    },
  };
}
