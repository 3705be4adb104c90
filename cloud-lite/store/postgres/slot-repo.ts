import type { SlotRecord, SlotRepo, StockSlot } from '../repos/slot-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

const UPSERT = `INSERT INTO slots (kiosk_id, slot, state, snapshot, updated_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (kiosk_id, slot) DO UPDATE SET state = excluded.state,
    snapshot = excluded.snapshot, updated_at = excluded.updated_at`;

/** SlotRepo.listReadyStock: row values after the last page's, in the primary key's order. */
const READY_STOCK = `SELECT kiosk_id AS "kioskId", slot, snapshot->>'diskId' AS "diskId",
    snapshot->>'contentVersion' AS "contentVersion",
    (snapshot->>'capacityBytes')::bigint AS "capacityBytes",
    snapshot->>'reservationId' AS "reservationId"
  FROM slots WHERE state = 'ready' AND snapshot->>'contentId' = $1 AND (kiosk_id, slot) > ($2, $3)
  ORDER BY kiosk_id, slot LIMIT $4`;

export function pgSlotRepo(sql: Sql): SlotRepo {
  const slots = pgTable<SlotRecord>(sql, { name: 'slots', key: 'kioskId', json: ['snapshot'] });
  return {
    async replaceAll(kioskId, list) {
      // Two statements whatever the slot count (an Inventory after every Boot of a fleet).
      await sql.run('DELETE FROM slots WHERE kiosk_id = $1', [kioskId]);
      if (list.length === 0) return;
      await sql.run(
        `INSERT INTO slots (kiosk_id, slot, state, snapshot, updated_at)
         SELECT $1, s.slot, s.state, s.snapshot, s.updated_at
         FROM unnest($2::bigint[], $3::text[], $4::jsonb[], $5::text[]) AS s(slot, state, snapshot, updated_at)`,
        [
          kioskId,
          list.map((sl) => sl.slot),
          list.map((sl) => sl.state),
          list.map((sl) => JSON.stringify(sl.snapshot)),
          list.map((sl) => sl.updatedAt),
        ],
      );
    },
    list: (kioskId) => slots.all('SELECT * FROM slots WHERE kiosk_id = $1 ORDER BY slot', kioskId),
    listInStates: async (states) =>
      states.length === 0
        ? []
        : slots.all('SELECT * FROM slots WHERE state = ANY($1::text[]) ORDER BY kiosk_id, slot', [
            ...states,
          ]),
    listReadyStock: (contentId, limit, after) =>
      sql.rows<StockSlot>(READY_STOCK, [contentId, after?.kioskId ?? '', after?.slot ?? -1, limit]),
    get: (kioskId, slot) =>
      slots.one('SELECT * FROM slots WHERE kiosk_id = $1 AND slot = $2', kioskId, slot),
    async upsert(sl) {
      await sql.run(UPSERT, [
        sl.kioskId,
        sl.slot,
        sl.state,
        JSON.stringify(sl.snapshot),
        sl.updatedAt,
      ]);
    },
  };
}
