import type { SlotStateName } from './transitions.js';

/** A transition not in the table (see transitions.ts). */
export class IllegalTransitionError extends Error {
  readonly code = 'EILLEGALTRANSITION';
  constructor(
    readonly slot: number,
    readonly from: SlotStateName,
    readonly to: SlotStateName,
  ) {
    super(`slot ${slot}: ${from} -> ${to} is not a legal transition; nothing was changed`);
    this.name = 'IllegalTransitionError';
  }
}

/** The slot was not in the state the caller expected (someone else moved it first). */
export class StaleStateError extends Error {
  readonly code = 'ESTALESTATE';
  constructor(
    readonly slot: number,
    readonly expected: SlotStateName,
    readonly actual: SlotStateName,
  ) {
    super(
      `slot ${slot}: expected state ${expected} but it is ${actual}; nothing was changed, ` +
        're-read the slot and decide again',
    );
    this.name = 'StaleStateError';
  }
}

/** The slot number does not exist on this kiosk. */
export class NoSuchSlotError extends Error {
  readonly code = 'ENOSLOT';
  constructor(readonly slot: number) {
    super(`slot ${slot} does not exist on this kiosk; check slots.count in the configuration`);
    this.name = 'NoSuchSlotError';
  }
}

/** A transition's arguments do not fit its target state (e.g. `fault` without a code). */
export class InvalidTransitionArgsError extends Error {
  readonly code = 'EINVALID';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTransitionArgsError';
  }
}
