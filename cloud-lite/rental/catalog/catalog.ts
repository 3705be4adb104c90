import { type Actor, audit } from '../../audit.js';
import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type {
  ContentRecord,
  DiskTypeRecord,
  KioskSiteRecord,
  SlotRecord,
  Store,
  Tx,
} from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import { RentalError } from '../errors.js';
import { haversineMeters } from './geo.js';
import {
  type FleetStock,
  fleetStock,
  type ReservationCandidate,
  reservableCount,
  reservationCandidates,
  sellableSlots,
  sellsAnywhere,
  unplacedReservations,
} from './preparable.js';

export interface CatalogDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  now: () => Date;
}

/** Content packages, disk types, kiosk sites, and what each kiosk can dispense now. */
export class Catalog {
  constructor(private readonly deps: CatalogDeps) {}

  listContent(): Promise<ContentRecord[]> {
    return this.deps.store.transaction((tx) => tx.content.list());
  }

  async putContent(c: ContentRecord, who: Actor): Promise<ContentRecord> {
    return this.deps.store.transaction(async (tx) => {
      if (await tx.content.get(c.id)) await tx.content.update(c.id, c);
      else await tx.content.insert(c);
      await audit(tx, who, this.deps.now().toISOString(), 'content.saved', c.id, {
        version: c.version,
      });
      return c;
    });
  }

  listDiskTypes(): Promise<DiskTypeRecord[]> {
    return this.deps.store.transaction((tx) => tx.diskTypes.list());
  }

  async putDiskType(d: DiskTypeRecord, who: Actor): Promise<DiskTypeRecord> {
    if (d.defaultDays > d.maxDays)
      throw new RentalError('VALIDATION', 'defaultDays exceeds maxDays', 400);
    return this.deps.store.transaction(async (tx) => {
      if (!(await tx.content.get(d.contentId)))
        throw new RentalError(
          'VALIDATION',
          `content ${d.contentId} does not exist; create it first`,
          400,
        );
      if (await tx.diskTypes.get(d.id)) await tx.diskTypes.update(d.id, d);
      else await tx.diskTypes.insert(d);
      await audit(tx, who, this.deps.now().toISOString(), 'disk_type.saved', d.id, { ...d });
      return d;
    });
  }

  async putSite(s: KioskSiteRecord, who: Actor): Promise<KioskSiteRecord> {
    return this.deps.store.transaction(async (tx) => {
      if (!(await tx.kiosks.get(s.kioskId)))
        throw new RentalError('NOT_FOUND', `kiosk ${s.kioskId} does not exist`, 404);
      await tx.sites.upsert(s);
      await audit(tx, who, this.deps.now().toISOString(), 'kiosk_site.saved', s.kioskId, { ...s });
      return s;
    });
  }

  /** Disk types a kiosk offers (its own list, or every type without a list). */
  async offered(tx: Tx, kioskId: string): Promise<DiskTypeRecord[]> {
    return (await tx.diskTypes.list()).filter((d) => !d.kioskIds || d.kioskIds.includes(kioskId));
  }

  /**
   * Slots of `kioskId` that can dispense `type` now (smallest first): `ready` in the hub's slot
   * view with the type's content (and version) and capacity, not reserved, not claimed by an
   * order in flight or a reservation, not holding a disk out on rent (see preparable.ts).
   */
  readySlots(tx: Tx, kioskId: string, type: DiskTypeRecord): Promise<SlotRecord[]> {
    return sellableSlots(tx, kioskId, type);
  }

  /** The whole fleet's ready and claimed slots, read once (for sellsAnywhere). */
  fleetStock(tx: Tx): Promise<FleetStock> {
    return fleetStock(tx);
  }

  /**
   * Whether any kiosk of `kioskIds` can dispense `type` now (readySlots' rule), over `stock`
   * read once for the fleet (the alerts sweep's zero-stock check).
   */
  sellsAnywhere(
    tx: Tx,
    type: DiskTypeRecord,
    kioskIds: ReadonlySet<string>,
    stock: FleetStock,
  ): Promise<boolean> {
    return sellsAnywhere(tx, type, kioskIds, stock);
  }

  /**
   * The slots a reservation of `type` may claim at `kioskId`, best first: a ready disk with
   * its content, a loaded disk, or (only as the operator allows) a ready disk of other content
   * while enough of that stock stays ready (see preparable.ts).
   */
  async reservationSlots(
    tx: Tx,
    kioskId: string,
    type: DiskTypeRecord,
  ): Promise<ReservationCandidate[]> {
    return reservationCandidates(
      tx,
      kioskId,
      type,
      await this.offered(tx, kioskId),
      this.deps.config,
    );
  }

  /** How many reservations of `type` the kiosk can still take (same rule, per disk type). */
  async reservable(tx: Tx, kioskId: string, type: DiskTypeRecord): Promise<number> {
    return reservableCount(tx, kioskId, type, await this.offered(tx, kioskId), this.deps.config);
  }

  /**
   * `[{ diskTypeId, count, reservable }]` per type a kiosk offers: `count` it can dispense now
   * (walk-up), `reservable` reservations of that type it can still take. One disk may count
   * for several types; `disks` says how many distinct disks are behind these numbers.
   */
  async availability(tx: Tx, kioskId: string) {
    const types = [];
    const ready = new Set<number>();
    const reservable = new Set<number>();
    const offered = await this.offered(tx, kioskId);
    for (const d of offered) {
      const sell = await this.readySlots(tx, kioskId, d);
      for (const s of sell) ready.add(s.slot);
      const claim = await reservationCandidates(tx, kioskId, d, offered, this.deps.config);
      for (const c of claim) reservable.add(c.slot.slot);
      types.push({
        diskTypeId: d.id,
        count: sell.length,
        reservable: await reservableCount(tx, kioskId, d, offered, this.deps.config),
      });
    }
    const unplaced = await unplacedReservations(tx, kioskId);
    return {
      types,
      disks: { ready: ready.size, reservable: Math.max(0, reservable.size - unplaced) },
    };
  }

  /** Kiosks with a site, nearest first (all kiosks with a site, by id, when `near` is absent). */
  async nearby(near: { lat: number; lng: number } | undefined, limit: number) {
    return this.deps.store.transaction(async (tx) => {
      const sites = await tx.sites.list();
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
          online: this.deps.kiosks.canServe(k),
          ...(await this.availability(tx, k.id).then((a) => ({
            available: a.types,
            disks: a.disks,
          }))),
        });
      }
      if (near) rows.sort((a, b) => (a.distanceMeters ?? 0) - (b.distanceMeters ?? 0));
      return rows.slice(0, limit);
    });
  }
}
