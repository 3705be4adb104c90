import type { CommandResponse, HubToKioskAction, RequestOf } from '../../protocol/index.js';
import type { CommandContext, CommandDispatcher } from '../link/command-gate.js';
import type { ReadyCheck } from '../slots/ready-again.js';
import { cancelReservationHandler } from './cancel-reservation.js';
import type { CommandDeps, CommandHandler } from './context.js';
import { type DaemonControl, resetHandler, triggerMessageHandler } from './control.js';
import type { DispenseService } from './dispense.js';
import { setWriteProtectHandler } from './set-write-protect.js';
import { disableSlotHandler, enableSlotHandler } from './slot-enable.js';
import { verifySigned } from './verify-signed.js';

/**
 * Handlers the content and cloning modules provide. They receive commands whose
 * signature and nonce the dispatcher has ALREADY checked: they must not check the nonce
 * again (it would be refused as a replay).
 */
export interface CommandExtensions {
  prepareDisk?: CommandHandler<'PrepareDisk'>;
  wipeDisk?: CommandHandler<'WipeDisk'>;
  /**
   * Aborts the prepare running for a reservation (CancelReservation); resolves when it has
   * ended. Undefined when none runs.
   */
  cancelPrepare?: (reservationId: string) => Promise<void> | undefined;
  /** Checks a prepared disk before a re-enabled slot offers it as ready again (EnableSlot). */
  checkReadyDisk?: ReadyCheck;
}

export interface DispatcherOptions {
  dispense: DispenseService;
  control: DaemonControl;
  extensions?: CommandExtensions;
  /** InstallUpdate (kiosk/update); absent: Rejected as not supported. */
  installUpdate?: CommandHandler<'InstallUpdate'>;
  /** ArmPickupCode (kiosk/pickup); absent: Rejected as not supported (no keypad). */
  armPickupCode?: CommandHandler<'ArmPickupCode'>;
  /** UploadDiagnostics (kiosk/diag); absent: Rejected as not supported. */
  uploadDiagnostics?: CommandHandler<'UploadDiagnostics'>;
  /** ApplyConfig (kiosk/config/remote-config.ts); absent: Rejected as not supported. */
  applyConfig?: CommandHandler<'ApplyConfig'>;
}

const NOT_SUPPORTED: CommandResponse = {
  status: 'Rejected',
  reason: 'not supported by this kiosk build',
};

/**
 * Routes each hub command (after the inbox gate) to its handler. Unknown slots are
 * answered `Rejected` with a reason (not a CALLERROR); bad signatures, replayed nonces and
 * expired or far-future commands are CALLERROR SecurityError with a CommandRejected event.
 */
export function createDispatcher(deps: CommandDeps, opts: DispatcherOptions): CommandDispatcher {
  const table: { [A in HubToKioskAction]: CommandHandler<A> } = {
    Dispense: opts.dispense.handle,
    PrepareDisk: (p, ctx) => {
      verifySigned(deps, 'PrepareDisk', p, ctx);
      return opts.extensions?.prepareDisk?.(p, ctx) ?? NOT_SUPPORTED;
    },
    WipeDisk: (p, ctx) => {
      verifySigned(deps, 'WipeDisk', p, ctx);
      return opts.extensions?.wipeDisk?.(p, ctx) ?? NOT_SUPPORTED;
    },
    CancelReservation: cancelReservationHandler(deps, opts.extensions?.cancelPrepare),
    SetWriteProtect: setWriteProtectHandler(deps),
    DisableSlot: disableSlotHandler(deps),
    EnableSlot: enableSlotHandler(deps, opts.extensions?.checkReadyDisk),
    TriggerMessage: triggerMessageHandler(deps, opts.control),
    Reset: resetHandler(deps, opts.control),
    InstallUpdate: (p, ctx) => {
      verifySigned(deps, 'InstallUpdate', p, ctx);
      return opts.installUpdate?.(p, ctx) ?? NOT_SUPPORTED;
    },
    ArmPickupCode: (p, ctx) => {
      // The handler checks the signature itself (a kiosk without a keypad refuses unsigned).
      if (!opts.armPickupCode) {
        verifySigned(deps, 'ArmPickupCode', p, ctx);
        return { status: 'Rejected', reason: 'this kiosk has no pickup-code keypad' };
      }
      return opts.armPickupCode(p, ctx);
    },
    ApplyConfig: (p, ctx) => {
      if (opts.applyConfig) return opts.applyConfig(p, ctx);
      verifySigned(deps, 'ApplyConfig', p, ctx);
      return NOT_SUPPORTED;
    },
    UploadDiagnostics: (p, ctx) => {
      if (opts.uploadDiagnostics) return opts.uploadDiagnostics(p, ctx);
      verifySigned(deps, 'UploadDiagnostics', p, ctx);
      return NOT_SUPPORTED;
    },
  };
  return async <A extends HubToKioskAction>(
    action: A,
    payload: RequestOf<A>,
    ctx: CommandContext,
  ): Promise<CommandResponse> => {
    const handler = table[action] as CommandHandler<A> | undefined;
    if (!handler) return NOT_SUPPORTED;
    return handler(payload, ctx);
  };
}
