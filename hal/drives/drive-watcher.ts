/**
 * The Drives service over any scanner: polling, attach/detach by diffing successive
 * scans, the calibration table and the calibration routine. The real driver and the
 * simulator differ only in their scanner.
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
  type PortMapping,
  type SlotDisk,
} from './types.js';

export interface DriveWatcherDeps extends DrivesOptions {
  scanner: DiskScanner;
}

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
  #inFlight: Promise<Selection> | undefined;
  #started = false;

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
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight?.catch(() => undefined);
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

  async resolveSlotDisk(device: string): Promise<SlotDisk | undefined> {
    const wanted = await devicePath(device);
    for (const disk of await this.list()) {
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
  }

  #schedule(): void {
    if (!this.#started) return;
    this.#timer = setTimeout(() => {
      this.#scan()
        .catch((err: unknown) => {
          const e =
            err instanceof DrivesError
              ? err
              : new DrivesError('ESCAN', `Drive scan failed: ${String(err)}`, { cause: err });
          this.emit('scanError', e);
        })
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
    let result: Awaited<ReturnType<DiskScanner['scan']>>;
    try {
      result = await this.deps.scanner.scan();
    } catch (err) {
      if (err instanceof DrivesError) throw err;
      throw new DrivesError('ESCAN', `Drive scan failed: ${String(err)}`, { cause: err });
    }
    const selection = selectDisks(result, this.#table);
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
