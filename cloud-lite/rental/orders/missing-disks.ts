import { randomUUID } from 'node:crypto';
import { audit } from '../../audit.js';
import type { HubEvent } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { MissingDiskRecord, Store, Tx } from '../../store/types.js';
import type { JamHolds } from './jam-holds.js';

export interface MissingDisksDeps {
  store: Store;
  logger: Logger;
  jamHolds: JamHolds;
  now: () => Date;
}

/**
 * Disks that leave a kiosk without an order to bill. A DiskRemoved is first offered to the
 * jam holds (pulled out of a jammed slot in time: charged to that order); anything else is
 * flagged missing for the operator: a `missing_disks` record, an audit entry (`disk.missing`)
 * and a structured warning (`event: disk_missing`), listed by `GET /api/operator/missing-disks`.
 * A DiskReturned of the disk later clears the flag (`disk.missing_cleared`).
 */
export class MissingDisks {
  constructor(private readonly deps: MissingDisksDeps) {}

  /** DiskRemoved (inside the hub's event transaction). */
  async onDiskRemoved(ev: HubEvent<'DiskRemoved'>, tx: Tx): Promise<void> {
    if (await this.deps.jamHolds.claim(tx, ev)) return;
    const d = ev.data;
    const at = this.deps.now().toISOString();
    const last = await tx.orders.findLastAtSlot(ev.kioskId, d.slot);
    const order =
      last && last.state !== 'completed' && d.diskId && last.diskId === d.diskId ? last : undefined;
    const rec: MissingDiskRecord = {
      id: `mdk-${randomUUID()}`,
      eventId: ev.eventId,
      diskId: d.diskId ?? null,
      kioskId: ev.kioskId,
      slot: d.slot,
      slotState: d.state,
      reason: d.reason,
      door: d.serviceDoorOpen === undefined ? null : d.serviceDoorOpen ? 'open' : 'closed',
      orderId: order?.id ?? null,
      flaggedAt: at,
      clearedAt: null,
      clearedBy: null,
    };
    if (!(await tx.missingDisks.insertIfNew(rec))) return;
    const details = {
      slot: rec.slot,
      diskId: rec.diskId,
      slotState: rec.slotState,
      door: rec.door,
      orderId: rec.orderId,
      reason: rec.reason,
    };
    await audit(
      tx,
      { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
      at,
      'disk.missing',
      rec.diskId ?? `${ev.kioskId}/${rec.slot}`,
      details,
    );
    tx.afterCommit(() =>
      this.deps.logger.warn(
        { event: 'disk_missing', kioskId: ev.kioskId, missingId: rec.id, ...details },
        rec.door === 'open'
          ? 'a technician took a disk out of a kiosk; flagged missing until it is returned'
          : 'a disk left a kiosk with no order to bill; flagged missing until it is returned',
      ),
    );
  }

  /** DiskReturned of `diskId` at `kioskId` (inside the event's transaction): clears its flags. */
  async returned(tx: Tx, diskId: string, kioskId: string): Promise<void> {
    const at = this.deps.now().toISOString();
    const n = await tx.missingDisks.clearDisk(diskId, at, `returned at ${kioskId}`);
    if (n === 0) return;
    await audit(tx, { actor: `kiosk:${kioskId}`, kioskId }, at, 'disk.missing_cleared', diskId, {
      records: n,
    });
    this.deps.logger.info(
      { event: 'disk_missing_cleared', diskId, kioskId },
      'missing disk returned',
    );
  }

  /** Open records, oldest first. */
  list(limit: number): Promise<MissingDiskRecord[]> {
    return this.deps.store.transaction((tx) => tx.missingDisks.listOpen(limit));
  }
}
