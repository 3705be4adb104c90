import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import type { TimeSource } from '../state/clock.js';
import type { Outbox, OutboxEvent, PendingEvent } from '../state/outbox.js';
import {
  IllegalTransitionError,
  InvalidTransitionArgsError,
  NoSuchSlotError,
  SlotCountError,
  StaleStateError,
} from './errors.js';
import { slotSnapshot } from './inventory.js';
import { isLegalTransition, type SlotStateName } from './transitions.js';

/** One slot as stored. */
export interface SlotRecord {
  slot: number;
  state: SlotStateName;
  diskId: string | null;
  reservationId: string | null;
  writeProtect: boolean;
  fault: { code: string; message: string } | null;
  /** The state a `disabled` slot was in when disabled (for kioskctl), else null. */
  disabledFrom: SlotStateName | null;
  updatedAt: string;
  /** Bumped on every change; lets callers detect concurrent updates. */
  version: number;
}

/** Field changes that go with a transition or update; omitted = keep (or the default). */
export interface SlotFields {
  diskId?: string | null;
  reservationId?: string | null;
  writeProtect?: boolean;
  fault?: { code: string; message: string } | null;
}

export type { PendingEvent } from '../state/outbox.js';

export interface TransitionRequest {
  slot: number;
  /** The state the caller believes the slot is in (optimistic check). */
  from: SlotStateName;
  to: SlotStateName;
  /** Goes into the SlotStateChanged event and the log. */
  reason?: string;
  set?: SlotFields;
  /** Appended after SlotStateChanged, in this order, in the same transaction. */
  events?: PendingEvent[];
  /** More writes in the same transaction (disks, reservations); a throw rolls back all. */
  also?: (db: KioskDb) => void;
}

export interface UpdateRequest {
  slot: number;
  /** The state the slot must be in; the state itself does not change. */
  expected: SlotStateName;
  set: SlotFields;
  /** Goes into the SlotStateChanged event (`from === to`) and the log. */
  reason?: string;
  events?: PendingEvent[];
  also?: (db: KioskDb) => void;
}

export interface SlotStoreDeps {
  db: KioskDb;
  outbox: Outbox;
  clock: TimeSource;
  log: KioskLogger;
}

interface Row {
  slot: number;
  state: SlotStateName;
  disk_id: string | null;
  reservation_id: string | null;
  write_protect: number;
  fault_code: string | null;
  fault_message: string | null;
  disabled_from: SlotStateName | null;
  updated_at: string;
  version: number;
}

const HOLDS_RESERVATION: readonly SlotStateName[] = ['reserved', 'dispensing'];
const NEEDS_DISK: readonly SlotStateName[] = ['ready', 'reserved', 'dispensing'];

/**
 * The slot state machine over SQLite. Every change is ONE transaction with its outbox
 * events (SlotStateChanged first, then the caller's), so state and events commit
 * together or not at all. Every SlotStateChanged carries the slot's snapshot (disk, content,
 * hold, `version`) taken in that transaction after the caller's `also` writes, so the hub
 * can keep an exact copy; update() emits one too, with `from === to`. All methods are synchronous (better-sqlite3); they may be
 * called inside an enclosing `db.transaction` and then commit with it.
 */
export class SlotStore {
  constructor(private readonly deps: SlotStoreDeps) {}

  /** Creates missing rows 1..count as `empty`. Returns how many were created. */
  ensureSlots(count: number): number {
    const { db } = this.deps;
    const now = this.deps.clock.now().toISOString();
    const ins = db.prepare(
      "INSERT OR IGNORE INTO slots (slot, state, updated_at) VALUES (?, 'empty', ?)",
    );
    return db.transaction(() => {
      let created = 0;
      for (let s = 1; s <= count; s++) created += ins.run(s, now).changes;
      return created;
    })();
  }

  /**
   * Removes the rows of slots above `count` (the configured slots.count was lowered), when
   * they are empty and nothing refers to them; throws SlotCountError naming every slot above
   * `count` that still holds a disk, a state other than `empty`, a reservation or a wipe job,
   * and then removes none. Returns the slots removed.
   */
  retireAbove(count: number): number[] {
    const { db } = this.deps;
    return db.transaction(() => {
      const above = db
        .prepare('SELECT slot, state, disk_id FROM slots WHERE slot > ? ORDER BY slot')
        .all(count) as { slot: number; state: SlotStateName; disk_id: string | null }[];
      const referenced = (slot: number) =>
        db.prepare('SELECT 1 FROM reservations WHERE slot = ?').get(slot) !== undefined ||
        db.prepare('SELECT 1 FROM wipe_jobs WHERE slot = ?').get(slot) !== undefined;
      const busy = above.filter((r) => r.state !== 'empty' || r.disk_id || referenced(r.slot));
      if (busy.length > 0) {
        throw new SlotCountError(
          count,
          busy.map((r) => ({ slot: r.slot, state: r.state, diskId: r.disk_id })),
        );
      }
      db.prepare('DELETE FROM slots WHERE slot > ?').run(count);
      return above.map((r) => r.slot);
    })();
  }

  /** One slot, or throws NoSuchSlotError. */
  get(slot: number): SlotRecord {
    const row = this.deps.db.prepare('SELECT * FROM slots WHERE slot = ?').get(slot) as
      | Row
      | undefined;
    if (!row) throw new NoSuchSlotError(slot);
    return toRecord(row);
  }

  /** Every slot, by number. */
  list(): SlotRecord[] {
    return (this.deps.db.prepare('SELECT * FROM slots ORDER BY slot').all() as Row[]).map(toRecord);
  }

