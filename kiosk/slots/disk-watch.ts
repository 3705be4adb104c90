import type { Gpio } from '../../hal/gpio/index.js';
import type { MotorBoard, SlotSensors } from '../../hal/motor-board/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import type { TimeSource } from '../state/clock.js';
import type { PendingEvent } from '../state/outbox.js';
import type { SlotRecord, SlotStore } from './slot-store.js';
import { isLegalTransition, type SlotStateName } from './transitions.js';

/** States whose slot must hold a disk (a disk id or not). */
const HOLDS_DISK: readonly SlotStateName[] = ['loaded', 'ready', 'reserved', 'returned'];
/** States that stay what they are when the disk goes: only the disk is dropped. */
const KEEPS_STATE: readonly SlotStateName[] = ['fault', 'disabled'];
/** States owned by a running task that settles a vanished disk itself. */
const OWNED: readonly SlotStateName[] = ['dispensing', 'preparing'];

export interface DiskRemovalDeps {
  db: KioskDb;
  slots: SlotStore;
  clock: TimeSource;
  log: KioskLogger;
}

export interface DiskRemoval {
  slot: number;
  /** Why / how it was noticed (goes into DiskRemoved.reason, prefixed with the slot's state). */
  how: string;
  /** The service door was open (a technician's removal); undefined = unknown. */
  serviceDoorOpen?: boolean;
  /** Fault code when the slot goes to `fault`. Default EDISKREMOVED. */
  faultCode?: string;
}

/** Whether a slot in this record is believed to hold a disk that a removal would take away. */
export function holdsDisk(rec: SlotRecord): boolean {
  if (OWNED.includes(rec.state)) return false;
  return HOLDS_DISK.includes(rec.state) || rec.diskId !== null;
}

/**
 * Records that the disk of `slot` left it, outside any dispense, in ONE transaction: the
 * slot loses its disk and `DiskRemoved` is appended to the outbox (with SlotStateChanged and
 * FaultRaised when the state changes). Where the slot goes:
 *  - `fault` and `disabled` stay as they are, without the disk: the jam or the technician's
 *    reason to disable still stands;
 *  - with the service door open (a technician unloading) to `empty` when the state machine
 *    allows it (loaded, ready, returned);
 *  - otherwise to `fault` (EDISKREMOVED): a disk that vanished from a rentable slot with the
 *    door shut is an anomaly a technician has to look at, and a fault slot is never offered
 *    or refilled behind the operator's back. Start-up reconciliation does the same, so the
 *    slot's disk id is cleared and the removal is reported once, never again on a later boot.
 * Returns the slot's state before, or null when there was nothing to record (no disk held, or
 * a running dispense/preparation owns the slot). Synchronous; may run inside a transaction.
 */
export function recordDiskRemoval(deps: DiskRemovalDeps, r: DiskRemoval): SlotStateName | null {
  const { db, slots } = deps;
  return db.transaction((): SlotStateName | null => {
    const cur = slots.get(r.slot);
    if (!holdsDisk(cur)) return null;
    const door = r.serviceDoorOpen;
    const where = `${cur.state}${cur.fault ? ` (${cur.fault.code})` : ''}`;
    const reason = `${cur.diskId ?? 'an unidentified disk'} left slot ${r.slot} while ${where}${
      door ? ' with the service door open' : ''
    }: ${r.how}`.slice(0, 1000);
    const removed: PendingEvent = {
      type: 'DiskRemoved',
      data: {
        slot: r.slot,
        ...(cur.diskId ? { diskId: cur.diskId } : {}),
        state: cur.state,
        reason,
        ...(door !== undefined ? { serviceDoorOpen: door } : {}),
      },
    };
    const forgetDisk = () => {
      if (!cur.diskId) return;
      db.prepare('UPDATE disks SET last_seen_slot = NULL, updated_at = ? WHERE disk_id = ?').run(
        deps.clock.now().toISOString(),
        cur.diskId,
      );
    };
    if (KEEPS_STATE.includes(cur.state)) {
      slots.update({
        slot: r.slot,
        expected: cur.state,
        set: { diskId: null },
        events: [removed],
        also: forgetDisk,
      });
    } else if (door && isLegalTransition(cur.state, 'empty')) {
      slots.transition({
        slot: r.slot,
        from: cur.state,
        to: 'empty',
        reason: 'disk removed with the service door open',
        events: [removed],
        also: forgetDisk,
      });
    } else {
      const fault = { code: r.faultCode ?? 'EDISKREMOVED', message: reason };
      slots.transition({
        slot: r.slot,
        from: cur.state,
        to: 'fault',
        reason: 'disk removed outside a dispense',
        set: { fault, diskId: null },
        events: [removed, { type: 'FaultRaised', data: { slot: r.slot, ...fault } }],
        also: forgetDisk,
      });
    }
    deps.log.warn({ slot: r.slot, diskId: cur.diskId, state: cur.state, door }, reason);
    return cur.state;
  })();
}

export interface DiskWatchDeps extends DiskRemovalDeps {
  hardware: { board: MotorBoard; gpio: Pick<Gpio, 'readInputs'> };
}

/**
 * Watches the slot sensors for a disk leaving a slot outside a dispense (pulled from a jammed
 * or faulted slot, taken by a technician, stolen) and records it with recordDiskRemoval().
 * Before recording it confirms with the board's status (a flicker that is back is ignored;
 * an unreadable board trusts the report) and reads the service door. One removal per slot at
 * a time. stop() stops listening and resolves when the removals being recorded are done.
 */
export class DiskWatch {
  private readonly busy = new Map<number, Promise<void>>();
  private readonly onSensor = (slot: number, sensors: SlotSensors) => {
    if (sensors.present || this.busy.has(slot)) return;
    let rec: SlotRecord;
    try {
      rec = this.deps.slots.get(slot);
    } catch {
      return; // a slot this kiosk does not have
    }
    if (!holdsDisk(rec)) return;
    const p = this.confirmAndRecord(slot)
      .catch((err: unknown) => {
        this.deps.log.error(
          { slot, err: (err as Error).message },
          'recording a removed disk failed; reconciled at the next start',
        );
      })
      .finally(() => this.busy.delete(slot));
    this.busy.set(slot, p);
  };

  constructor(private readonly deps: DiskWatchDeps) {}

  start(): void {
    this.deps.hardware.board.on('sensor', this.onSensor);
  }

  async stop(): Promise<void> {
    this.deps.hardware.board.off('sensor', this.onSensor);
    await Promise.all([...this.busy.values()]);
  }

  private async confirmAndRecord(slot: number): Promise<void> {
    const { board, gpio } = this.deps.hardware;
    const st = await board
      .status(slot)
      .then((s) => s[0])
      .catch(() => undefined);
    if (st?.present) return; // back already (a flicker, or pushed straight back in)
    const door = await gpio
      .readInputs()
      .then((i) => i.door === 'open')
      .catch(() => undefined);
    recordDiskRemoval(this.deps, {
      slot,
      how: 'the slot sensor saw it go',
      ...(door !== undefined ? { serviceDoorOpen: door } : {}),
    });
  }
}
