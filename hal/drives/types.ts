/**
 * Drives: block-device enumeration and the disk <-> slot map.
 * The interface, its events, its errors and its configuration. No I/O here.
 *
 * A slot is found from the USB port path a disk enumerates on (`/dev/disk/by-path`),
 * through a calibration table that a technician fills with `calibrate(slot)`. The
 * system disk (the one holding `/`, `/boot`, or any mounted system partition) is
 * never listed, whatever the table says.
 */
import { CodedError } from '../../common/coded-error.js';

/** A disk that may be used by the kiosk (not a system disk), whether or not it sits in a slot. */
export interface DiskInfo {
  /** Block device (`/dev/sdX`, `/dev/loopN`), or a directory for the simulator's directory-backed fake disks. */
  device: string;
  /** `block` for real block devices (including loop devices); `directory` for simulated directory disks. */
  kind: 'block' | 'directory';
  /** Serial number as udev reports it (`ID_SERIAL_SHORT`), or null when the disk has none. */
  serial: string | null;
  sizeBytes: number;
  usb: boolean;
  removable: boolean;
  /** Normalised USB port paths (see `by-path.ts`), e.g. `platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3`. */
  portPaths: string[];
  /** Mountpoints of the disk and of its partitions. */
  mountpoints: string[];
  /** The kernel's read-only flag as last seen (`blockdev --getro`); informative only. */
  readOnly: boolean;
  /** Set when the disk reports an error (drivelist's `error`, or the simulator's I/O-error fault). */
  error?: string;
}

/** A disk sitting in a calibrated slot. */
export interface SlotDisk extends DiskInfo {
  slot: number;
}

/** The port paths recorded for one slot (a USB2 and a USB3 path per physical port, typically). */
export interface PortMapping {
  slot: number;
  portPaths: string[];
}

/** The persisted calibration table: slot -> port paths. */
export interface CalibrationTable {
  version: 1;
  slots: Record<string, string[]>;
}

export interface CalibrateOptions {
  /** Give up after this long with `ETIMEOUT`. Default 120 000 ms. */
  timeoutMs?: number;
  /** Aborting rejects with `EABORTED`; the table is left unchanged. */
  signal?: AbortSignal;
}

export interface CalibrationResult extends PortMapping {
  /** The port paths this calibration added (empty if they were already recorded). */
  added: string[];
  /** The disk that was inserted. */
  disk: DiskInfo;
}

/** Event map (Node `EventEmitter` style: event name -> listener arguments). */
export interface DrivesEvents {
  /** A disk appeared in a slot (also emitted for disks present at start()). */
  attach: [disk: SlotDisk];
  /** A disk left a slot (or changed identity: a detach of the old one precedes the attach of the new one). */
  detach: [disk: SlotDisk];
  /** A scan after a change (or a periodic one) failed; watching continues. Never emitted as 'error' (no crash without a listener). */
  scanError: [err: DrivesError];
  /** How changes are noticed from now on (`reason`: why udev events are not used). */
  watching: [mode: DriveWatchMode, reason?: string];
}

/**
 * How attach/detach are noticed: `udev` (a scan after each block-device event from
 * `udevadm monitor`; no scans while nothing changes), `poll` (a scan every
 * `pollIntervalMs`), `none` (only on list()/rescan(), and the simulator's insert/remove).
 */
export type DriveWatchMode = 'udev' | 'poll' | 'none';

