import type Database from 'better-sqlite3';
import type { KioskSiteRecord, KioskSiteRepo } from '../repos/kiosk-site-repo.js';
import { table } from './table.js';

export function sqliteKioskSiteRepo(db: Database.Database): KioskSiteRepo {
  const sites = table<KioskSiteRecord>(db, { name: 'kiosk_sites', key: 'kioskId' });
  return {
    async upsert(s) {
      db.prepare(
        `INSERT INTO kiosk_sites (kiosk_id, name, address, lat, lng) VALUES (@kioskId, @name, @address, @lat, @lng)
         ON CONFLICT (kiosk_id) DO UPDATE SET name = excluded.name, address = excluded.address, lat = excluded.lat, lng = excluded.lng`,
      ).run(s);
    },
    get: sites.get,
    async list() {
      return sites.all('SELECT * FROM kiosk_sites ORDER BY kiosk_id');
    },
  };
}
