/**
 * Checks a typed pickup code with no network (docs/pickup-codes.md): the lockout first, then
 * the code against every kept code's scrypt hash (bound to this kiosk, the slot, the
 * reservation and the expiry), then ONE transaction that either starts the dispense (code
 * used, throttle reset, PickupCodeAccepted, slot `dispensing`, inbox entry) or records the
 * refusal (PickupCodeRefused; a wrong code counts toward the lockout). One check at a time.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import {
  type DispenseRequest,
  type EventDataOf,
  PICKUP_CODE_PATTERN,
  scryptPickupCode,
} from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { DispenseService } from '../handlers/dispense.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { TimeSource } from '../state/clock.js';
import type { Outbox } from '../state/outbox.js';
import type { PickupCodeRecord, PickupCodes } from './code-store.js';
import type { PickupThrottle } from './throttle.js';

export type CodeVerdict =
  | { accepted: true; reservationId: string; slot: number; commandId: string }
  | ({ accepted: false } & EventDataOf<'PickupCodeRefused'> & { detail?: string });

export interface CodeCheckDeps {
  kioskId: string;
  db: KioskDb;
  slots: SlotStore;
  outbox: Outbox;
  clock: TimeSource;
  codes: PickupCodes;
  throttle: PickupThrottle;
  dispense: Pick<DispenseService, 'startLocal'>;
  log: KioskLogger;
}

export class PickupCodeCheck {
  private busy: Promise<unknown> = Promise.resolve();
  /** The lockout a `locked` refusal was last reported for (one event per lockout). */
  private reportedLock: string | undefined;

  constructor(private readonly deps: CodeCheckDeps) {}

  /** Checks `code` (8 digits) after any check still running. Never rejects. */
  check(code: string): Promise<CodeVerdict> {
    const next = this.busy.then(() => this.run(code));
    this.busy = next.catch(() => undefined);
    return next.catch((err: unknown) => {
      this.deps.log.error({ err }, 'pickup code check failed');
      return { accepted: false as const, reason: 'wrong' as const, failures: 0, detail: 'error' };
    });
  }

  private async run(code: string): Promise<CodeVerdict> {
    const { deps } = this;
    const locked = deps.throttle.lockedUntil(deps.clock.now());
    if (locked) {
      const verdict = {
        accepted: false as const,
        reason: 'locked' as const,
        failures: deps.throttle.state().failures,
        lockedUntil: locked,
      };
      if (this.reportedLock !== locked) {
        this.reportedLock = locked;
        deps.outbox.append('PickupCodeRefused', {
          reason: 'locked',
          failures: verdict.failures,
          lockedUntil: locked,
        });
      }
      return verdict;
    }
    const match = PICKUP_CODE_PATTERN.test(code) ? await this.find(code) : undefined;
    const now = deps.clock.now();
    // The dispense is recorded in this transaction and launched only after it committed: a
    // crash in between leaves the code unused and nothing pushed; after it, the inbox entry
    // is reconciled by the sensors like any Dispense.
    const started: Array<{ launch: () => void; abandon: () => void }> = [];
    let verdict: CodeVerdict;
    try {
      verdict = this.decide(match, now, (s) => started.push(s));
    } catch (err) {
      for (const s of started) s.abandon();
      throw err;
    }
    for (const s of started) s.launch();
    return verdict;
  }

  /** The verdict on `match`, recorded in one transaction (a started dispense goes to `onStart`). */
  private decide(
    match: PickupCodeRecord | undefined,
    now: Date,
    onStart: (s: { launch: () => void; abandon: () => void }) => void,
  ): CodeVerdict {
    const { deps } = this;
    return deps.db.transaction((): CodeVerdict => {
      if (!match) return this.wrong(now);
      const refuse = (
        reason: 'expired' | 'used' | 'cancelled' | 'slot_unavailable',
        detail?: string,
      ): CodeVerdict => {
        const data = {
          reason,
          failures: deps.throttle.state().failures,
          reservationId: match.reservationId,
        };
        deps.outbox.append('PickupCodeRefused', data);
        return { accepted: false, ...data, ...(detail ? { detail } : {}) };
      };
      const cur = deps.codes.get(match.reservationId);
      if (!cur || cur.state === 'disarmed') return refuse('cancelled');
      if (cur.state === 'used') return refuse('used');
      if (Date.parse(cur.expiresAt) <= now.getTime()) return refuse('expired');
      const commandId = randomUUID();
      const p: DispenseRequest = {
        commandId,
        slot: cur.slot,
        diskId: cur.diskId,
        reservationId: cur.reservationId,
        writeProtect: cur.writeProtect,
        pickupWindowSeconds: cur.pickupWindowSeconds,
        // The ArmPickupCode's signature: the hub's word for this reservation's dispense.
        signature: cur.signature,
      };
      const started = deps.dispense.startLocal(p, deps.log, () => {
        deps.codes.markUsed(cur.reservationId, commandId, now);
        deps.throttle.reset(now);
        deps.outbox.append('PickupCodeAccepted', {
          commandId,
          armCommandId: cur.armCommandId,
          reservationId: cur.reservationId,
          slot: cur.slot,
          diskId: cur.diskId,
        });
      });
      if (!started.started) return refuse('slot_unavailable', started.reason);
      onStart(started);
      deps.log.info(
        { slot: cur.slot, reservationId: cur.reservationId, commandId },
        'pickup code accepted; dispensing',
      );
      return { accepted: true, reservationId: cur.reservationId, slot: cur.slot, commandId };
    })();
  }

  private wrong(now: Date): CodeVerdict {
    const s = this.deps.throttle.fail(now);
    const data = {
      reason: 'wrong' as const,
      failures: s.failures,
      ...(s.lockedUntil && Date.parse(s.lockedUntil) > now.getTime()
        ? { lockedUntil: s.lockedUntil }
        : {}),
    };
    this.deps.outbox.append('PickupCodeRefused', data);
    if (data.lockedUntil) {
      this.reportedLock = data.lockedUntil;
      this.deps.log.warn({ lockedUntil: data.lockedUntil }, 'wrong pickup codes: keypad locked');
    }
    return { accepted: false, ...data };
  }

  /** The kept code `code` matches, if any (scrypt against each; about 0.1 s each on a Pi). */
  private async find(code: string): Promise<PickupCodeRecord | undefined> {
    const { deps } = this;
    for (const c of deps.codes.candidates(deps.clock.now())) {
      const want = Buffer.from(c.hash.hash, 'base64url');
      const got = await scryptPickupCode(
        code,
        Buffer.from(c.hash.salt, 'base64url'),
        {
          kioskId: deps.kioskId,
          slot: c.slot,
          reservationId: c.reservationId,
          codeExpiresAt: c.expiresAt,
        },
        c.hash,
      );
      if (got.length === want.length && timingSafeEqual(got, want)) return c;
    }
    return undefined;
  }
}
