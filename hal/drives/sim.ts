/**
 * The drives simulator: physical slots whose disks are loop devices (real block devices,
 * so the real storage driver works on them) or directory-backed fake disks (for machines
 * without loop devices; only the storage simulator can operate on those). Each physical
 * slot has a USB2 and a USB3 port path, so calibration runs exactly as on a kiosk.
 * A pretend system disk on a calibrated-looking port is always in the scan, to prove
 * the exclusion. Self-contained: no module-global state.
 */
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { emptyTable } from './calibration-table.js';
import { ensureDirDisk, readDirDiskMeta } from './dir-disk.js';
import { DriveWatcher } from './drive-watcher.js';
import { attachLoop, detachLoop, mountpointsIn } from './loop-device.js';
import {
  type CalibrationTable,
  type DiskScanner,
  DrivesError,
  type DrivesOptions,
  type ScannedDisk,
  type ScanResult,
} from './types.js';

export interface SimDiskSpec {
  serial?: string | null;
  /** Defaults to the loop device's size, or 64 MiB for a directory disk. */
  sizeBytes?: number;
  /** An attached loop device (see test/helpers/loop-device.ts). */
  device?: string;
  /** A backing file: the simulator attaches it with `losetup` on insert and detaches it on remove (root only). */
  backingFile?: string;
  /** A directory: a directory-backed fake disk, for machines without loop devices. */
  dir?: string;
  /** Which of the slot's two port paths the disk enumerates on. Default 'usb3'. */
  bus?: 'usb2' | 'usb3';
}

export interface SimDrivesConfig extends DrivesOptions {
  /** Physical slots 1..slotCount. Default 4. */
  slotCount?: number;
  /** Start with every physical slot calibrated to its own ports. Default true unless `initialTable` or `calibrationFile` is given. */
  calibrated?: boolean;
  /** Disks inserted by start(). */
  disks?: Record<number, SimDiskSpec>;
}

/** The by-path names the simulator gives physical `slot` on each bus. */
export function simByPathName(slot: number, bus: 'usb2' | 'usb3'): string {
  const hubPort = bus === 'usb2' ? 1 : 2;
  return `platform-sim.pcie-pci-0000:01:00.0-usb-0:${hubPort}.${slot}:1.0-scsi-0:0:0:0`;
}

/** The normalised port paths of physical `slot` ([usb2, usb3]). */
export function simPortPaths(slot: number): [string, string] {
  return [
    `platform-sim.pcie-pci-0000:01:00.0-usb-0:1.${slot}`,
    `platform-sim.pcie-pci-0000:01:00.0-usb-0:2.${slot}`,
  ];
}

interface Inserted {
  spec: SimDiskSpec;
  device: string;
  kind: 'block' | 'directory';
  attachedByUs: boolean;
  ioError?: string;
}

export const SIM_SYSTEM_DISK = '/dev/sim-system';

class SimScanner implements DiskScanner {
  readonly inserted = new Map<number, Inserted>();

  async scan(): Promise<ScanResult> {
    // Snapshot first, synchronously: a scan reflects the slots at the moment it was asked for.
    const inserted = [...this.inserted];
    const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
    const disks: ScannedDisk[] = [
      {
        device: SIM_SYSTEM_DISK,
        kind: 'block',
        serial: 'SYSTEM',
        sizeBytes: 32 * 2 ** 30,
        usb: true,
        removable: true,
        virtual: false,
        system: false, // only the mountpoint and systemDisks give it away
        readOnly: false,
        mountpoints: ['/', '/boot/firmware'],
        byPathNames: [simByPathName(99, 'usb3')],
      },
    ];
    for (const [slot, ins] of inserted) {
      const disk: ScannedDisk = {
        device: ins.device,
        kind: ins.kind,
        serial: ins.spec.serial ?? null,
        sizeBytes: ins.spec.sizeBytes ?? (await sizeOf(ins)),
        usb: true,
        removable: true,
        virtual: false,
        system: false,
        readOnly: false,
        mountpoints: [],
        byPathNames: [simByPathName(slot, ins.spec.bus ?? 'usb3')],
      };
      if (ins.kind === 'directory') {
        const meta = await readDirDiskMeta(ins.device);
        disk.readOnly = meta?.readOnly ?? false;
        if (meta?.mountpoint) disk.mountpoints = [meta.mountpoint];
      } else {
        disk.mountpoints = mountpointsIn(mounts, ins.device);
        disk.readOnly = (await readSys(ins.device, 'ro')) === '1';
      }
      if (ins.ioError) disk.error = ins.ioError;
      disks.push(disk);
    }
    return { disks, systemDisks: [SIM_SYSTEM_DISK] };
  }
}

