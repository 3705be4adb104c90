/**
 * The checker's ready-stock invariant: a `ready` disk is never reformatted for other content
 * unless the operator's setting allowed it at that moment.
 *
 * Each kiosk's SlotStateChanged events (as the hub stored them, in seq order) are replayed
 * slot by slot, so the checker knows, independently of the kiosk's own bookkeeping, what every
 * slot held before each change. Every `ready -> preparing` of a disk that held content must
 * match a row of the kiosk's `ready_reformats` (migration 004; same slot and slot version as
 * the event's snapshot) naming its cause. A reservation's reformat must (a) have been allowed
 * by the run's hub setting (`rental.reservationsMayReformatReady`), (b) come from a
 * PrepareDisk the hub sent with `reformatReady` for that slot, and (c) have left at least
 * `keepReadyPerType` other ready disks of the old content at that kiosk at that moment (from
 * the replay). An operator's WipeDisk must be a command the hub sent.
 */
import type Database from 'better-sqlite3';

type Row = Record<string, unknown>;

export interface StockPolicy {
  reservationsMayReformatReady: boolean;
  keepReadyPerType: number;
}

interface Snap {
  state?: string;
  contentId?: string;
  contentVersion?: string;
  version?: number;
}

export interface StockCheckInput {
  kioskId: string;
  /** The kiosk's database (read-only). */
  db: Database.Database;
  /** The hub's events of this kiosk, seq order. */
  events: Row[];
  /** The hub's commands of this kiosk. */
  commands: Row[];
  policy: StockPolicy;
}

const json = (s: unknown): Row => {
  try {
    return JSON.parse(String(s)) as Row;
  } catch {
    return {};
  }
};

export function checkReadyStock(
  input: StockCheckInput,
  add: (invariant: string, message: string, ids: Record<string, string | number>) => void,
): { reformats: number; reservationReformats: number } {
  const { kioskId, db, policy } = input;
  const rows = db.prepare('SELECT * FROM ready_reformats').all() as Row[];
  const rowAt = new Map(rows.map((r) => [`${r.slot}/${r.slot_version}`, r]));
  const commands = new Map(input.commands.map((c) => [String(c.id), c]));
  const slots = new Map<number, Snap>();
  let reformats = 0;
  let reservationReformats = 0;
  for (const e of input.events) {
    if (e.type !== 'SlotStateChanged') continue;
    const d = json(e.data);
    const slot = Number(d.slot);
    const snap = (d.snapshot ?? { state: d.to }) as Snap;
    const before = slots.get(slot);
    slots.set(slot, snap);
    if (d.from !== 'ready' || d.to !== 'preparing' || !before?.contentId) continue;
    reformats++;
    const ids = { kioskId, slot, seq: Number(e.seq) };
    const what = `${before.contentId}@${before.contentVersion}`;
    const row = rowAt.get(`${slot}/${snap.version}`);
    if (!row) {
      add(
        'ready-stock-kept',
        `${kioskId} slot ${slot}: its ready disk of ${what} was reformatted (event seq ${e.seq}) with no recorded cause`,
        ids,
      );
      continue;
    }
    if (row.cause === 'wipe') {
      const c = row.command_id ? commands.get(String(row.command_id)) : undefined;
      if (c?.action !== 'WipeDisk')
        add(
          'ready-stock-kept',
          `${kioskId} slot ${slot}: ready ${what} wiped without a WipeDisk from the hub`,
          ids,
        );
      continue;
    }
    if (row.cause !== 'reservation') continue; // a technician's kioskctl clone
    reservationReformats++;
    const rid = { ...ids, reservationId: String(row.reservation_id) };
    if (!policy.reservationsMayReformatReady)
      add(
        'ready-stock-kept',
        `${kioskId} slot ${slot}: ready ${what} reformatted for reservation ${row.reservation_id} although the operator's setting did not allow it`,
        rid,
      );
    const cmd = commands.get(String(row.command_id));
    const payload = cmd ? json(cmd.payload) : {};
    if (cmd?.action !== 'PrepareDisk' || !payload.reformatReady || payload.slot !== slot)
      add(
        'ready-stock-kept',
        `${kioskId} slot ${slot}: ready ${what} reformatted for reservation ${row.reservation_id} without a PrepareDisk allowing it for this slot`,
        rid,
      );
    const left = [...slots].filter(
      ([s, x]) =>
        s !== slot &&
        x.state === 'ready' &&
        x.contentId === before.contentId &&
        x.contentVersion === before.contentVersion,
    ).length;
    if (left < policy.keepReadyPerType)
      add(
        'ready-stock-kept',
        `${kioskId} slot ${slot}: ready ${what} reformatted leaving ${left} ready (keep ${policy.keepReadyPerType})`,
        rid,
      );
  }
  return { reformats, reservationReformats };
}
