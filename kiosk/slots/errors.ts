import { CodedError } from '../../common/coded-error.js';
import type { SlotStateName } from './transitions.js';

/** A transition not in the table (see transitions.ts). */
export class IllegalTransitionError extends CodedError<'EILLEGALTRANSITION'> {
  constructor(
    readonly slot: number,
    readonly from: SlotStateName,
    readonly to: SlotStateName,
  ) {
    super(
      'EILLEGALTRANSITION',
      `slot ${slot}: ${from} -> ${to} is not a legal transition; nothing was changed`,
    );
  }
}

/** The slot was not in the state the caller expected (someone else moved it first). */
export class StaleStateError extends CodedError<'ESTALESTATE'> {
  constructor(
    readonly slot: number,
    readonly expected: SlotStateName,
    readonly actual: SlotStateName,
  ) {
    super(
      'ESTALESTATE',
      `slot ${slot}: expected state ${expected} but it is ${actual}; nothing was changed, ` +
        're-read the slot and decide again',
    );
  }
}

/** The slot number does not exist on this kiosk. */
export class NoSuchSlotError extends CodedError<'ENOSLOT'> {
  constructor(readonly slot: number) {
    super(
      'ENOSLOT',
      `slot ${slot} does not exist on this kiosk; check slots.count in the configuration`,
    );
  }
}

/** A transition's arguments do not fit its target state (e.g. `fault` without a code). */
export class InvalidTransitionArgsError extends CodedError<'EINVALID'> {
  constructor(message: string) {
    super('EINVALID', message);
  }
}

/** `slots.count` was lowered below a slot that still holds a disk or work. */
export class SlotCountError extends CodedError<'ESLOTCOUNT'> {
  constructor(
    readonly count: number,
    readonly busy: { slot: number; state: string; diskId: string | null }[],
  ) {
    const list = busy
      .map((b) => `slot ${b.slot} (${b.state}${b.diskId ? `, ${b.diskId}` : ''})`)
      .join(', ');
    super(
      'ESLOTCOUNT',
      `slots.count is ${count} but ${list} still ${busy.length === 1 ? 'holds' : 'hold'} a disk or work: ` +
        'put the old slots.count back, empty those slots (kioskctl slot eject N, then take the disk), then lower it',
    );
  }
}
