import type Database from 'better-sqlite3';
import type { MissingDiskRecord, MissingDiskRepo } from '../repos/missing-disk-repo.js';
import { table } from './table.js';

export function sqliteMissingDiskRepo(db: Database.Database): MissingDiskRepo {
  const missing = table<MissingDiskRecord>(db, { name: 'missing_disks', key: 'id' });
  return {
    async insertIfNew(rec) {
      if (missing.one('SELECT id FROM missing_disks WHERE event_id = ?', rec.eventId)) return false;
      await missing.insert(rec);
      return true;
    },
    async listOpen(limit) {
      return missing.all(
        'SELECT * FROM missing_disks WHERE cleared_at IS NULL ORDER BY flagged_at, rowid LIMIT ?',
        limit,
      );
    },
    async clearDisk(diskId, at, by) {
      return db
        .prepare(
          'UPDATE missing_disks SET cleared_at = ?, cleared_by = ? WHERE disk_id = ? AND cleared_at IS NULL',
        )
        .run(at, by, diskId).changes;
    },
  };
}
