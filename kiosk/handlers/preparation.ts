/**
 * The disk-preparation side of kioskd, composed from kiosk/content and kiosk/cloning: the
 * content cache (downloading from the hub's content origin with the kiosk's Basic
 * credentials), the clone pipeline (hal storage + the write-protect relays), the
 * PrepareDisk handler, the returned-disk check and WipeDisk, and pre-staging when
 * configured. The daemon calls start() before reconciliation (it runs the prepare
 * handler's recover()), plugs extensions() into the dispatcher and the returns watcher,
 * calls startBackground() once the hub link runs, and stop() on shutdown.
 */
import type { SlotDisk } from '../../hal/drives/index.js';
import {
  type CloneFinished,
  ClonePipeline,
  createDiskCheckService,
  createPrepareHandler,
  createPrestageService,
  type DiskCheckService,
  ImageStore,
  type PrepareHandler,
  type PrestageService,
  readIdentity,
  type SlotDiskLocator,
  smartctlHealth,
} from '../cloning/index.js';
import { quickCheckDisk } from '../cloning/quick-check.js';
import type { JobLock } from '../cloning/types.js';
import type { KioskConfig } from '../config.js';
import { ContentCache } from '../content/content-cache.js';
import type { KioskDb } from '../db/open-db.js';
import type { Hardware } from '../hardware.js';
import { fetchTrusting } from '../link/hub-tls.js';
import type { KioskLogger } from '../log.js';
import type { DiskIdentity, ReturnExtensions } from '../returns/return-watcher.js';
import type { ReadyCheck } from '../slots/ready-again.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { HubClock } from '../state/clock.js';
import type { Outbox } from '../state/outbox.js';
import type { CommandExtensions } from './dispatcher.js';

export interface PreparationDeps {
  config: KioskConfig;
  db: KioskDb;
  slots: SlotStore;
  outbox: Outbox;
  clock: HubClock;
  hardware: Hardware;
  log: KioskLogger;
  /** The kiosk's hub secret (Basic credentials for the content origin), the hub key, extra CAs. */
  credentials: { secret: string; publicKeyPem: string; caPem?: string };
  /** HTTP client (tests); default global fetch. */
  fetch?: typeof fetch;
  /** The update lock, held by prepares, checks, wipes and pre-staging. */
  updateLock?: JobLock;
  /** Told after every clone (kioskd's metrics). */
  onCloneFinished?: (f: CloneFinished) => void;
}

