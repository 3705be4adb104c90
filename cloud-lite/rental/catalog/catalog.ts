import type { KioskHub } from '../../hub/hub.js';
import type { Repos, SlotRecord, Store } from '../../store/types.js';
import { type Actor, audit } from '../audit/audit.js';
import { RentalError } from '../errors.js';
import type { ContentRecord, DiskTypeRecord, KioskSiteRecord } from '../store/types.js';
import { haversineMeters } from './geo.js';
import { reservableCount, type SnapshotFields, slotsInOrders } from './preparable.js';

export interface CatalogDeps {
  store: Store;
  hub: KioskHub;
  now: () => Date;
}

/** Content packages, disk types, kiosk sites, and what each kiosk can dispense now. */
export class Catalog {
  constructor(private readonly deps: CatalogDeps) {}

  listContent(): Promise<ContentRecord[]> {
    return this.deps.store.transaction((tx) => tx.rental.content.list());
  }

  async putContent(c: ContentRecord, who: Actor): Promise<ContentRecord> {
    return this.deps.store.transaction(async (tx) => {
      if (await tx.rental.content.get(c.id)) await tx.rental.content.update(c.id, c);
      else await tx.rental.content.insert(c);
      await audit(tx, who, this.deps.now().toISOString(), 'content.saved', c.id, {
        version: c.version,
      });
      return c;
    });
  }

  listDiskTypes(): Promise<DiskTypeRecord[]> {
    return this.deps.store.transaction((tx) => tx.rental.diskTypes.list());
  }

  async putDiskType(d: DiskTypeRecord, who: Actor): Promise<DiskTypeRecord> {
    if (d.defaultDays > d.maxDays)
      throw new RentalError('VALIDATION', 'defaultDays exceeds maxDays', 400);
    return this.deps.store.transaction(async (tx) => {
      if (!(await tx.rental.content.get(d.contentId)))
        throw new RentalError(
          'VALIDATION',
          `content ${d.contentId} does not exist; create it first`,
          400,
        );
      if (await tx.rental.diskTypes.get(d.id)) await tx.rental.diskTypes.update(d.id, d);
      else await tx.rental.diskTypes.insert(d);
      await audit(tx, who, this.deps.now().toISOString(), 'disk_type.saved', d.id, { ...d });
      return d;
    });
  }

  async putSite(s: KioskSiteRecord, who: Actor): Promise<KioskSiteRecord> {
    return this.deps.store.transaction(async (tx) => {
      if (!(await tx.kiosks.get(s.kioskId)))
        throw new RentalError('NOT_FOUND', `kiosk ${s.kioskId} does not exist`, 404);
      await tx.rental.sites.upsert(s);
      await audit(tx, who, this.deps.now().toISOString(), 'kiosk_site.saved', s.kioskId, { ...s });
      return s;
    });
  }

  /** Disk types a kiosk offers (its own list, or every type without a list). */
  async offered(tx: Repos, kioskId: string): Promise<DiskTypeRecord[]> {
    return (await tx.rental.diskTypes.list()).filter(
      (d) => !d.kioskIds || d.kioskIds.includes(kioskId),
    );
  }

  /**
   * Slots of `kioskId` that can dispense `type` now: `ready` in the hub's slot view (last
   * Inventory plus the SlotStateChanged events since), with the type's content (and version),
   * enough capacity, not reserved, not promised to an order in flight, and not holding a disk
   * that is out on rent (a stale view).
   */
  async readySlots(tx: Repos, kioskId: string, type: DiskTypeRecord): Promise<SlotRecord[]> {
    const content = await tx.rental.content.get(type.contentId);
    if (!content) return [];
    const busy = await slotsInOrders(tx, kioskId);
    const out: SlotRecord[] = [];
    for (const s of await tx.slots.list(kioskId)) {
      const snap = s.snapshot as SnapshotFields;
      if (s.state !== 'ready' || busy.has(s.slot) || snap.reservationId || !snap.diskId) continue;
      if (snap.contentId !== type.contentId) continue;
      if (snap.contentVersion !== undefined && snap.contentVersion !== content.version) continue;
      if ((snap.capacityBytes ?? 0) < type.capacityBytes) continue;
      if (await tx.rental.rentals.findUnreturnedByDisk(snap.diskId)) continue;
      out.push(s);
    }
    return out;
  }

  /**
   * How many reservations of `type` the kiosk can still take: slots with a disk it could
   * prepare (loaded/ready, enough capacity, free), less reservations there still preparing
   * that have not claimed a slot yet (see preparable.ts).
   */
  reservable(tx: Repos, kioskId: string, type: DiskTypeRecord): Promise<number> {
    return reservableCount(tx, kioskId, type);
  }

  /**
   * `[{ diskTypeId, count, reservable }]` per type a kiosk offers: `count` it can dispense now
   * (walk-up), `reservable` reservations it can still prepare.
   */
  async availability(
    tx: Repos,
    kioskId: string,
  ): Promise<{ diskTypeId: string; count: number; reservable: number }[]> {
    const out = [];
    for (const d of await this.offered(tx, kioskId))
      out.push({
        diskTypeId: d.id,
        count: (await this.readySlots(tx, kioskId, d)).length,
        reservable: await this.reservable(tx, kioskId, d),
      });
    return out;
  }

  /** Kiosks with a site, nearest first (all kiosks with a site, by id, when `near` is absent). */
  async nearby(near: { lat: number; lng: number } | undefined, limit: number) {
    return this.deps.store.transaction(async (tx) => {
      const sites = await tx.rental.sites.list();
      const rows = [];
      for (const s of sites) {
        const k = await tx.kiosks.get(s.kioskId);
        if (!k || k.revokedAt) continue;
        rows.push({
          id: k.id,
          name: s.name,
          address: s.address,
          lat: s.lat,
          lng: s.lng,
          distanceMeters: near
            ? Math.round(haversineMeters(near.lat, near.lng, s.lat, s.lng))
            : null,
          online: this.deps.hub.canServe(k),
          available: await this.availability(tx, k.id),
        });
      }
      if (near) rows.sort((a, b) => (a.distanceMeters ?? 0) - (b.distanceMeters ?? 0));
      return rows.slice(0, limit);
    });
  }
}