async function readSys(device: string, file: string): Promise<string | undefined> {
  try {
    const name = path.basename(await realpath(device));
    return (await readFile(`/sys/class/block/${name}/${file}`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function sizeOf(ins: Inserted): Promise<number> {
  if (ins.kind === 'directory') return (await readDirDiskMeta(ins.device))?.sizeBytes ?? 0;
  return Number((await readSys(ins.device, 'size')) ?? 0) * 512;
}

export class SimDrives extends DriveWatcher {
  readonly slotCount: number;

  constructor(
    private readonly config: SimDrivesConfig = {},
    private readonly sim = new SimScanner(),
  ) {
    super({ ...config, scanner: sim, initialTable: initialTableOf(config) });
    this.slotCount = config.slotCount ?? 4;
  }

  override async start(): Promise<void> {
    for (const [slot, spec] of Object.entries(this.config.disks ?? {})) {
      if (!this.sim.inserted.has(Number(slot))) await this.insert(Number(slot), spec);
    }
    await super.start();
  }

  /** Puts a disk into physical `slot`; returns its device. Rejects with `ENOSLOT` for a slot outside 1..slotCount or already occupied. */
  async insert(slot: number, spec: SimDiskSpec): Promise<string> {
    this.#checkSlot(slot);
    if (this.sim.inserted.has(slot)) {
      throw new DrivesError(
        'ENOSLOT',
        `Simulated slot ${slot} already holds a disk: remove it first`,
      );
    }
    let ins: Inserted;
    if (spec.dir) {
      const dir = path.resolve(spec.dir);
      await ensureDirDisk(dir, spec.sizeBytes ?? 64 * 2 ** 20);
      ins = { spec, device: dir, kind: 'directory', attachedByUs: false };
    } else if (spec.device) {
      ins = { spec, device: spec.device, kind: 'block', attachedByUs: false };
    } else if (spec.backingFile) {
      const device = await attachLoop(spec.backingFile);
      ins = { spec, device, kind: 'block', attachedByUs: true };
    } else {
      throw new DrivesError('ENOSLOT', 'A simulated disk needs a device, backingFile or dir');
    }
    this.sim.inserted.set(slot, ins);
    await this.changed(); // as udev would report it
    return ins.device;
  }

  /** Takes the disk out of physical `slot` (a loop device attached by insert() is detached). A disk disappearing mid-operation is simulated by calling this during the operation. */
  async remove(slot: number): Promise<void> {
    const ins = this.sim.inserted.get(slot);
    if (!ins) throw new DrivesError('ENOSLOT', `Simulated slot ${slot} is empty`);
    this.sim.inserted.delete(slot);
    if (ins.attachedByUs) await detachLoop(ins.device, { keepMounts: true });
    await this.changed(); // as udev would report it
  }

  /** Sets (message) or clears (null) the I/O-error fault of the disk in `slot`; it shows as `SlotDisk.error`. */
  setIoError(slot: number, message: string | null = 'simulated I/O error'): void {
    const ins = this.sim.inserted.get(slot);
    if (!ins) throw new DrivesError('ENOSLOT', `Simulated slot ${slot} is empty`);
    if (message === null) delete ins.ioError;
    else ins.ioError = message;
  }

  /** Removes every disk (detaching loop devices the simulator attached) and stops. */
  override async stop(): Promise<void> {
    await super.stop();
    for (const slot of [...this.sim.inserted.keys()]) await this.remove(slot);
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 1 || slot > this.slotCount) {
      throw new DrivesError(
        'ENOSLOT',
        `Simulated slot ${slot} does not exist (1..${this.slotCount})`,
      );
    }
  }
}

function initialTableOf(config: SimDrivesConfig): CalibrationTable {
  if (config.initialTable) return config.initialTable;
  const calibrated = config.calibrated ?? config.calibrationFile === undefined;
  const table = emptyTable();
  if (calibrated) {
    for (let s = 1; s <= (config.slotCount ?? 4); s++) table.slots[String(s)] = simPortPaths(s);
  }
  return table;
}
