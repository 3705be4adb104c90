/**
 * GPIO: the write-protect relays (one per slot) and the door and tamper inputs.
 * The interface, its events, its errors and its configuration. No I/O here.
 */
import { CodedError } from '../../common/coded-error.js';

/** A GPIO line named by its chip's label (e.g. `pinctrl-bcm2711`) and the offset within the chip. */
export interface GpioLineRef {
  /** Chip label as read from `/sys/class/gpio/gpiochip<base>/label`. */
  chip: string;
  /** Line offset within the chip (the BCM pin number on a Raspberry Pi). */
  offset: number;
}

/** One write-protect relay output. */
export interface RelayLine extends GpioLineRef {
  /** The slot this relay protects. */
  slot: number;
}

export interface GpioOptions {
  /** One relay per slot. */
  relays: RelayLine[];
  /** Door switch input; `openLevel` is the raw line level that means "door open". */
  door: GpioLineRef & { openLevel: 0 | 1 };
  /** Tamper switch input; `activeLevel` is the raw line level that means "tampered". */
  tamper: GpioLineRef & { activeLevel: 0 | 1 };
  /** True when a LOW line energises the relay (most opto-isolated relay boards). Default false. */
  relayActiveLow?: boolean;
  /** Whether write protection is on when the relay is energised (default) or released. */
  protectWhen?: 'energized' | 'released';
  /** An input must be stable this long before an edge is reported. Default 50 ms. */
  debounceMs?: number;
}

export type DoorState = 'open' | 'closed';

export interface GpioInputs {
  door: DoorState;
  tamper: boolean;
}

/** Event map (Node `EventEmitter` style: event name -> listener arguments). */
export interface GpioEvents {
  /** The door changed state (debounced). */
  door: [state: DoorState];
  /** The tamper switch changed state (debounced); `true` = tampered. */
  tamper: [active: boolean];
  /** An asynchronous failure outside any call (e.g. reading an input after an edge). */
  error: [err: GpioError];
}

export interface Gpio {
  /**
   * Resolves the lines, claims them and drives every relay to the SAFE state (write
   * protection ON), verified by reading back. Inputs are read once to seed the debouncer.
   * No timeout (sysfs writes are synchronous in the kernel); rejects with a `GpioError`
   * (`ENOCHIP`, `ENOLINE`, `EGPIO`, `EVERIFY`) and releases what it claimed. Not cancellable.
   */
  start(): Promise<void>;
  /**
   * Drives every relay to the SAFE state (best effort: every relay is tried even if one
   * fails), stops watching inputs and releases the lines. Rejects with the first failure
   * after trying all. Idempotent. Pending debounce timers are cancelled (no events after).
   */
  stop(): Promise<void>;
  /**
   * Switches the write-protect relay of `slot` and verifies it by reading the line back.
   * Completes in microseconds; no timeout. Rejects with `ENOSLOT` for an unknown slot,
   * `ENOTSTARTED` before start(), `EGPIO` if the write fails, `EVERIFY` if the read-back
   * disagrees (the relay state is then unknown: call again or treat the slot as faulty).
   */
  setWriteProtect(slot: number, on: boolean): Promise<void>;
  /** Reads back the relay line of `slot`: true = write protection on. Same errors as above. */
  getWriteProtect(slot: number): Promise<boolean>;
  /** Reads both inputs now, without debouncing. Rejects with `ENOTSTARTED` or `EGPIO`. */
  readInputs(): Promise<GpioInputs>;
  on<E extends keyof GpioEvents>(event: E, listener: (...args: GpioEvents[E]) => void): this;
  off<E extends keyof GpioEvents>(event: E, listener: (...args: GpioEvents[E]) => void): this;
  once<E extends keyof GpioEvents>(event: E, listener: (...args: GpioEvents[E]) => void): this;
}

export type GpioErrorCode =
  | 'ENOCHIP' // no GPIO chip with that label
  | 'ENOLINE' // offset outside the chip
  | 'ENOSLOT' // no relay configured for that slot
  | 'ENOTSTARTED' // called before start() or after stop()
  | 'EGPIO' // the kernel refused a read or write
  | 'EVERIFY'; // a write did not read back

export class GpioError extends CodedError<GpioErrorCode> {}

export const DEFAULT_DEBOUNCE_MS = 50;
