import { MotorBoardError, type SlotSensors } from '../../hal/motor-board/index.js';
import type { CommandResponse, DispenseRequest } from '../../protocol/index.js';
import type { CommandContext } from '../link/command-gate.js';
import type { KioskLogger } from '../log.js';
import { NoSuchSlotError } from '../slots/errors.js';
import { accepted, type CommandDeps, type CommandHandler, rejected } from './context.js';
import { clip, type DispenseOutcome, settleDispense } from './dispense-outcome.js';
import { type PickupWatch, waitForPickup } from './pickup.js';
import { checkSignature, refuseSigned, replayReason } from './verify-signed.js';

/** Inbox steps of a dispense. `pushing` is written BEFORE the motor command: from then on a push may have happened. */
export const DISPENSE_STEPS = ['dispensing', 'pushing', 'waiting-pickup'] as const;

/**
 * The 3rd instruction: push a disk out. `handle` checks the command (signature, nonce,
 * slot, disk, reservation), moves the slot to `dispensing` together with the inbox step,
 * answers Accepted and runs the physical part in the background: USB port off,
 * write-protect relay as ordered, eject, wait for the renter within the pickup window,
 * retract if not taken, then ONE transaction with the slot's new state and
 * DispenseCompleted. A motor command is sent at most once per command; when the outcome
 * of a push is unknown (board silent, jam) the slot goes to `fault` and nothing moves again;
 * if the disk sticks out after such a failure the renter still gets the pickup window, and a
 * disk pulled out in it is `taken` (the slot stays `fault`, without its disk).
 * stop() abandons running dispenses where they are (the next start reconciles them by
 * the sensors) and resolves when their tasks have returned.
 */
export class DispenseService {
  private readonly tasks = new Set<Promise<void>>();
  private readonly commandIds = new Set<string>();
  private abort = new AbortController();

  constructor(private readonly deps: CommandDeps) {}

  handle: CommandHandler<'Dispense'> = (p, ctx) => {
    const { deps } = this;
    deps.hooks.at('received');
    const sig = checkSignature(deps, 'Dispense', p);
    if ('reason' in sig) refuseSigned(deps, 'Dispense', p, ctx, sig.reason);
    // The update lock: no dispense starts while an update installs or is on trial.
    let release: () => void;
    try {
      release = deps.updateLock?.hold(`dispense slot ${p.slot}`) ?? (() => {});
    } catch (err) {
      ctx.log.info({ slot: p.slot, err: (err as Error).message }, 'Dispense rejected');
      return rejected((err as Error).message);
    }
    // Nonce, checks and the move to `dispensing` (with the inbox step) commit together:
    // one fsync on the way to the motor.
    let verdict: CommandResponse | 'replay' | null;
    try {
      verdict = deps.db.transaction((): CommandResponse | 'replay' | null => {
        if (!deps.nonces.remember(sig.nonce, sig.expiresAt)) return 'replay';
        const refusal = this.check(p, ctx.log);
        if (refusal) return refusal;
        const slot = deps.slots.get(p.slot);
        deps.slots.transition({
          slot: p.slot,
          from: slot.state,
          to: 'dispensing',
          reason: `Dispense ${p.commandId}`,
          also: () => deps.inbox.setStep(p.commandId, 'dispensing'),
        });
        return null;
      })();
    } catch (err) {
      release();
      throw err;
    }
    if (verdict) release();
    if (verdict === 'replay') refuseSigned(deps, 'Dispense', p, ctx, replayReason(sig.nonce));
    if (verdict) return verdict;
    deps.hooks.at('recorded');
    this.launch(p, ctx.log, release);
    return accepted();
  };

