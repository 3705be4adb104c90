/**
 * A disabled slot with a disk comes back into service: `ready` with its content when the disk
 * was prepared and still checks out (identity and content, a quick check), else `loaded` (to
 * be checked or prepared again; content it recorded but could not confirm is forgotten).
 * Used by EnableSlot (the hub) and `kioskctl slot enable` (a technician).
 */
import type { KioskDb } from '../db/open-db.js';
import type { PendingEvent } from '../state/outbox.js';
import type { SlotStore } from './slot-store.js';

/** What the kiosk's records say the disk holds (checked against the disk). */
export interface ExpectedDisk {
  diskId: string;
  contentId: string;
  version: string;
}

/** Resolves when the disk in `slot` holds `expect` (kiosk/cloning/quick-check.ts); rejects why not. */
export type ReadyCheck = (slot: number, expect: ExpectedDisk) => Promise<void>;

/**
 * Moves the disabled `slot` (a disk is present) to `ready` when its recorded content checks
 * out with `check`, else to `loaded`. One transition with `events`; returns the new state.
 * Throws StaleStateError when the slot left `disabled` meanwhile.
 */
export async function enableWithDisk(
  deps: { db: KioskDb; slots: SlotStore; now: () => string },
  slot: number,
  reason: string,
  check: ReadyCheck | undefined,
  events: PendingEvent[] = [],
): Promise<'ready' | 'loaded'> {
  const { db, slots } = deps;
  const rec = slots.get(slot);
  const disk = rec.diskId
    ? (db
        .prepare(
          'SELECT content_id, content_version, write_protected, health FROM disks WHERE disk_id = ?',
        )
        .get(rec.diskId) as
        | {
            content_id: string | null;
            content_version: string | null;
            write_protected: number;
            health: string;
          }
        | undefined)
    : undefined;
  const expect =
    rec.diskId && disk?.content_id && disk.content_version && disk.health !== 'bad'
      ? { diskId: rec.diskId, contentId: disk.content_id, version: disk.content_version }
      : undefined;
  let why = 'no prepared content recorded for its disk';
  if (expect && check) {
    try {
      await check(slot, expect);
      slots.transition({
        slot,
        from: 'disabled',
        to: 'ready',
        reason: `${reason}; disk ${expect.diskId} checked: ${expect.contentId}@${expect.version}`,
        set: { writeProtect: disk?.write_protected === 1 },
        events,
      });
      return 'ready';
    } catch (err) {
      if ((err as Error).name === 'StaleStateError') throw err;
      why = `its disk did not check out: ${(err as Error).message}`;
    }
  } else if (expect) why = 'this kiosk build cannot check disks';
  slots.transition({
    slot,
    from: 'disabled',
    to: 'loaded',
    reason: `${reason}; ${why}`,
    events,
    also: (d) => {
      if (rec.diskId && disk?.content_id)
        d.prepare(
          'UPDATE disks SET content_id = NULL, content_version = NULL, updated_at = ? WHERE disk_id = ?',
        ).run(deps.now(), rec.diskId);
    },
  });
  return 'loaded';
}
