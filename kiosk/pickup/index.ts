/**
 * Pickup codes on the keypad (issue 24, docs/pickup-codes.md): ArmPickupCode stores a code's
 * hash, the keypad's digits are checked against it with no network, and a right code
 * dispenses the reserved slot down the Dispense path.
 */
import type { Keypad } from '../../hal/keypad/index.js';
import type { CommandDeps, CommandHandler } from '../handlers/context.js';
import type { DispenseService } from '../handlers/dispense.js';
import type { KioskLogger } from '../log.js';
import { armPickupCodeHandler } from './arm-handler.js';
import { PickupCodeCheck } from './code-check.js';
import { PickupCodes } from './code-store.js';
import { KeypadEntry } from './keypad-entry.js';
import { PickupThrottle } from './throttle.js';

export interface PickupServices {
  arm: CommandHandler<'ArmPickupCode'>;
  check: PickupCodeCheck;
  entry: KeypadEntry;
  throttle: PickupThrottle;
  codes: PickupCodes;
  /** Opens the keypad and listens to it. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createPickupServices(opts: {
  deps: CommandDeps;
  keypad: Keypad;
  dispense: Pick<DispenseService, 'startLocal'>;
  log: KioskLogger;
}): PickupServices {
  const { deps, keypad, log } = opts;
  const codes = new PickupCodes(deps.db);
  const throttle = new PickupThrottle(deps.db);
  const check = new PickupCodeCheck({
    kioskId: deps.kioskId,
    db: deps.db,
    slots: deps.slots,
    outbox: deps.outbox,
    clock: deps.clock,
    codes,
    throttle,
    dispense: opts.dispense,
    log,
  });
  const entry = new KeypadEntry({ keypad, check, log });
  const onConnected = () => log.info({ keypad: keypad.status() }, 'keypad connected');
  const onDisconnected = (reason: string) => log.warn({ reason }, 'keypad disconnected');
  const onError = (err: Error) => log.warn({ err: err.message }, 'keypad');
  return {
    arm: armPickupCodeHandler(deps, codes),
    check,
    entry,
    throttle,
    codes,
    async start() {
      keypad.on('connected', onConnected);
      keypad.on('disconnected', onDisconnected);
      keypad.on('error', onError);
      entry.start();
      await keypad.start();
    },
    async stop() {
      entry.stop();
      await keypad.stop();
      keypad.off('connected', onConnected);
      keypad.off('disconnected', onDisconnected);
      keypad.off('error', onError);
    },
  };
}
