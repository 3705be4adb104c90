/**
 * Ready stock and its reformats (migration 004). A `ready` disk holds sellable content: the
 * kiosk reformats one only for an operator's wipe, a technician's clone, or a reservation
 * the hub allowed to take ready stock of other content (PrepareDisk `reformatReady`), and
 * records each in `ready_reformats` in the transaction that moves the slot out of `ready`.
 * Synchronous; meant for SlotStore transitions' `also`.
 */
import type { KioskDb } from '../db/open-db.js';

export type ReformatCause = 'reservation' | 'wipe' | 'clone';

/** Ready slots whose disk holds `contentId@version`, besides `exceptSlot`. */
export function readyWithContent(
  db: KioskDb,
  content: { contentId: string; version: string },
  exceptSlot?: number,
): number {
  const row = db
    .prepare(
      `SELECT count(*) AS n FROM slots s JOIN disks d ON d.disk_id = s.disk_id
       WHERE s.state = 'ready' AND d.content_id = ? AND d.content_version = ? AND s.slot <> ?`,
    )
    .get(content.contentId, content.version, exceptSlot ?? 0) as { n: number };
  return row.n;
}

export interface ReadyReformat {
  slot: number;
  cause: ReformatCause;
  /** What goes onto the disk instead (null for a wipe). */
  to: { contentId: string; version: string } | null;
  commandId?: string | undefined;
  reservationId?: string | undefined;
  /** The stock the hub asked to keep (PrepareDisk `reformatReady.keepReady`). */
  keepReady?: number | undefined;
  now: string;
}

/**
 * Records that the ready disk in `slot` is being reformatted. Call inside the transaction
 * that moves the slot `ready -> preparing`, after the slot row changed and BEFORE the disk
 * row's content is cleared (the previous content is read from it). Only for a slot that
 * left `ready`.
 */
export function recordReadyReformat(db: KioskDb, r: ReadyReformat): void {
  const s = db.prepare('SELECT state, disk_id, version FROM slots WHERE slot = ?').get(r.slot) as
    | { state: string; disk_id: string | null; version: number }
    | undefined;
  if (!s) return;
  const d = s.disk_id
    ? (db
        .prepare('SELECT content_id, content_version FROM disks WHERE disk_id = ?')
        .get(s.disk_id) as
        | { content_id: string | null; content_version: string | null }
        | undefined)
    : undefined;
  const from =
    d?.content_id && d.content_version
      ? { contentId: d.content_id, version: d.content_version }
      : null;
  db.prepare(
    `INSERT INTO ready_reformats (at, slot, slot_version, disk_id, from_content_id,
       from_content_version, to_content_id, to_content_version, cause, command_id,
       reservation_id, keep_ready, ready_left)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.now,
    r.slot,
    s.version,
    s.disk_id,
    from?.contentId ?? null,
    from?.version ?? null,
    r.to?.contentId ?? null,
    r.to?.version ?? null,
    r.cause,
    r.commandId ?? null,
    r.reservationId ?? null,
    r.keepReady ?? null,
    from ? readyWithContent(db, from, r.slot) : 0,
  );
}
