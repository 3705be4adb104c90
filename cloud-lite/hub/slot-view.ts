/**
 * The hub's copy of each kiosk's slots between two Inventories. `Inventory` replaces them all
 * (the baseline); every `SlotStateChanged` is applied in the transaction that records it:
 *
 * - with a snapshot (kiosks that send one): the slot is replaced when the snapshot's `version`
 *   is newer than the stored one, so events drained after a newer Inventory never regress it;
 * - without one (older kiosks): the state is updated, but the change may only take
 *   availability away. The stored content (and, for a slot that becomes `ready`/`reserved`,
 *   the capacity) is dropped, so the catalog neither sells nor prepares on a guess; a change
 *   into `ready`/`reserved` also asks the kiosk for a fresh Inventory after commit.
 */
import { isoTime } from '../../common/iso-time.js';
import type { SlotState, SlotStateChangedData } from '../../protocol/index.js';
import type { Logger } from '../log.js';
import type { SlotRecord, Tx } from '../store/types.js';
import type { EventIntake } from './event-intake.js';
import type { HubEvent } from './kiosk-commands.js';

export interface SlotViewDeps {
  logger: Logger;
  /** Asks the kiosk for a full Inventory; called after the event's transaction committed. */
  requestInventory: (kioskId: string, why: string) => void;
  now?: () => Date;
}

/** What one SlotStateChanged did to the stored slot. */
export type SlotViewOutcome =
  | 'applied'
  | 'stale'
  | 'availability-removed'
  | 'unverified-inventory-requested';

type Snap = Record<string, unknown>;

/** States a slot reaches only with content the hub must see before it sells or holds it. */
const NEEDS_SNAPSHOT: readonly SlotState[] = ['ready', 'reserved'];
/** States that keep a reservation id on the kiosk (slot-store's HOLDS_RESERVATION). */
const HOLDS_RESERVATION: readonly SlotState[] = ['reserved', 'dispensing'];

/** Keeps the hub's slot table in step with SlotStateChanged events (see file comment). */
export class SlotView {
  constructor(private readonly deps: SlotViewDeps) {}

  /** Registers the SlotStateChanged handler; it runs inside the event's store transaction. */
  attach(intake: EventIntake): void {
    intake.onEvent('SlotStateChanged', async (ev, tx) => {
      await this.apply(ev, tx);
    });
  }

  /** Applies one event through `tx`. Throws only if the store does (the event then rolls back). */
  async apply(ev: HubEvent<'SlotStateChanged'>, tx: Tx): Promise<SlotViewOutcome> {
    const d = ev.data;
    const cur = await tx.slots.get(ev.kioskId, d.slot);
    const at = isoTime(this.deps.now?.().getTime() ?? Date.now());
    const snap = this.usableSnapshot(ev, cur);
    if (snap) {
      const have = versionOf(cur?.snapshot);
      const got = versionOf(snap);
      if (have !== undefined && got !== undefined && got <= have) return 'stale';
      await tx.slots.upsert({
        kioskId: ev.kioskId,
        slot: d.slot,
        state: d.snapshot!.state,
        snapshot: snap,
        updatedAt: at,
      });
      return 'applied';
    }
    await tx.slots.upsert({
      kioskId: ev.kioskId,
      slot: d.slot,
      state: d.to,
      snapshot: guessed(cur?.snapshot, d),
      updatedAt: at,
    });
    if (!NEEDS_SNAPSHOT.includes(d.to)) return 'availability-removed';
    tx.afterCommit(() =>
      this.deps.requestInventory(
        ev.kioskId,
        `slot ${d.slot} became ${d.to} without a snapshot (event seq ${ev.seq})`,
      ),
    );
    return 'unverified-inventory-requested';
  }

  /** The event's snapshot if it can be ordered against what is stored; else undefined. */
  private usableSnapshot(ev: HubEvent<'SlotStateChanged'>, cur: SlotRecord | undefined) {
    const s = ev.data.snapshot;
    if (!s) return undefined;
    if (s.slot !== ev.data.slot) {
      this.deps.logger.warn(
        { kioskId: ev.kioskId, eventId: ev.eventId, slot: ev.data.slot, snapshotSlot: s.slot },
        'SlotStateChanged snapshot names another slot: ignored',
      );
      return undefined;
    }
    // Without a version it cannot be ordered against a versioned baseline.
    if (s.version === undefined && versionOf(cur?.snapshot) !== undefined) return undefined;
    return s as Snap;
  }
}

function versionOf(s: Snap | undefined): number | undefined {
  const v = s?.version;
  return typeof v === 'number' ? v : undefined;
}

/**
 * The stored snapshot moved to `d.to` without the kiosk's word on the disk: content is
 * dropped (it may have been rewritten or wiped), an emptied slot loses its disk, and a slot
 * that became ready/reserved also loses its capacity until an Inventory says what it holds.
 */
function guessed(old: Snap | undefined, d: SlotStateChangedData): Snap {
  const s: Snap = { ...(old ?? { slot: d.slot, writeProtect: false }), state: d.to };
  delete s.contentId;
  delete s.contentVersion;
  if (d.to === 'empty') {
    delete s.diskId;
    delete s.diskSerial;
    delete s.capacityBytes;
    s.writeProtect = false;
  }
  if (NEEDS_SNAPSHOT.includes(d.to)) delete s.capacityBytes;
  if (!HOLDS_RESERVATION.includes(d.to)) {
    delete s.reservationId;
    delete s.holdUntil;
  }
  if (d.to !== 'fault') delete s.fault;
  return s;
}
