/**
 * Pre-staging: keeps `count` disks per popular content ready in advance (state `ready`
 * with that content, version and write protection), so walk-up rentals need no waiting.
 * Every `intervalMs` (and on poke()) it counts ready disks per entry and prepares
 * `loaded` disks for the shortfall: loaded -> preparing -> ready, or back to loaded /
 * fault with the reason. Content is pinned in the cache while configured.
 */
import type { ContentCache } from '../content/content-cache.js';
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { TimeSource } from '../state/clock.js';
import { diskIdFor, type SlotDiskLocator, slotDisks } from './disk-records.js';
import type { ClonePipeline } from './pipeline.js';
import { cloneIntoSlot } from './slot-clone.js';
import { type JobLock, withJobLock } from './types.js';

export interface PrestageEntry {
  contentId: string;
  version: string;
  count: number;
  writeProtect: boolean;
}

export interface PrestageDeps {
  db: KioskDb;
  slots: SlotStore;
  clock: TimeSource;
  log: KioskLogger;
  cache: Pick<ContentCache, 'ensure' | 'pin' | 'unpin'>;
  pipeline: Pick<ClonePipeline, 'run'>;
  locateDisk: SlotDiskLocator;
  prestage: readonly PrestageEntry[];
  /** Default 60 000 ms. */
  intervalMs?: number;
  /** The update lock, held while a disk is pre-staged (it waits while an update owns it). */
  updateLock?: JobLock;
}

const PIN = 'prestage';

export class PrestageService {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly deps: PrestageDeps) {}

  async start(): Promise<void> {
    for (const e of this.deps.prestage) this.deps.cache.pin(e.contentId, e.version, PIN);
    this.timer = setInterval(() => void this.poke(), this.deps.intervalMs ?? 60_000);
    void this.poke();
  }

  /** Stops the timer and cancels a pass in flight (its disks go back to loaded). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.pass?.catch(() => undefined);
  }

  /** Runs a pass now (or joins the one running). Never rejects. */
  poke(): Promise<void> {
    this.pass ??= this.runPass().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  private async runPass(): Promise<void> {
    const { db, log } = this.deps;
    for (const e of this.deps.prestage) {
      if (this.abort.signal.aborted) return;
      const ready = slotDisks(db, ['ready', 'preparing']).filter(
        (r) =>
          r.contentId === e.contentId &&
          r.contentVersion === e.version &&
          r.writeProtected === e.writeProtect,
      ).length;
      const short = e.count - ready;
      if (short <= 0) continue;
      let manifest: Awaited<ReturnType<PrestageDeps['cache']['ensure']>>;
      try {
        manifest = await this.deps.cache.ensure(e.contentId, e.version, {
          signal: this.abort.signal,
        });
      } catch (err) {
        log.warn(
          { contentId: e.contentId, err: (err as Error).message },
          'pre-staging: content unavailable',
        );
        continue;
      }
      const jobs: Promise<void>[] = [];
      for (const r of slotDisks(db, ['loaded']).filter((x) => x.health !== 'bad')) {
        if (jobs.length >= short) break;
        const loc = await this.deps.locateDisk(r.slot).catch(() => undefined);
        if (!loc || loc.capacityBytes < manifest.totalBytes) continue;
        jobs.push(
          this.prepareOne(
            e,
            manifest,
            r.slot,
            r.diskId ?? diskIdFor(loc.serial),
            loc.device,
            loc.capacityBytes,
          ),
        );
      }
      await Promise.allSettled(jobs);
    }
  }

  private async prepareOne(
    e: PrestageEntry,
    manifest: Parameters<PrestageDeps['pipeline']['run']>[0]['manifest'],
    slot: number,
    diskId: string,
    device: string,
    capacityBytes: number,
  ): Promise<void> {
    try {
      await withJobLock(
        this.deps.updateLock,
        `pre-stage slot ${slot}`,
        () =>
          cloneIntoSlot(this.deps, {
            slot,
            from: 'loaded',
            diskId,
            device,
            capacityBytes,
            manifest,
            writeProtect: e.writeProtect,
            why: 'pre-staging',
            signal: this.abort.signal,
          }),
        this.abort.signal,
      );
    } catch {
      // someone else took the slot first, or the clone failed (recorded on the slot)
    }
  }
}

export function createPrestageService(deps: PrestageDeps): PrestageService {
  return new PrestageService(deps);
}
