import type { DiskTypeRecord, DiskTypeRepo } from '../repos/disk-type-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgDiskTypeRepo(sql: Sql): DiskTypeRepo {
  const diskTypes = pgTable<DiskTypeRecord>(sql, {
    name: 'disk_types',
    key: 'id',
    json: ['kioskIds'],
  });
  return {
    ...diskTypes.keyed,
    list: () => diskTypes.all('SELECT * FROM disk_types ORDER BY capacity_bytes, id'),
  };
}
