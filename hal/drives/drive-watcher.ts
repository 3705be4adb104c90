/**
 * The Drives service over any scanner: attach/detach by diffing successive scans, scans
 * driven by udev events (or polling), the calibration table and the calibration routine.
 * The real driver and the simulator differ only in their scanner and how they watch.
 */
import { EventEmitter } from 'node:events';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import {
  emptyTable,
  loadCalibrationTable,
  saveCalibrationTable,
  tableMappings,
  withoutSlot,
  withPortsRecorded,
} from './calibration-table.js';
import { type Selection, selectDisks } from './selection.js';
import {
  type CalibrateOptions,
  type CalibrationResult,
  type CalibrationTable,
  DEFAULT_CALIBRATE_TIMEOUT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  type DiskInfo,
  type DiskScanner,
  type Drives,
  DrivesError,
  type DrivesOptions,
  type DriveWatchMode,
  type PortMapping,
  type SlotDisk,
} from './types.js';
import { type UdevEvent, UdevMonitor, type UdevSource } from './udev-monitor.js';

export interface DriveWatcherDeps extends DrivesOptions {
  scanner: DiskScanner;
  /** The change events of `udev` mode (injectable for tests). Default: a UdevMonitor on the block subsystem. */
  udev?: UdevSource;
  /** How long a scan answers resolveSlotDisk() in `udev` mode. Default RESOLVE_REUSE_MS. */
  resolveReuseMs?: number;
}

/** Events closer than this are answered with one scan. */
const SETTLE_MS = 100;
/**
 * How long, in `udev` mode, a finished scan answers resolveSlotDisk() while no udev event
 * came since it started: the storage driver resolves its device before every operation (an
 * image-mode preparation makes about five in a second or two), and a scan (drivelist +
 * lsblk) takes ~20 ms here, several times that on a Pi.
 */
export const RESOLVE_REUSE_MS = 2000;

const slotKey = (d: SlotDisk) => `${d.slot}|${d.device}|${d.serial ?? ''}|${d.sizeBytes}`;
const diskKey = (d: DiskInfo) => `${d.device}|${d.serial ?? ''}|${d.portPaths.join(',')}`;

/** Real path of a device, or its resolved path when it does not exist (any more). */
export async function devicePath(device: string): Promise<string> {
  try {
    return await realpath(device);
  } catch {
    return path.resolve(device);
  }
}