export interface Drives {
  /** Loads the calibration table, scans once (emitting 'attach' for present disks), then watches (see DriveWatchMode). Rejects with `ETABLE` for a corrupt table or `ESCAN` if the first scan fails. */
  start(): Promise<void>;
  /** Stops watching and waits for a scan in flight. Idempotent. */
  stop(): Promise<void>;
  /** Scans now (a scan takes ~50-200 ms; no timeout of its own) and returns disks in calibrated slots; emits the differences. Concurrent calls share one scan. */
  list(): Promise<SlotDisk[]>;
  /** Same as list(); named for callers that want to say "look again now". */
  rescan(): Promise<SlotDisk[]>;
  /** Scans now; the disk in `slot`, if any. */
  diskForSlot(slot: number): Promise<SlotDisk | undefined>;
  /** Scans now; every usable (non-system, USB/removable or calibrated) disk, mapped or not. */
  candidates(): Promise<DiskInfo[]>;
  /**
   * The slot disk whose device has the same real path as `device`, if any: a new scan, except
   * that in `udev` mode a scan of a moment ago with no block event since may answer; `fresh`
   * always scans (asked before the device is written).
   */
  resolveSlotDisk(device: string, opts?: { fresh?: boolean }): Promise<SlotDisk | undefined>;
  /**
   * Waits for a new disk to appear ("insert a disk into slot N"), then records its port
   * path(s) for `slot` (removing them from any other slot) and saves the table. Call once
   * with a USB2 disk and once with a USB3 disk to record both paths of a port.
   * Rejects with `ETIMEOUT` after `timeoutMs`, `EABORTED` on the signal, `EAMBIGUOUS` if two
   * disks appear at once, `ENOPORT` if the new disk has no port path. Polls every ≤250 ms.
   */
  calibrate(slot: number, opts?: CalibrateOptions): Promise<CalibrationResult>;
  /** Removes the mapping of `slot` and saves the table. */
  forgetSlot(slot: number): Promise<void>;
  /** The current table, one entry per calibrated slot, sorted by slot. */
  mappings(): PortMapping[];
  on<E extends keyof DrivesEvents>(event: E, listener: (...args: DrivesEvents[E]) => void): this;
  off<E extends keyof DrivesEvents>(event: E, listener: (...args: DrivesEvents[E]) => void): this;
  once<E extends keyof DrivesEvents>(event: E, listener: (...args: DrivesEvents[E]) => void): this;
}

/** What a scanner reports about one block device, before selection. */
export interface ScannedDisk extends Omit<DiskInfo, 'portPaths'> {
  /** Names found in `/dev/disk/by-path` for the whole disk (not partitions). */
  byPathNames: string[];
  /** Virtual devices (zram, ram, loop seen by drivelist) are not candidates unless calibrated. */
  virtual: boolean;
  /** drivelist's `isSystem`. */
  system: boolean;
}

export interface ScanResult {
  disks: ScannedDisk[];
  /** Devices of whole disks holding a system mount (`/`, `/boot`, ...), found independently of drivelist. */
  systemDisks: string[];
}

/** The source of scans: the real one reads drivelist, lsblk and /dev/disk/by-path; the simulator serves its own disks. */
export interface DiskScanner {
  scan(): Promise<ScanResult>;
}

export interface DrivesOptions {
  /** Where the calibration table is persisted (JSON). Without it the table lives in memory only. */
  calibrationFile?: string;
  /** Table to use when `calibrationFile` is absent or does not exist yet. */
  initialTable?: CalibrationTable;
  /** How changes are noticed. Default `udev` for the real driver, `none` for the simulator (its insert/remove are its events). */
  watch?: DriveWatchMode;
  /** Scan interval in `poll` mode (also the fallback when udev events are unavailable). Default 1000 ms. */
  pollIntervalMs?: number;
}

export type DrivesErrorCode =
  | 'ETIMEOUT' // calibration: no new disk appeared in time
  | 'EABORTED' // calibration cancelled
  | 'EAMBIGUOUS' // calibration: more than one new disk appeared
  | 'ENOPORT' // calibration: the new disk has no port path
  | 'ETABLE' // the calibration table file is unreadable or invalid
  | 'ESCAN' // enumeration failed
  | 'ENOSLOT'; // the simulator has no such physical slot / nothing inserted there

export class DrivesError extends CodedError<DrivesErrorCode> {}

export const DEFAULT_POLL_INTERVAL_MS = 1000;
export const DEFAULT_CALIBRATE_TIMEOUT_MS = 120_000;
