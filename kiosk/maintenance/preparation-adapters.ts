/**
 * kioskctl's disk and cache jobs on kioskd's real preparation services: `cache ls|import|
 * prune` on the ContentCache, `clone N` on the clone pipeline (cached content only; the
 * disk is left writable and `ready`), `verify|wipe N` on the DiskCheckService. Progress goes to
 * the CLI's progress bar through JobOptions.onProgress.
 */
import type { DiskCheckService } from '../cloning/disk-check.js';
import { diskIdFor, type SlotDiskLocator } from '../cloning/disk-records.js';
import { cloneIntoSlot, type SlotCloneDeps } from '../cloning/slot-clone.js';
import type { ContentCache } from '../content/content-cache.js';
import { MaintenanceError } from '../maintenance-wire.js';
import type { ReadyCheck } from '../slots/ready-again.js';
import type { MaintenanceCloning, MaintenanceContent } from './deps.js';

export function maintenanceContent(
  cache: Pick<ContentCache, 'index' | 'importFromDirectory' | 'prune'>,
): MaintenanceContent {
  return {
    list: () =>
      cache.index.list().map((c) => ({
        contentId: c.contentId,
        version: c.version,
        totalBytes: c.totalBytes,
        complete: c.complete,
        pins: cache.index.pins(c.contentId, c.version),
        lastUsedAt: c.lastUsedAt,
      })),
    importDir: async (dir, opts) => {
      const m = await cache.importFromDirectory(dir, {
        signal: opts.signal,
        onProgress: (p) => opts.onProgress({ step: 'importing', ...p }),
      });
      return { contentId: m.contentId, version: m.version };
    },
    prune: () => cache.prune(),
  };
}

export interface CloningAdapterDeps extends SlotCloneDeps {
  checks: Pick<DiskCheckService, 'verifySlot' | 'wipe'>;
  readyCheck?: ReadyCheck;
  cache: Pick<ContentCache, 'complete' | 'pin' | 'unpin' | 'index'>;
  locateDisk: SlotDiskLocator;
}

/** The newest complete cached version of `contentId` (numeric-aware order), if any. */
function latestVersion(cache: CloningAdapterDeps['cache'], contentId: string): string | undefined {
  return cache.index
    .list()
    .filter((c) => c.contentId === contentId && c.complete)
    .map((c) => c.version)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .at(-1);
}

/** `clone`, `verify` and `wipe N` on the clone pipeline and the disk-check service. */
export function maintenanceCloning(deps: CloningAdapterDeps): MaintenanceCloning {
  const { checks, cache, slots } = deps;
  return {
    ...(deps.readyCheck ? { checkReady: deps.readyCheck } : {}),
    clone: async (slot, content, opts) => {
      const version = content.version ?? latestVersion(cache, content.contentId);
      const manifest = version ? cache.complete(content.contentId, version) : undefined;
      if (!version || !manifest)
        throw new MaintenanceError(
          'ENOCONTENT',
          `${content.contentId}@${content.version ?? 'latest'} is not in the cache; import it first (kioskctl cache import PATH)`,
        );
      const from = slots.get(slot).state;
      if (from !== 'loaded' && from !== 'ready')
        throw new MaintenanceError(
          'ESTATE',
          `slot ${slot} is ${from}; only a loaded or ready disk can be cloned`,
        );
      const loc = await deps.locateDisk(slot).catch(() => undefined);
      if (!loc)
        throw new MaintenanceError(
          'ENODEVICE',
          `no block device found for the disk in slot ${slot}`,
        );
      const diskId = slots.get(slot).diskId ?? diskIdFor(loc.serial);
      const pin = `kioskctl-clone-${slot}`;
      cache.pin(content.contentId, version, pin);
      try {
        await cloneIntoSlot(deps, {
          slot,
          from,
          diskId,
          device: loc.device,
          capacityBytes: loc.capacityBytes,
          manifest,
          writeProtect: false,
          why: 'kioskctl clone',
          signal: opts.signal,
          onProgress: (p) => opts.onProgress({ ...p }),
        });
      } finally {
        cache.unpin(pin, content.contentId, version);
      }
      return { slot, diskId, contentId: content.contentId, version, state: 'ready' };
    },
    verify: async (slot, opts) => {
      opts.onProgress({ step: 'verifying' });
      const r = await checks.verifySlot(slot);
      opts.onProgress({ step: 'done', filesDone: r.files, filesTotal: r.files });
      return { slot, ok: true, ...r };
    },
    wipe: async (slot, mode, opts) => {
      opts.onProgress({ step: `wiping (${mode})` });
      const outcome = await checks.wipe(slot, mode);
      if (outcome !== 'loaded')
        throw new MaintenanceError(
          'EWIPE',
          `wipe of slot ${slot} failed; the slot is now ${outcome} (see kioskctl slots for the fault)`,
        );
      opts.onProgress({ step: 'done' });
      return { slot, mode, state: outcome };
    },
  };
}