  /**
   * Starts a dispense the kiosk decided on itself (a pickup code typed on its keypad), down
   * the same path as a hub's Dispense after its signature: the update lock, the slot checks,
   * and ONE transaction that records `p` in the inbox (so a crash is reconciled by the
   * sensors, like any Dispense), runs `claim` (it marks the code used and appends its events)
   * and moves the slot to `dispensing`. Returns the reason when it cannot start (also while
   * the slot board is not connected); nothing is written then. The caller may run it inside a transaction of its own (that transaction
   * then decides): the motor moves only when the caller calls `launch()` AFTER its commit;
   * `abandon()` instead, if that transaction rolled back (it releases the update lock).
   */
  startLocal(
    p: DispenseRequest,
    log: KioskLogger,
    claim: () => void,
  ):
    | { started: true; launch: () => void; abandon: () => void }
    | { started: false; reason: string } {
    const { deps } = this;
    // A hub's Dispense with the board away fails and the hub may send another; a code works
    // once, so it is not spent on a push that cannot happen (the renter types it again later).
    if (!deps.hardware.board.connected)
      return { started: false, reason: 'the slot board is not connected; nothing can move now' };
    let release: () => void;
    try {
      release = deps.updateLock?.hold(`dispense slot ${p.slot}`) ?? (() => {});
    } catch (err) {
      return { started: false, reason: (err as Error).message };
    }
    let refusal: CommandResponse | null;
    try {
      refusal = deps.db.transaction((): CommandResponse | null => {
        const no = this.check(p, log);
        if (no) return no;
        const slot = deps.slots.get(p.slot);
        deps.inbox.record(p.commandId, 'Dispense', p);
        claim();
        deps.slots.transition({
          slot: p.slot,
          from: slot.state,
          to: 'dispensing',
          reason: `pickup code of reservation ${p.reservationId} (${p.commandId})`,
          also: () => deps.inbox.setStep(p.commandId, 'dispensing'),
        });
        return null;
      })();
    } catch (err) {
      release();
      throw err;
    }
    if (refusal) {
      release();
      return { started: false, reason: refusal.reason ?? 'refused' };
    }
    let settled = false;
    return {
      started: true,
      launch: () => {
        if (settled) return;
        settled = true;
        deps.hooks.at('recorded');
        this.launch(p, log, release);
      },
      abandon: () => {
        if (settled) return;
        settled = true;
        release();
      },
    };
  }

  /** Runs the physical part of a recorded dispense in the background. */
  private launch(p: DispenseRequest, log: KioskLogger, release: () => void): void {
    const task = this.run(p, log.child({ slot: p.slot })).catch((err: unknown) => {
      log.error({ err }, 'dispense task failed unexpectedly; reconciled at next start');
    });
    this.tasks.add(task);
    this.commandIds.add(p.commandId);
    void task.finally(() => {
      release();
      this.tasks.delete(task);
      this.commandIds.delete(p.commandId);
    });
  }

  /** Why this Dispense cannot run now (a Rejected answer), or null. */
  private check(p: DispenseRequest, log: KioskLogger): CommandResponse | null {
    let slot: ReturnType<CommandDeps['slots']['get']>;
    try {
      slot = this.deps.slots.get(p.slot);
    } catch (err) {
      if (err instanceof NoSuchSlotError) {
        return rejected(`slot ${p.slot} does not exist on this kiosk`);
      }
      throw err;
    }
    const refuse = (why: string) => {
      log.info({ slot: p.slot, state: slot.state, why }, 'Dispense rejected');
      return rejected(why);
    };
    if (slot.state === 'reserved') {
      if (p.reservationId !== slot.reservationId) {
        return refuse(`slot ${p.slot} is held for another reservation`);
      }
    } else if (slot.state !== 'ready') {
      return refuse(`slot ${p.slot} is ${slot.state}, not ready`);
    } else if (p.reservationId !== undefined) {
      return refuse(`slot ${p.slot} is not held for reservation ${p.reservationId}`);
    }
    if (slot.diskId !== p.diskId) {
      return refuse(`slot ${p.slot} holds disk ${slot.diskId}, not ${p.diskId}`);
    }
    return null;
  }

  /** Abandons running dispenses (reconciled at the next start) and waits for their tasks. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.tasks]);
    this.abort = new AbortController();
  }

  /** Whether this process is running the dispense of `commandId` now. */
  isRunning(commandId: string): boolean {
    return this.commandIds.has(commandId);
  }

  /** Dispenses in progress. */
  get running(): number {
    return this.tasks.size;
  }

