/**
 * One disk cloned in place for stock (not for a reservation): loaded|ready -> preparing
 * -> ready with the content, or back to loaded / fault with the reason. Used by
 * pre-staging and by kioskctl's `clone N`. A crash mid-clone leaves the slot `preparing`
 * with no PrepareDisk claiming it, so DiskCheckService.recover() wipes it at the next start.
 */
import type { ContentManifest } from '../content/manifest.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { TimeSource } from '../state/clock.js';
import { clip, upsertDisk } from './disk-records.js';
import type { ClonePipeline } from './pipeline.js';
import { recordReadyReformat } from './ready-reformats.js';
import { CloneError, type CloneProgress, DISK_FAULT_CODES } from './types.js';

export interface SlotCloneDeps {
  slots: SlotStore;
  clock: TimeSource;
  log: KioskLogger;
  pipeline: Pick<ClonePipeline, 'run'>;
}

export interface SlotCloneJob {
  slot: number;
  from: 'loaded' | 'ready';
  diskId: string;
  device: string;
  capacityBytes: number;
  manifest: ContentManifest;
  writeProtect: boolean;
  /** Who asked, for the slot's reasons ("pre-staging", "kioskctl clone"). */
  why: string;
  signal?: AbortSignal;
  onProgress?: (p: CloneProgress) => void;
}

/**
 * Takes the slot (throws StaleStateError, before any work, when it is not in `from`),
 * clones, and records the outcome. Resolves when the slot is `ready`; rejects with the
 * clone's error (a `code`) once the slot is back in `loaded` or `fault`. Aborting
 * `signal` cancels the copy (slot back to `loaded`).
 */
export async function cloneIntoSlot(deps: SlotCloneDeps, job: SlotCloneJob): Promise<void> {
  const { slots, clock } = deps;
  const { slot, diskId, manifest: m } = job;
  const now = () => clock.now().toISOString();
  slots.transition({
    slot,
    from: job.from,
    to: 'preparing',
    reason: `${job.why}: ${m.contentId}@${m.version}`,
    set: { diskId },
    also: (d) => {
      if (job.from === 'ready')
        recordReadyReformat(d, {
          slot,
          cause: 'clone',
          to: { contentId: m.contentId, version: m.version },
          now: now(),
        });
      upsertDisk(d, { diskId, slot, capacityBytes: job.capacityBytes, content: null, now: now() });
    },
  });
  try {
    await deps.pipeline.run({
      slot,
      device: job.device,
      diskId,
      capacityBytes: job.capacityBytes,
      manifest: m,
      writeProtect: job.writeProtect,
      ...(job.signal ? { signal: job.signal } : {}),
      ...(job.onProgress ? { onProgress: job.onProgress } : {}),
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'EINTERNAL';
    const fault = err instanceof CloneError && DISK_FAULT_CODES.includes(err.code);
    const msg = clip((err as Error).message);
    deps.log.warn({ slot, code, err: msg }, `${job.why} failed`);
    slots.transition({
      slot,
      from: 'preparing',
      to: fault ? 'fault' : 'loaded',
      reason: clip(`${job.why} failed (${code}): ${msg}`),
      ...(fault ? { set: { fault: { code, message: msg } } } : {}),
      also: (d) =>
        upsertDisk(d, {
          diskId,
          slot,
          content: null,
          ...(fault ? { health: 'bad' as const } : {}),
          now: now(),
        }),
    });
    throw err;
  }
  slots.transition({
    slot,
    from: 'preparing',
    to: 'ready',
    reason: `${job.why} done: ${m.contentId}@${m.version}`,
    set: { diskId, writeProtect: job.writeProtect },
    also: (d) =>
      upsertDisk(d, {
        diskId,
        slot,
        content: { contentId: m.contentId, version: m.version },
        writeProtected: job.writeProtect,
        health: 'good',
        now: now(),
      }),
  });
}