  /**
   * Moves a slot `from -> to`. Throws (and writes nothing) on IllegalTransitionError,
   * StaleStateError (slot not in `from`), NoSuchSlotError, InvalidTransitionArgsError,
   * or anything `also` throws. Returns the new record and the appended events.
   */
  transition(req: TransitionRequest): { slot: SlotRecord; events: OutboxEvent[] } {
    const log = this.deps.log.child({ slot: req.slot });
    if (!isLegalTransition(req.from, req.to)) {
      const err = new IllegalTransitionError(req.slot, req.from, req.to);
      log.warn({ from: req.from, to: req.to, reason: req.reason }, err.message);
      throw err;
    }
    const { db } = this.deps;
    const result = db.transaction(() => {
      const cur = this.get(req.slot);
      if (cur.state !== req.from) throw new StaleStateError(req.slot, req.from, cur.state);
      const next = nextFields(cur, req.to, req.set ?? {});
      this.write(cur, req.to, next);
      req.also?.(db);
      const events = this.appendEvents(req.slot, req.from, req.to, req.reason, req.events);
      return { slot: this.get(req.slot), events };
    })();
    log.info({ from: req.from, to: req.to, reason: req.reason }, 'slot state changed');
    return result;
  }

  /**
   * Changes fields (not the state) of a slot that must be in `expected`, with events. A
   * SlotStateChanged with `from === to` and the new snapshot goes first, so the hub learns of
   * disk, content and hold changes that come without a state change.
   */
  update(req: UpdateRequest): { slot: SlotRecord; events: OutboxEvent[] } {
    const { db } = this.deps;
    return db.transaction(() => {
      const cur = this.get(req.slot);
      if (cur.state !== req.expected) throw new StaleStateError(req.slot, req.expected, cur.state);
      const next = { ...pickCurrent(cur), ...req.set };
      checkFields(req.slot, cur.state, next);
      this.write(cur, cur.state, { ...next, disabledFrom: cur.disabledFrom });
      req.also?.(db);
      const reason = req.reason ?? 'slot details changed';
      const events = this.appendEvents(req.slot, cur.state, cur.state, reason, req.events);
      return { slot: this.get(req.slot), events };
    })();
  }

  /** SlotStateChanged (with the snapshot as written so far in this transaction), then `more`. */
  private appendEvents(
    slot: number,
    from: SlotStateName,
    to: SlotStateName,
    reason: string | undefined,
    more: PendingEvent[] | undefined,
  ): OutboxEvent[] {
    const { db, outbox } = this.deps;
    const snapshot = slotSnapshot(db, slot);
    return [
      outbox.append('SlotStateChanged', {
        slot,
        from,
        to,
        ...(reason !== undefined ? { reason } : {}),
        ...(snapshot ? { snapshot } : {}),
      }),
      ...(more ?? []).map((e) => outbox.append(e.type, e.data as never)),
    ];
  }

  private write(cur: SlotRecord, state: SlotStateName, f: Required<SlotFields> & Extra): void {
    const res = this.deps.db
      .prepare(
        `UPDATE slots SET state = ?, disk_id = ?, reservation_id = ?, write_protect = ?,
           fault_code = ?, fault_message = ?, disabled_from = ?, updated_at = ?,
           version = version + 1
         WHERE slot = ? AND version = ?`,
      )
      .run(
        state,
        f.diskId,
        f.reservationId,
        f.writeProtect ? 1 : 0,
        f.fault?.code ?? null,
        f.fault?.message ?? null,
        f.disabledFrom,
        this.deps.clock.now().toISOString(),
        cur.slot,
        cur.version,
      );
    if (res.changes !== 1) throw new StaleStateError(cur.slot, cur.state, this.get(cur.slot).state);
  }
}

interface Extra {
  disabledFrom: SlotStateName | null;
}

function pickCurrent(cur: SlotRecord): Required<SlotFields> {
  return {
    diskId: cur.diskId,
    reservationId: cur.reservationId,
    writeProtect: cur.writeProtect,
    fault: cur.fault,
  };
}

/** Defaults of a transition: what entering `to` clears, then the caller's changes. */
function nextFields(
  cur: SlotRecord,
  to: SlotStateName,
  set: SlotFields,
): Required<SlotFields> & Extra {
  const f = pickCurrent(cur);
  if (to === 'empty') {
    f.diskId = null;
    f.writeProtect = false;
  }
  if (!HOLDS_RESERVATION.includes(to)) f.reservationId = null;
  if (to !== 'fault') f.fault = null;
  const next = { ...f, ...set };
  checkFields(cur.slot, to, next);
  return { ...next, disabledFrom: to === 'disabled' ? cur.state : null };
}

function checkFields(slot: number, state: SlotStateName, f: Required<SlotFields>): void {
  const bad = (what: string) => {
    throw new InvalidTransitionArgsError(`slot ${slot} -> ${state}: ${what}; nothing was changed`);
  };
  if (state === 'fault' && !f.fault) bad('a fault needs set.fault { code, message }');
  if (state !== 'fault' && f.fault) bad('only a slot in fault may carry a fault');
  if (state === 'reserved' && !f.reservationId) bad('reserved needs set.reservationId');
  if (state === 'empty' && f.diskId) bad('an empty slot cannot hold a disk id');
  if (NEEDS_DISK.includes(state) && !f.diskId) bad(`${state} needs a disk id (set.diskId)`);
}

function toRecord(r: Row): SlotRecord {
  return {
    slot: r.slot,
    state: r.state,
    diskId: r.disk_id,
    reservationId: r.reservation_id,
    writeProtect: r.write_protect === 1,
    fault: r.fault_code ? { code: r.fault_code, message: r.fault_message ?? '' } : null,
    disabledFrom: r.disabled_from,
    updatedAt: r.updated_at,
    version: r.version,
  };
}
