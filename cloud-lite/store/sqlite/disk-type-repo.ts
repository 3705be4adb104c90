import type Database from 'better-sqlite3';
import type { DiskTypeRecord, DiskTypeRepo } from '../repos/disk-type-repo.js';
import { table } from './table.js';

export function sqliteDiskTypeRepo(db: Database.Database): DiskTypeRepo {
  const diskTypes = table<DiskTypeRecord>(db, {
    name: 'disk_types',
    key: 'id',
    json: ['kioskIds'],
  });
  return {
    ...diskTypes.keyed,
    async list() {
      return diskTypes.all('SELECT * FROM disk_types ORDER BY capacity_bytes, id');
    },
  };
}
