import type { KioskSiteRecord, KioskSiteRepo } from '../repos/kiosk-site-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgKioskSiteRepo(sql: Sql): KioskSiteRepo {
  const sites = pgTable<KioskSiteRecord>(sql, { name: 'kiosk_sites', key: 'kioskId' });
  return {
    async upsert(s) {
      await sql.run(
        `INSERT INTO kiosk_sites (kiosk_id, name, address, lat, lng) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kiosk_id) DO UPDATE SET name = excluded.name, address = excluded.address, lat = excluded.lat, lng = excluded.lng`,
        [s.kioskId, s.name, s.address, s.lat, s.lng],
      );
    },
    get: sites.get,
    list: () => sites.all('SELECT * FROM kiosk_sites ORDER BY kiosk_id'),
  };
}
