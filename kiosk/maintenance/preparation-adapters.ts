/**
 * kioskctl's disk and cache jobs on kioskd's real preparation services: `cache ls|import|
 * prune` on the ContentCache, `verify|wipe N` on the DiskCheckService. Progress goes to
 * the CLI's progress bar through JobOptions.onProgress.
 */
import type { DiskCheckService } from '../cloning/disk-check.js';
import type { ContentCache } from '../content/content-cache.js';
import type { MaintenanceCloning, MaintenanceContent } from './deps.js';
import { MaintenanceError } from './wire.js';

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

/**
 * `verify` and `wipe` run now; `clone` is not wired yet (it answers ENOTAVAILABLE) until a
 * per-slot clone is shared with pre-staging instead of copied here.
 */
export function maintenanceCloning(
  checks: Pick<DiskCheckService, 'verifySlot' | 'wipe'>,
): MaintenanceCloning {
  return {
    clone: async () => {
      throw new MaintenanceError(
        'ENOTAVAILABLE',
        'clone from kioskctl is not available yet; prepare the disk through a reservation or pre-staging',
      );
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