  private async run(p: DispenseRequest, log: KioskLogger): Promise<void> {
    const { deps } = this;
    const { board, gpio, usb } = deps.hardware;
    const signal = this.abort.signal;
    const back = p.reservationId ? 'reserved' : 'ready';
    if (!board.connected) {
      // Nothing can move while the board is away: the slot keeps its disk and its state.
      return this.finish(p, log, {
        outcome: 'failed',
        to: back,
        reason: 'the slot board is not connected; nothing was pushed',
      });
    }
    const port = deps.hardware.usbPortOf(p.slot);
    if (port) {
      await usb.setPortPower(port, false).catch((err: { code?: string; message: string }) => {
        const level = err.code === 'ENOTSUPPORTED' ? 'info' : 'warn';
        log[level](
          { port, err: err.message },
          'could not power the disk port down; pushing anyway',
        );
      });
    }
    try {
      await gpio.setWriteProtect(p.slot, p.writeProtect);
    } catch (err) {
      const message = `write-protect relay could not be set: ${(err as Error).message}`;
      return this.finish(p, log, {
        outcome: 'failed',
        to: 'fault',
        reason: message,
        fault: { code: (err as { code?: string }).code ?? 'EGPIO', message },
      });
    }
    if (signal.aborted) return;
    // Watch the sensor from before the push, so a quick pickup is never missed.
    const pickup = waitForPickup(board, p.slot);
    try {
      deps.inbox.setStep(p.commandId, 'pushing');
      let result: Awaited<ReturnType<typeof board.eject>>;
      try {
        result = await board.eject(p.slot, { signal });
      } catch (err) {
        if (signal.aborted) return;
        const failed = await this.ejectFailed(p, err, back);
        if (signal.aborted) return;
        return this.finish(p, log, await this.stuckOut(p, failed, pickup, signal));
      }
      deps.inbox.setStep(p.commandId, 'waiting-pickup');
      deps.hooks.at('ejected');
      log.info({ durationMs: result.durationMs }, 'disk pushed out; waiting for the renter');
      const taken =
        !result.sensors.present ||
        (await pickup.wait(p.pickupWindowSeconds * 1000, signal)) === 'taken';
      if (signal.aborted) return;
      if (taken) {
        deps.hooks.at('taken');
        return this.finish(p, log, { outcome: 'taken', to: 'empty' });
      }
      const left = await this.notTaken(p, back);
      if (signal.aborted) return;
      return this.finish(p, log, left.to === 'fault' ? await this.takenMeanwhile(p, left) : left);
    } finally {
      pickup.cancel();
    }
  }

  /**
   * A push that ended in `fault` (jam, motor fault, lost board) may leave the disk sticking
   * out, where a renter can pull it. Then the renter gets the normal pickup window (counted
   * from now; a pull since the push is seen too): pulled -> `taken` (the slot stays `fault`,
   * without its disk: the jam still needs a technician); not pulled -> the failure as it was.
   * A disk already gone is `taken` at once. Any other failure is returned unchanged.
   */
  private async stuckOut(
    p: DispenseRequest,
    o: DispenseOutcome,
    pickup: PickupWatch,
    signal: AbortSignal,
  ): Promise<DispenseOutcome> {
    if (o.to !== 'fault') return o;
    const st = await this.sensorsOf(p.slot);
    if (!st) return (await pickup.wait(0)) === 'taken' ? takenFromFault(o) : o;
    if (!st.present) return takenFromFault(o);
    if (st.seated) return o; // never left its seat
    this.deps.log.warn(
      { slot: p.slot, outcome: o.outcome },
      'push failed with the disk sticking out; waiting for the renter before reporting',
    );
    const r = await pickup.wait(p.pickupWindowSeconds * 1000, signal);
    return r === 'taken' ? takenFromFault(o) : o;
  }

  /** `taken` from a faulted slot when the disk is gone now (read again), else `o` unchanged. */
  private async takenMeanwhile(p: DispenseRequest, o: DispenseOutcome): Promise<DispenseOutcome> {
    const st = await this.sensorsOf(p.slot);
    return st?.present === false ? takenFromFault(o) : o;
  }

