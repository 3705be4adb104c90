import type { MissingDiskRecord, MissingDiskRepo } from '../repos/missing-disk-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgMissingDiskRepo(sql: Sql): MissingDiskRepo {
  const missing = pgTable<MissingDiskRecord>(sql, { name: 'missing_disks', key: 'id' });
  return {
    async insertIfNew(rec) {
      const cols = [
        'id',
        'event_id',
        'disk_id',
        'kiosk_id',
        'slot',
        'slot_state',
        'reason',
        'door',
        'order_id',
        'flagged_at',
        'cleared_at',
        'cleared_by',
      ];
      return (
        (await sql.run(
          `INSERT INTO missing_disks (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})
           ON CONFLICT (event_id) DO NOTHING`,
          [
            rec.id,
            rec.eventId,
            rec.diskId,
            rec.kioskId,
            rec.slot,
            rec.slotState,
            rec.reason,
            rec.door,
            rec.orderId,
            rec.flaggedAt,
            rec.clearedAt,
            rec.clearedBy,
          ],
        )) === 1
      );
    },
    listOpen: (limit) =>
      missing.all(
        'SELECT * FROM missing_disks WHERE cleared_at IS NULL ORDER BY flagged_at, row_no LIMIT $1',
        limit,
      ),
    clearDisk: (diskId, at, by) =>
      sql.run(
        'UPDATE missing_disks SET cleared_at = $1, cleared_by = $2 WHERE disk_id = $3 AND cleared_at IS NULL',
        [at, by, diskId],
      ),
  };
}
