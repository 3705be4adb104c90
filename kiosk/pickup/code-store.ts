/**
 * The armed pickup codes (`pickup_codes`): only each code's salted scrypt hash, with what
 * the dispense needs (slot, disk, write protection, pickup window) and the signature of the
 * ArmPickupCode that armed it. Synchronous; every method may join an enclosing transaction.
 */
import type {
  ArmPickupCodeRequest,
  CommandSignature,
  PickupCodeHash,
} from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';

export type PickupCodeState = 'armed' | 'used' | 'disarmed';

export interface PickupCodeRecord {
  reservationId: string;
  armCommandId: string;
  slot: number;
  diskId: string;
  writeProtect: boolean;
  pickupWindowSeconds: number;
  expiresAt: string;
  hash: PickupCodeHash;
  signature: CommandSignature;
  state: PickupCodeState;
  dispenseCommandId: string | null;
}

interface Row {
  reservation_id: string;
  arm_command_id: string;
  slot: number;
  disk_id: string;
  write_protect: number;
  pickup_window_seconds: number;
  expires_at: string;
  hash: string;
  signature: string;
  state: PickupCodeState;
  dispense_command_id: string | null;
}

const toRecord = (r: Row): PickupCodeRecord => ({
  reservationId: r.reservation_id,
  armCommandId: r.arm_command_id,
  slot: r.slot,
  diskId: r.disk_id,
  writeProtect: r.write_protect === 1,
  pickupWindowSeconds: r.pickup_window_seconds,
  expiresAt: r.expires_at,
  hash: JSON.parse(r.hash) as PickupCodeHash,
  signature: JSON.parse(r.signature) as CommandSignature,
  state: r.state,
  dispenseCommandId: r.dispense_command_id,
});

/** Codes are kept this long after their expiry, so a late try is told `expired`, not `wrong`. */
export const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

export class PickupCodes {
  constructor(private readonly db: KioskDb) {}

  /**
   * Arms (or re-arms, for a new hold) the code of `p.reservationId`. A code already used is
   * never armed again: returns false.
   */
  arm(p: ArmPickupCodeRequest, now: Date): boolean {
    const cur = this.get(p.reservationId);
    if (cur?.state === 'used') return false;
    const at = now.toISOString();
    this.db
      .prepare(
        `INSERT INTO pickup_codes (reservation_id, arm_command_id, slot, disk_id, write_protect,
           pickup_window_seconds, expires_at, hash, signature, state, armed_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'armed', ?, ?)
         ON CONFLICT (reservation_id) DO UPDATE SET arm_command_id = excluded.arm_command_id,
           slot = excluded.slot, disk_id = excluded.disk_id, write_protect = excluded.write_protect,
           pickup_window_seconds = excluded.pickup_window_seconds, expires_at = excluded.expires_at,
           hash = excluded.hash, signature = excluded.signature, state = 'armed',
           updated_at = excluded.updated_at`,
      )
      .run(
        p.reservationId,
        p.commandId,
        p.slot,
        p.diskId,
        p.writeProtect ? 1 : 0,
        p.pickupWindowSeconds,
        p.codeExpiresAt,
        JSON.stringify(p.codeHash),
        JSON.stringify(p.signature),
        at,
        at,
      );
    return true;
  }

  get(reservationId: string): PickupCodeRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM pickup_codes WHERE reservation_id = ?')
      .get(reservationId) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /**
   * Every code a typed code is compared with: armed, used and disarmed ones whose expiry is
   * less than KEEP_EXPIRED_MS ago (older ones are deleted first).
   */
  candidates(now: Date): PickupCodeRecord[] {
    this.db
      .prepare('DELETE FROM pickup_codes WHERE expires_at < ?')
      .run(new Date(now.getTime() - KEEP_EXPIRED_MS).toISOString());
    return (this.db.prepare('SELECT * FROM pickup_codes ORDER BY expires_at').all() as Row[]).map(
      toRecord,
    );
  }

  /** The code dispensed (dispense `commandId`); false if it was not armed any more. */
  markUsed(reservationId: string, commandId: string, now: Date): boolean {
    return (
      this.db
        .prepare(
          `UPDATE pickup_codes SET state = 'used', dispense_command_id = ?, updated_at = ?
           WHERE reservation_id = ? AND state = 'armed'`,
        )
        .run(commandId, now.toISOString(), reservationId).changes === 1
    );
  }

  /** The reservation ended (cancelled): its code no longer dispenses. */
  disarm(reservationId: string, now: Date): void {
    this.db
      .prepare(
        `UPDATE pickup_codes SET state = 'disarmed', updated_at = ?
         WHERE reservation_id = ? AND state = 'armed'`,
      )
      .run(now.toISOString(), reservationId);
  }
}
