/**
 * Returned disks and wipes. A returned disk that was write-protected is verified
 * against its identity manifest (the cache's signed copy when the kiosk has it) and
 * goes back to `ready`; a writable one is wiped (quick by default, full when configured
 * or when the renter's data must be destroyed) and goes to `loaded`. Health-check or
 * verification failures go to `fault`. Each outcome commits with DiskChecked (and
 * WipeCompleted/WipeFailed) in the slot's transaction. `WipeDisk` runs the same wipe.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CommandResponse, WipeDiskRequest } from '../../protocol/index.js';
import type { ContentManifest } from '../content/manifest.js';
import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from '../link/clock.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { SlotStateName } from '../slots/transitions.js';
import { clip, diskIdFor, type SlotDiskLocator, upsertDisk } from './disk-records.js';
import { readIdentity } from './identity.js';
import type { CloneStorage, WriteProtectRelay } from './types.js';
import { describeVerify, verifyTree } from './verify.js';

export type HealthCheck = (device: string) => Promise<{ ok: boolean; note: string }>;

/**
 * `smartctl -H` when installed; otherwise skipped (ok, with a note to log). USB bridges
 * that do not pass SMART through are skipped the same way.
 */
export function smartctlHealth(log: KioskLogger): HealthCheck {
  const run = promisify(execFile);
  return async (device) => {
    try {
      const { stdout } = await run('smartctl', ['-H', device], { timeout: 60_000 });
      return {
        ok: !/FAILED/i.test(stdout),
        note:
          stdout
            .split('\n')
            .find((l) => /result|Status/i.test(l))
            ?.trim() ?? 'smartctl ran',
      };
    } catch (err) {
      const e = err as { code?: string | number; stdout?: string };
      if (e.code === 'ENOENT') {
        log.info({ device }, 'smartctl not installed: health check skipped');
        return { ok: true, note: 'smartctl not installed; skipped' };
      }
      // smartctl's exit bit 3 (8) = "disk failing"; other bits are about the bridge/command.
      if (typeof e.code === 'number' && (e.code & 8) !== 0)
        return { ok: false, note: `smartctl -H: disk failing (exit ${e.code})` };
      return { ok: true, note: `smartctl -H gave no verdict (exit ${String(e.code)}); skipped` };
    }
  };
}

export interface DiskCheckDeps {
  db: KioskDb;
  slots: SlotStore;
  clock: TimeSource;
  log: KioskLogger;
  storage: CloneStorage;
  relay: WriteProtectRelay;
  locateDisk: SlotDiskLocator;
  /** The kiosk's own manifest for content, if cached (preferred over the disk's copy). */
  manifestOf?: (contentId: string, version: string) => ContentManifest | undefined;
  health?: HealthCheck;
  options?: { wipeMode?: 'quick' | 'full'; verifyReaders?: number; mountRoot?: string };
}

export type CheckOutcome = 'ready' | 'loaded' | 'fault';

class CheckFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class DiskCheckService {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: DiskCheckDeps) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Checks the disk in a `returned` slot and moves the slot to ready / loaded / fault.
   * `destroyData` forces a full overwrite of a writable disk. Resolves with the outcome;
   * rejects only if the slot is not `returned` (StaleStateError from the slot store).
   */
  async checkReturned(slot: number, opts: { destroyData?: boolean } = {}): Promise<CheckOutcome> {
    const { slots, storage, clock } = this.deps;
    const cur = slots.get(slot);
    const loc = await this.deps.locateDisk(slot).catch(() => undefined);
    const diskId = cur.diskId ?? diskIdFor(loc?.serial);
    const wp = cur.writeProtect || this.diskRow(diskId)?.write_protected === 1;
    slots.transition({
      slot,
      from: 'returned',
      to: 'preparing',
      reason: 'checking a returned disk',
      set: { diskId },
    });
    try {
      if (!loc)
        throw new CheckFailure('ENODEVICE', `no block device found for the disk in slot ${slot}`);
      await this.healthCheck(loc.device);
      if (wp) {
        const m = await this.verifyContent(loc.device);
        slots.transition({
          slot,
          from: 'preparing',
          to: 'ready',
          reason: `returned disk verified: ${m.contentId}@${m.version}`,
          set: { diskId, writeProtect: true },
          events: [{ type: 'DiskChecked', data: { slot, diskId, result: 'ready' } }],
          also: (d) =>
            upsertDisk(d, {
              diskId,
              slot,
              content: { contentId: m.contentId, version: m.version },
              writeProtected: true,
              health: 'good',
              now: clock.now().toISOString(),
            }),
        });
        await storage.setReadOnly(loc.device, true).catch(() => undefined);
        return 'ready';
      }
      const mode = opts.destroyData ? 'full' : (this.deps.options?.wipeMode ?? 'quick');
      await this.wipeDevice(slot, loc.device, mode);
      slots.transition({
        slot,
        from: 'preparing',
        to: 'loaded',
        reason: `returned writable disk wiped (${mode})`,
        set: { diskId, writeProtect: false },
        events: [
          { type: 'WipeCompleted', data: { slot, diskId, mode } },
          { type: 'DiskChecked', data: { slot, diskId, result: 'loaded' } },
        ],
        also: (d) =>
          upsertDisk(d, {
            diskId,
            slot,
            content: null,
            writeProtected: false,
            health: 'good',
            now: clock.now().toISOString(),
          }),
      });
      return 'loaded';
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'EINTERNAL';
      const reason = clip((err as Error).message);
      this.deps.log.warn({ slot, diskId, code, err: reason }, 'returned disk failed its check');
      slots.transition({
        slot,
        from: 'preparing',
        to: 'fault',
        reason: clip(`returned disk check failed: ${reason}`),
        set: { diskId, fault: { code, message: reason } },
        events: [
          ...(wp ? [] : [{ type: 'WipeFailed' as const, data: { slot, diskId, code, reason } }]),
          { type: 'DiskChecked', data: { slot, diskId, result: 'fault', reason } },
        ],
        also: (d) =>
          upsertDisk(d, {
            diskId,
            slot,
            content: null,
            health: 'bad',
            now: clock.now().toISOString(),
          }),
      });
      return 'fault';
    }
  }

  /**
   * `WipeDisk` handler: answers at once (Rejected when the slot is not loaded, ready or
   * returned, or has no disk) and wipes in the background: slot -> preparing -> loaded
   * with WipeCompleted, or -> fault with WipeFailed.
   */
  handleWipe(payload: WipeDiskRequest): Promise<CommandResponse> {
    const { slots } = this.deps;
    const cur = slots.get(payload.slot);
    const allowed: SlotStateName[] = ['loaded', 'ready', 'returned'];
    if (!allowed.includes(cur.state)) {
      return Promise.resolve({
        status: 'Rejected',
        reason: `slot ${payload.slot} is ${cur.state}; only a loaded, ready or returned disk can be wiped`,
      });
    }
    if (this.running.has(payload.commandId)) return Promise.resolve({ status: 'Accepted' });
    const p = this.wipeJob(payload, cur.state).finally(() =>
      this.running.delete(payload.commandId),
    );
    this.running.set(payload.commandId, p);
    return Promise.resolve({ status: 'Accepted' });
  }

  /** Resolves when no wipe started by handleWipe is running. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async wipeJob(payload: WipeDiskRequest, from: SlotStateName): Promise<void> {
    const { slots, clock } = this.deps;
    const { slot, mode, commandId } = payload;
    const loc = await this.deps.locateDisk(slot).catch(() => undefined);
    const diskId = slots.get(slot).diskId ?? diskIdFor(loc?.serial);
    slots.transition({
      slot,
      from,
      to: 'preparing',
      reason: `wipe (${mode}) ordered by the hub`,
      set: { diskId },
    });
    try {
      if (!loc)
        throw new CheckFailure('ENODEVICE', `no block device found for the disk in slot ${slot}`);
      await this.wipeDevice(slot, loc.device, mode);
      slots.transition({
        slot,
        from: 'preparing',
        to: 'loaded',
        reason: `wiped (${mode})`,
        set: { diskId, writeProtect: false },
        events: [{ type: 'WipeCompleted', data: { commandId, slot, diskId, mode } }],
        also: (d) =>
          upsertDisk(d, {
            diskId,
            slot,
            content: null,
            writeProtected: false,
            now: clock.now().toISOString(),
          }),
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'EINTERNAL';
      const reason = clip((err as Error).message);
      slots.transition({
        slot,
        from: 'preparing',
        to: 'fault',
        reason: clip(`wipe failed: ${reason}`),
        set: { diskId, fault: { code, message: reason } },
        events: [{ type: 'WipeFailed', data: { commandId, slot, diskId, code, reason } }],
        also: (d) =>
          upsertDisk(d, {
            diskId,
            slot,
            content: null,
            health: 'bad',
            now: clock.now().toISOString(),
          }),
      });
    }
  }

  private async wipeDevice(slot: number, device: string, mode: 'quick' | 'full'): Promise<void> {
    const { storage } = this.deps;
    await this.deps.relay.setWriteProtect(slot, false);
    await storage.setReadOnly(device, false);
    await storage.unmount(device);
    if (mode === 'full') await storage.fullWipe(device);
    else await storage.quickWipe(device);
  }

  private async healthCheck(device: string): Promise<void> {
    if (!this.deps.health) return;
    const h = await this.deps.health(device);
    if (!h.ok) throw new CheckFailure('EHEALTH', `health check failed: ${h.note}`);
  }

  /** Mounts read-only, reads the identity, verifies every file; rejects EVERIFY / EIO / ENOIDENTITY. */
  private async verifyContent(device: string): Promise<ContentManifest> {
    const { storage } = this.deps;
    await storage.unmount(device);
    await storage.dropCaches(device);
    const mountRoot = this.deps.options?.mountRoot;
    const mnt = await storage.mount(device, {
      readOnly: true,
      ...(mountRoot ? { mountpoint: `${mountRoot}/check-${device.replace(/\W/g, '')}` } : {}),
    });
    try {
      const id = await readIdentity(mnt.mountpoint);
      if (!id)
        throw new CheckFailure(
          'ENOIDENTITY',
          'the disk has no readable identity file; it cannot be trusted as prepared',
        );
      const m = this.deps.manifestOf?.(id.contentId, id.contentVersion) ?? id.manifest;
      const v = await verifyTree(mnt.mountpoint, m, {
        readers: this.deps.options?.verifyReaders ?? 4,
      });
      if (!v.ok)
        throw new CheckFailure(
          v.unreadable.length ? 'EIO' : 'EVERIFY',
          `content does not match its manifest: ${describeVerify(v)}`,
        );
      return m;
    } finally {
      await storage.unmount(device);
    }
  }

  private diskRow(diskId: string): { write_protected: number } | undefined {
    return this.deps.db
      .prepare('SELECT write_protected FROM disks WHERE disk_id = ?')
      .get(diskId) as { write_protected: number } | undefined;
  }
}

export function createDiskCheckService(deps: DiskCheckDeps): DiskCheckService {
  return new DiskCheckService(deps);
}