/** `content.origin`, or the hub's HTTP base derived from `hub.url` (ws -> http, wss -> https). */
export function contentOrigin(config: KioskConfig): string {
  if (config.content.origin) return config.content.origin.replace(/\/+$/, '');
  const u = new URL(config.hub.url);
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

/**
 * How kioskd reaches its content origin: the base URL, the kiosk's Basic credentials (sent to
 * URLs under the origin only) and the HTTP client (trusting `hub.caFile` when set).
 */
export function originAccess(
  config: KioskConfig,
  credentials: { secret: string; caPem?: string },
  fetchImpl?: typeof fetch,
): { origin: string; headers: Record<string, string>; fetch?: typeof fetch } {
  const basic = Buffer.from(`${config.kioskId}:${credentials.secret}`).toString('base64');
  const f = fetchImpl ?? (credentials.caPem ? fetchTrusting(credentials.caPem) : undefined);
  return {
    origin: contentOrigin(config),
    headers: { authorization: `Basic ${basic}` },
    ...(f ? { fetch: f } : {}),
  };
}

export class PreparationServices {
  cache!: ContentCache;
  pipeline!: ClonePipeline;
  /** Block images (image mode); undefined when disabled or on simulated storage. */
  images: ImageStore | undefined;
  prepare!: PrepareHandler;
  checks!: DiskCheckService;
  prestage: PrestageService | undefined;
  private readonly checking = new Map<number, Promise<unknown>>();

  constructor(private readonly deps: PreparationDeps) {}

  /** Builds the services, prepares the cache directory, resumes interrupted wipes and prepares. */
  async start(): Promise<void> {
    const { config, db, slots, outbox, clock, hardware: hw, log, credentials } = this.deps;
    const cacheDir = config.content.cacheDir ?? `${config.dataDir}/cache`;
    const access = originAccess(config, credentials, this.deps.fetch);
    this.cache = new ContentCache({
      db,
      clock,
      log: log.child({ component: 'content' }),
      ...(access.fetch ? { fetch: access.fetch } : {}),
      options: {
        cacheDir,
        origin: access.origin,
        hubPublicKey: credentials.publicKeyPem,
        maxBytes: config.content.maxBytes,
        parallelDownloads: config.content.parallelDownloads,
        headers: access.headers,
      },
    });
    await this.cache.start();
    const cl = config.cloning;
    const storageCfg = config.hardware.storage as {
      driver: string;
      mountDriver?: 'auto' | 'kernel' | 'fuse';
    };
    if (cl.image.enabled && storageCfg.driver === 'real') {
      this.images = new ImageStore({
        cache: this.cache,
        storage: hw.storage,
        clock,
        log: log.child({ component: 'images' }),
        options: {
          classes: cl.image.classes,
          slackPercent: cl.image.slackPercent,
          rsyncProcesses: cl.rsyncProcesses,
          verifyReaders: cl.verifyReaders,
        },
      });
      await this.images.start();
    }
    this.pipeline = new ClonePipeline({
      ...(this.images ? { images: this.images } : {}),
      storage: hw.storage,
      relay: hw.gpio,
      cache: { blobPath: (h) => this.cache.blobPath(h), stagingDir: this.cache.blobs.stagingDir },
      kioskId: config.kioskId,
      clock,
      log: log.child({ component: 'cloning' }),
      ...(this.deps.onCloneFinished ? { onFinished: this.deps.onCloneFinished } : {}),
      options: {
        concurrency: cl.concurrency,
        rsyncProcesses: cl.rsyncProcesses,
        verifyReaders: cl.verifyReaders,
      },
    });
    const locateDisk = this.locateDisk;
    this.prepare = createPrepareHandler({
      db,
      slots,
      outbox,
      clock,
      log: log.child({ component: 'prepare' }),
      cache: this.cache,
      pipeline: this.pipeline,
      locateDisk,
      protect: async (slot, device, on) => {
        await hw.storage.setReadOnly(device, on);
        await hw.gpio.setWriteProtect(slot, on);
      },
      options: { progressIntervalMs: cl.progressIntervalMs },
      ...(this.deps.updateLock ? { updateLock: this.deps.updateLock } : {}),
    });
    this.checks = createDiskCheckService({
      db,
      slots,
      clock,
      log: log.child({ component: 'disk-check' }),
      storage: hw.storage,
      relay: hw.gpio,
      locateDisk,
      manifestOf: (id, v) => this.cache.index.manifest(id, v),
      health: smartctlHealth(log),
      options: { wipeMode: cl.wipeMode, verifyReaders: cl.verifyReaders },
      ...(this.deps.updateLock ? { updateLock: this.deps.updateLock } : {}),
    });
    await this.checks.start();
    // Interrupted checks and wipes first (they own their `preparing` slots), then prepares.
    await this.checks.recover();
    if (cl.prestage.length > 0) {
      this.prestage = createPrestageService({
        db,
        slots,
        clock,
        log: log.child({ component: 'prestage' }),
        cache: this.cache,
        pipeline: this.pipeline,
        locateDisk,
        prestage: cl.prestage,
        intervalMs: cl.prestageIntervalSeconds * 1000,
        ...(this.deps.updateLock ? { updateLock: this.deps.updateLock } : {}),
      });
    }
    await this.prepare.recover();
  }

  /** Pre-staging, and checks of disks left `returned` by an earlier run. */
  async startBackground(): Promise<void> {
    for (const s of this.deps.slots.list()) if (s.state === 'returned') this.check(s.slot);
    await this.prestage?.start();
  }

  /** Cancels prepares (left to recover() at the next start), waits for checks and wipes. */
  async stop(): Promise<void> {
    await this.prestage?.stop();
    await this.prepare?.stop();
    await Promise.allSettled([...this.checking.values()]);
    await this.checks?.stop();
    await this.images?.stop();
    await this.cache?.stop();
  }

  /** Handlers for the dispatcher and the returns watcher. */
  extensions(): CommandExtensions & ReturnExtensions {
    return {
      prepareDisk: (p) => this.prepare.handle(p),
      wipeDisk: (p) => this.checks.handleWipe(p),
      cancelPrepare: (reservationId) => this.prepare.cancel(reservationId),
      checkReadyDisk: this.readyCheck,
      readIdentity: (disk) => this.identityOf(disk),
      checkReturnedDisk: async (slot) => {
        await this.check(slot);
      },
    };
  }

  /** Resolves when no prepare, check or wipe is running (tests). */
  async idle(): Promise<void> {
    await this.prepare.idle();
    await Promise.allSettled([...this.checking.values()]);
    await this.checks.idle();
  }

  /** The quick check of a prepared disk (identity, manifest, file sizes) for a re-enabled slot. */
  readonly readyCheck: ReadyCheck = (slot, expect) =>
    quickCheckDisk(
      {
        storage: this.deps.hardware.storage,
        locateDisk: this.locateDisk,
        manifestOf: (id, v) => this.cache.index.manifest(id, v),
      },
      slot,
      expect,
    );

  /** Where a slot's disk is (hal drives' diskForSlot). */
  readonly locateDisk: SlotDiskLocator = async (slot) => {
    const d = await this.deps.hardware.drives.diskForSlot(slot);
    return d ? { device: d.device, capacityBytes: d.sizeBytes, serial: d.serial } : undefined;
  };

  /** Checks a `returned` slot's disk once at a time: verify -> ready, or wipe -> loaded, or fault. */
  private check(slot: number): Promise<unknown> {
    const running = this.checking.get(slot);
    if (running) return running;
    const log = this.deps.log.child({ component: 'disk-check', slot });
    const p = this.checks
      .checkReturned(slot)
      .then((outcome) => log.info({ outcome }, 'returned disk checked'))
      .catch((err: Error) => log.error({ err: err.message }, 'returned disk check failed'))
      .finally(() => this.checking.delete(slot));
    this.checking.set(slot, p);
    return p;
  }

  /** Mounts a returned disk read-only and reads its identity file; null when it has none. */
  private async identityOf(disk: SlotDisk): Promise<DiskIdentity | null> {
    const { storage } = this.deps.hardware;
    let mounted = false;
    try {
      const mnt = await storage.mount(disk.device, { readOnly: true });
      mounted = true;
      const id = await readIdentity(mnt.mountpoint);
      return id ? { diskId: id.diskId, valid: true } : null;
    } catch {
      return null; // blank, foreign or unreadable: identified by its serial instead
    } finally {
      if (mounted) await storage.unmount(disk.device).catch(() => undefined);
    }
  }
}
