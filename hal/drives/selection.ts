/**
 * Which scanned disks the kiosk may use, and in which slot they sit. Pure functions.
 *
 * Hard exclusions (even when a calibration table maps the disk's port): drivelist's
 * `isSystem`, a disk in the scanner's `systemDisks`, a disk with any system mountpoint.
 * Then a disk is a candidate when it is USB, or removable and not virtual, or its port
 * is in the calibration table. A candidate whose port is calibrated is a slot disk.
 */
import { portKeysOf } from './by-path.js';
import type { CalibrationTable, DiskInfo, ScannedDisk, ScanResult, SlotDisk } from './types.js';

/** Mountpoints that mark a disk as the system's. */
export const SYSTEM_MOUNTPOINTS: readonly string[] = [
  '/',
  '/boot',
  '/boot/firmware',
  '/boot/efi',
  '/usr',
  '/var',
  '/etc',
  '/home',
  '/opt',
  '/srv',
  '/root',
  '[SWAP]',
];

export function isSystemMountpoint(mountpoint: string): boolean {
  const m = mountpoint.length > 1 ? mountpoint.replace(/\/+$/, '') : mountpoint;
  return SYSTEM_MOUNTPOINTS.includes(m);
}

export interface Exclusion {
  device: string;
  reason: string;
}

export interface Selection {
  slotDisks: SlotDisk[];
  candidates: DiskInfo[];
  excluded: Exclusion[];
}

/** The slot whose port paths include one of `portKeys`, if any. */
export function slotForPorts(
  table: CalibrationTable,
  portKeys: readonly string[],
): number | undefined {
  for (const [slot, paths] of Object.entries(table.slots)) {
    if (portKeys.some((k) => paths.includes(k))) return Number(slot);
  }
  return undefined;
}

function systemReason(disk: ScannedDisk, systemDisks: ReadonlySet<string>): string | undefined {
  if (disk.system) return 'drivelist reports a system disk';
  if (systemDisks.has(disk.device)) return 'holds a system mount (/, /boot, ...)';
  const sys = disk.mountpoints.find(isSystemMountpoint);
  if (sys !== undefined) return `has the system mountpoint ${sys}`;
  return undefined;
}

export function selectDisks(scan: ScanResult, table: CalibrationTable): Selection {
  const systemDisks = new Set(scan.systemDisks);
  const out: Selection = { slotDisks: [], candidates: [], excluded: [] };
  for (const disk of scan.disks) {
    const reason = systemReason(disk, systemDisks);
    if (reason !== undefined) {
      out.excluded.push({ device: disk.device, reason });
      continue;
    }
    const portPaths = portKeysOf(disk.byPathNames);
    const slot = slotForPorts(table, portPaths);
    const eligible = disk.usb || (disk.removable && !disk.virtual) || slot !== undefined;
    if (!eligible) {
      out.excluded.push({ device: disk.device, reason: 'neither USB, removable nor calibrated' });
      continue;
    }
    const { byPathNames: _n, virtual: _v, system: _s, ...rest } = disk;
    const info: DiskInfo = { ...rest, portPaths };
    out.candidates.push(info);
    if (slot !== undefined) out.slotDisks.push({ ...info, slot });
  }
  out.slotDisks.sort((a, b) => a.slot - b.slot);
  return out;
}
