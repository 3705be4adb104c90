import type { SlotDisk } from '../../hal/drives/index.js';
import type { SlotSensors } from '../../hal/motor-board/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { Hardware } from '../hardware.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { TimeSource } from '../state/clock.js';
import { diskIdForSerial, upsertDisk } from './stock.js';

/** What the storage/cloning side reads from a disk's identity file (written at preparation). */
export interface DiskIdentity {
  diskId: string;
  /** True when the file is present, parses, and its signature/checksum holds. */
  valid: boolean;
}

/** Hooks kiosk/cloning provides (identity check, check or wipe); both optional. */
export interface ReturnExtensions {
  /** Reads the identity file of a returned disk; null when there is none. */
  readIdentity?: (disk: SlotDisk) => Promise<DiskIdentity | null>;
  /**
   * Takes over a disk moved to `returned` (check or wipe, then `loaded`/`ready`/`fault`).
   * Called after the DiskReturned transaction committed; not awaited by the watcher.
   */
  checkReturnedDisk?: (slot: number, disk: SlotDisk) => Promise<void>;
}

export interface ReturnWatcherDeps {
  db: KioskDb;
  slots: SlotStore;
  clock: TimeSource;
  hardware: Pick<Hardware, 'board' | 'drives'>;
  log: KioskLogger;
  extensions?: ReturnExtensions;
  /** How long a disk seen by the sensor may take to enumerate on USB. Default 15000 ms. */
  driveWaitMs?: number;
  /**
   * While waiting for the drive: the drives' `attach` event for the slot ends the wait; this
   * is only how often to look again in case none comes. Default 1000 ms.
   */
  pollMs?: number;
}

/**
 * Returns: a disk pushed into an EMPTY slot (board sensor `present`, plus the drive list
 * showing a disk in that slot) is identified by its USB serial and, when the content side
 * provides a reader, its identity file; reported as `DiskReturned` in the same transaction
 * as the slot's move to `returned` (handed to the checker) or, without a checker, `loaded`.
 * A disk the sensor sees but USB never shows within driveWaitMs puts the slot in `fault`.
 * One identification per slot at a time. stop() cancels waits and resolves when done.
 */
export class ReturnWatcher {
  private readonly busy = new Map<number, Promise<void>>();
  private abort = new AbortController();
  private readonly onSensor = (slot: number, s: SlotSensors) => {
    if (s.present && s.seated) this.identify(slot);
  };
  private readonly onAttach = (disk: SlotDisk) => this.identify(disk.slot);

  constructor(private readonly deps: ReturnWatcherDeps) {}

  start(): void {
    this.abort = new AbortController();
    this.deps.hardware.board.on('sensor', this.onSensor);
    this.deps.hardware.drives.on('attach', this.onAttach);
  }

  async stop(): Promise<void> {
    this.deps.hardware.board.off('sensor', this.onSensor);
    this.deps.hardware.drives.off('attach', this.onAttach);
    this.abort.abort();
    await Promise.all([...this.busy.values()]);
  }

  /** Identifies what is in `slot` if the slot is recorded `empty` (no-op otherwise). */
  identify(slot: number): Promise<void> {
    const running = this.busy.get(slot);
    if (running) return running;
    const p = this.run(slot)
      .catch((err: unknown) => {
        this.deps.log.error({ slot, err }, 'identifying a returned disk failed');
      })
      .finally(() => this.busy.delete(slot));
    this.busy.set(slot, p);
    return p;
  }

  /** Resolves when the drives announce a disk in `slot`, after `ms`, or on abort. */
  private attachOf(slot: number, ms: number, signal: AbortSignal): Promise<void> {
    const drives = this.deps.hardware.drives;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        drives.off('attach', onAttach);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const onAttach = (d: SlotDisk) => {
        if (d.slot === slot) done();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      drives.on('attach', onAttach);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private isEmpty(slot: number): boolean {
    try {
      return this.deps.slots.get(slot).state === 'empty';
    } catch {
      return false; // not a slot of this kiosk
    }
  }

  private async run(slot: number): Promise<void> {
    const { hardware, log } = this.deps;
    const signal = this.abort.signal;
    const deadline = Date.now() + (this.deps.driveWaitMs ?? 15_000);
    let disk: SlotDisk | undefined;
    for (;;) {
      if (signal.aborted || !this.isEmpty(slot)) return;
      const sensors = (await hardware.board.status(slot))[0];
      if (!sensors?.present) return; // nothing physically there (yet)
      disk = await hardware.drives.diskForSlot(slot);
      if (disk || Date.now() > deadline) break;
      await this.attachOf(slot, Math.min(this.deps.pollMs ?? 1000, deadline - Date.now()), signal);
    }
    if (signal.aborted || !this.isEmpty(slot)) return;
    const slog = log.child({ slot });
    if (!disk) {
      const message = `slot ${slot}: the sensor sees a disk but no USB disk enumerated; check the disk and the slot's connector`;
      this.deps.slots.transition({
        slot,
        from: 'empty',
        to: 'fault',
        reason: 'returned object not detected on USB',
        set: { fault: { code: 'ENODRIVE', message } },
        events: [{ type: 'FaultRaised', data: { slot, code: 'ENODRIVE', message } }],
      });
      slog.warn(message);
      return;
    }
    await this.record(slot, disk, slog);
  }

  private async record(slot: number, disk: SlotDisk, log: KioskLogger): Promise<void> {
    const { db, clock, slots, extensions } = this.deps;
    let identity: DiskIdentity | null = null;
    if (extensions?.readIdentity) {
      identity = await extensions.readIdentity(disk).catch((err: Error) => {
        log.warn({ err: err.message }, 'identity file unreadable');
        return null;
      });
    }
    if (!this.isEmpty(slot)) return;
    const serial = disk.serial ?? undefined;
    const diskId = identity?.diskId ?? (serial ? diskIdForSerial(db, serial) : undefined);
    const to = extensions?.checkReturnedDisk ? 'returned' : 'loaded';
    slots.transition({
      slot,
      from: 'empty',
      to,
      reason: 'disk returned',
      set: { diskId: diskId ?? null },
      events: [
        {
          type: 'DiskReturned',
          data: {
            slot,
            ...(diskId ? { diskId } : {}),
            ...(serial ? { usbSerial: serial } : {}),
            identityValid: identity?.valid ?? false,
            writeProtected: disk.readOnly,
          },
        },
      ],
      also: () => {
        if (diskId) {
          upsertDisk(
            db,
            clock,
            {
              diskId,
              usbSerial: serial ?? null,
              capacityBytes: disk.sizeBytes,
              writeProtected: disk.readOnly,
            },
            slot,
          );
        }
      },
    });
    log.info({ diskId, usbSerial: serial, to }, 'disk returned');
    if (extensions?.checkReturnedDisk) {
      void extensions.checkReturnedDisk(slot, disk).catch((err: Error) => {
        log.error({ err: err.message }, 'returned-disk check failed');
      });
    }
  }
}