export class DriveWatcher extends EventEmitter implements Drives {
  #table: CalibrationTable;
  #known = new Map<string, SlotDisk>();
  #timer: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;
  #inFlight: Promise<Selection> | undefined;
  #started = false;
  #mode: DriveWatchMode = 'none';
  #udev: UdevSource | undefined;
  /** Counts udev events; a scan started at the current count has seen every change. */
  #events = 0;
  /** The last finished scan: when it started (performance.now()) and the event count then. */
  #last: { at: number; events: number; selection: Selection } | undefined;
  /** Virtual block devices (loop, device-mapper, zram) never sit in a slot: their churn is ignored. */
  readonly #onUdev = (e: UdevEvent) => {
    if (e.devpath.startsWith('/devices/virtual/')) return;
    this.#events++;
    this.#onEvent();
  };
  readonly #onUdevStarted = () => {
    this.#events++;
    this.#onEvent();
  };
  readonly #onUdevUnavailable = (reason: string) => {
    this.#stopUdev();
    this.#watch(
      'poll',
      `${reason}; polling every ${this.deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS} ms instead`,
    );
  };

  constructor(protected readonly deps: DriveWatcherDeps) {
    super();
    this.#table = structuredClone(deps.initialTable ?? emptyTable());
  }

  async start(): Promise<void> {
    if (this.#started) return;
    if (this.deps.calibrationFile) {
      this.#table = await loadCalibrationTable(this.deps.calibrationFile, this.#table);
    }
    await this.#scan();
    this.#started = true;
    this.#watch(this.deps.watch ?? 'none');
  }

  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#settle);
    this.#settle = undefined;
    this.#stopUdev();
    await this.#inFlight?.catch(() => undefined);
  }

  /** How changes are noticed now. */
  get watchMode(): DriveWatchMode {
    return this.#mode;
  }

  /**
   * Something changed (a simulator's insert/remove, a udev event): scan now (emitting
   * the differences) unless polling will. Resolves when that scan is done; never rejects.
   */
  protected async changed(): Promise<void> {
    if (!this.#started || this.#mode === 'poll') return;
    await this.#scan().catch((err: unknown) => this.#scanFailed(err));
  }

  async list(): Promise<SlotDisk[]> {
    return (await this.#scan()).slotDisks;
  }

  rescan(): Promise<SlotDisk[]> {
    return this.list();
  }

  async diskForSlot(slot: number): Promise<SlotDisk | undefined> {
    return (await this.list()).find((d) => d.slot === slot);
  }

  async candidates(): Promise<DiskInfo[]> {
    return (await this.#scan()).candidates;
  }

  /**
   * The slot disk `device` is. In `udev` mode a scan that finished less than
   * RESOLVE_REUSE_MS after it started, with no udev event since it started, answers without
   * a new scan; otherwise (or in any other mode, or asked `fresh`: before a write, since a
   * udev event can arrive a moment after the change it tells of) this scans.
   */
  async resolveSlotDisk(
    device: string,
    opts: { fresh?: boolean } = {},
  ): Promise<SlotDisk | undefined> {
    const wanted = await devicePath(device);
    const last = this.#last;
    const fresh =
      opts.fresh !== true &&
      this.#mode === 'udev' &&
      this.#started &&
      !this.#inFlight &&
      last !== undefined &&
      last.events === this.#events &&
      performance.now() - last.at < (this.deps.resolveReuseMs ?? RESOLVE_REUSE_MS);
    for (const disk of fresh ? last.selection.slotDisks : await this.list()) {
      if ((await devicePath(disk.device)) === wanted) return disk;
    }
    return undefined;
  }

  mappings(): PortMapping[] {
    return tableMappings(this.#table);
  }

  async forgetSlot(slot: number): Promise<void> {
    await this.#setTable(withoutSlot(this.#table, slot));
  }

  async calibrate(slot: number, opts: CalibrateOptions = {}): Promise<CalibrationResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CALIBRATE_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const pollMs = Math.min(this.deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 250);
    let seen = new Set((await this.#scan()).candidates.map(diskKey));
    for (;;) {
      if (opts.signal?.aborted) {
        throw new DrivesError('EABORTED', `Calibration of slot ${slot} was cancelled`);
      }
      if (Date.now() >= deadline) {
        throw new DrivesError(
          'ETIMEOUT',
          `No new disk appeared within ${timeoutMs} ms while calibrating slot ${slot}: insert a disk into slot ${slot} and start the calibration again`,
        );
      }
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), opts.signal);
      const now = (await this.#scan()).candidates;
      const fresh = now.filter((d) => !seen.has(diskKey(d)));
      // Disks that left are forgotten, so pulling and re-inserting a disk counts as new.
      seen = new Set(now.map(diskKey).filter((k) => seen.has(k)));
      if (fresh.length === 0) continue;
      if (fresh.length > 1) {
        throw new DrivesError(
          'EAMBIGUOUS',
          `Several disks appeared at once (${fresh.map((d) => d.device).join(', ')}) while calibrating slot ${slot}: insert one disk at a time`,
        );
      }
      const disk = fresh[0]!;
      if (disk.portPaths.length === 0) {
        throw new DrivesError(
          'ENOPORT',
          `Disk ${disk.device} has no USB port path (/dev/disk/by-path): is it on a USB port of the kiosk's hubs?`,
        );
      }
      const before = new Set(this.#table.slots[String(slot)] ?? []);
      await this.#setTable(withPortsRecorded(this.#table, slot, disk.portPaths));
      await this.#scan(); // emit 'attach' for the newly mapped disk
      return {
        slot,
        portPaths: [...(this.#table.slots[String(slot)] ?? [])],
        added: disk.portPaths.filter((p) => !before.has(p)),
        disk,
      };
    }
  }

  async #setTable(table: CalibrationTable): Promise<void> {
    if (this.deps.calibrationFile) await saveCalibrationTable(this.deps.calibrationFile, table);
    this.#table = table;
    this.#last = undefined; // selected with the old table
  }

  #watch(mode: DriveWatchMode, reason?: string): void {
    this.#mode = mode;
    if (mode === 'udev') {
      this.#udev = this.deps.udev ?? new UdevMonitor();
      this.#udev.on('event', this.#onUdev);
      this.#udev.on('started', this.#onUdevStarted);
      this.#udev.on('unavailable', this.#onUdevUnavailable);
      this.#udev.start();
    } else if (mode === 'poll') {
      this.#schedule();
    }
    this.emit('watching', mode, reason);
  }

  #stopUdev(): void {
    const u = this.#udev;
    this.#udev = undefined;
    if (!u) return;
    u.off('event', this.#onUdev);
    u.off('started', this.#onUdevStarted);
    u.off('unavailable', this.#onUdevUnavailable);
    u.stop();
  }

  /** A udev event: one scan once the burst settles (a disk brings several events). */
  #onEvent(): void {
    if (!this.#started || this.#settle) return;
    this.#settle = setTimeout(() => {
      this.#settle = undefined;
      void this.changed();
    }, SETTLE_MS);
  }

  #scanFailed(err: unknown): void {
    const e =
      err instanceof DrivesError
        ? err
        : new DrivesError('ESCAN', `Drive scan failed: ${String(err)}`, { cause: err });
    this.emit('scanError', e);
  }

  #schedule(): void {
    if (!this.#started || this.#mode !== 'poll') return;
    this.#timer = setTimeout(() => {
      this.#scan()
        .catch((err: unknown) => this.#scanFailed(err))
        .finally(() => this.#schedule());
    }, this.deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }

  /** One scan at a time; callers during a scan share it. */
  #scan(): Promise<Selection> {
    if (!this.#inFlight) {
      this.#inFlight = this.#scanOnce().finally(() => {
        this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  async #scanOnce(): Promise<Selection> {
    const at = performance.now();
    const events = this.#events;
    let result: Awaited<ReturnType<DiskScanner['scan']>>;
    try {
      result = await this.deps.scanner.scan();
    } catch (err) {
      this.#last = undefined;
      if (err instanceof DrivesError) throw err;
      throw new DrivesError('ESCAN', `Drive scan failed: ${String(err)}`, { cause: err });
    }
    const selection = selectDisks(result, this.#table);
    this.#last = { at, events, selection };
    this.#diff(selection.slotDisks);
    return selection;
  }

  #diff(current: SlotDisk[]): void {
    const next = new Map(current.map((d) => [slotKey(d), d]));
    const gone = [...this.#known].filter(([k]) => !next.has(k)).map(([, d]) => d);
    const added = [...next].filter(([k]) => !this.#known.has(k)).map(([, d]) => d);
    this.#known = next;
    for (const d of gone) this.emit('detach', d);
    for (const d of added) this.emit('attach', d);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