  private async sensorsOf(slot: number): Promise<SlotSensors | undefined> {
    return this.deps.hardware.board
      .status(slot)
      .then((s) => s[0])
      .catch(() => undefined);
  }

  /** The pickup window passed: make sure, then pull the disk back in. */
  private async notTaken(p: DispenseRequest, back: 'ready' | 'reserved'): Promise<DispenseOutcome> {
    const { board } = this.deps.hardware;
    let st: SlotSensors | undefined;
    try {
      st = (await board.status(p.slot))[0];
    } catch {
      // Unknown; the retract below fails too if the board is gone.
    }
    if (st && !st.present) return { outcome: 'taken', to: 'empty' };
    try {
      const r = await board.retract(p.slot);
      if (!r.sensors.present) return { outcome: 'taken', to: 'empty' };
      return {
        outcome: 'not_taken',
        to: back,
        reason: 'not taken within the pickup window; retracted',
      };
    } catch (err) {
      const e = err as MotorBoardError;
      const message = `retract after the pickup window failed: ${e.message}`;
      return {
        outcome: e.code === 'EJAM' || e.code === 'EMOTOR' ? 'jammed' : 'failed',
        to: 'fault',
        reason: message,
        fault: { code: e.code ?? 'EMOTOR', message },
      };
    }
  }

  /** Maps an eject failure to an outcome. Never pushes again. */
  private async ejectFailed(
    p: DispenseRequest,
    err: unknown,
    back: 'ready' | 'reserved',
  ): Promise<DispenseOutcome> {
    if (!(err instanceof MotorBoardError)) {
      const message = `eject failed: ${(err as Error).message}`;
      return {
        outcome: 'failed',
        to: 'fault',
        reason: message,
        fault: { code: 'EINTERNAL', message },
      };
    }
    const message = clip(`eject failed: ${err.message}`);
    if (err.nak !== undefined && err.code !== 'EFAULT' && err.code !== 'ENODISK') {
      // The board refused and did nothing: the disk is where it was.
      return { outcome: 'failed', to: back, reason: message };
    }
    if (err.code === 'EJAM' || err.code === 'EMOTOR') {
      await this.deps.hardware.board.retract(p.slot).catch(() => {});
      return {
        outcome: 'jammed',
        to: 'fault',
        reason: message,
        fault: { code: err.code, message },
      };
    }
    return { outcome: 'failed', to: 'fault', reason: message, fault: { code: err.code, message } };
  }

  private async finish(p: DispenseRequest, log: KioskLogger, o: DispenseOutcome): Promise<void> {
    const { deps } = this;
    settleDispense(deps, p, o);
    deps.hooks.at('completed');
    log[o.outcome === 'taken' || o.outcome === 'not_taken' ? 'info' : 'warn'](
      { outcome: o.outcome, to: o.to, reason: o.reason },
      'dispense finished',
    );
    await restoreSlotSafety(deps, p.slot, log);
  }
}

/**
 * A failed push whose disk the renter pulled out all the same: `taken` (money moves on that
 * physical fact), the slot still goes to `fault` (the jam needs a technician), without its disk.
 */
function takenFromFault(o: DispenseOutcome): DispenseOutcome {
  const from = o.outcome === 'jammed' ? 'a jammed slot' : 'a faulted slot';
  return { ...o, outcome: 'taken', reason: clip(`taken from ${from}: ${o.reason ?? o.outcome}`) };
}

/** Write protection back on (the safe state) and the disk port powered again. Best effort. */
export async function restoreSlotSafety(
  deps: Pick<CommandDeps, 'hardware'>,
  slot: number,
  log: KioskLogger,
): Promise<void> {
  const { gpio, usb } = deps.hardware;
  await gpio.setWriteProtect(slot, true).catch((err: Error) => {
    log.warn({ err: err.message }, 'could not switch write protection back on');
  });
  const port = deps.hardware.usbPortOf(slot);
  if (port) {
    await usb.setPortPower(port, true).catch((err: { code?: string; message: string }) => {
      if (err.code !== 'ENOTSUPPORTED')
        log.warn({ port, err: err.message }, 'could not power the port on');
    });
  }
}

export type { CommandContext };
