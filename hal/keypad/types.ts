/**
 * Keypad: a USB numeric keypad (a HID keyboard) a renter types a pickup code on. The
 * interface, its events, its errors. No I/O here.
 */
import { CodedError } from '../../common/coded-error.js';

/** The keys kioskd acts on; every other key is reported as `other`. */
export type KeypadKey =
  | '0'
  | '1'
  | '2'
  | '3'
  | '4'
  | '5'
  | '6'
  | '7'
  | '8'
  | '9'
  | 'enter'
  | 'backspace'
  | 'clear'
  | 'other';

/** One key press (a key going down; releases and auto-repeat are not reported). */
export interface KeyPress {
  key: KeypadKey;
  /** The Linux key code (`KEY_KP7` = 71, ...); the simulator reports the code it encodes. */
  code: number;
}

/** How the keypad is connected now. */
export interface KeypadStatus {
  connected: boolean;
  /**
   * Whether kioskd holds the device exclusively (EVIOCGRAB): no other reader (the console,
   * a login prompt) sees the keys. False on a device that cannot be grabbed (a FIFO: ENOTTY).
   */
  grabbed: boolean;
  /** Why it is not grabbed, or why it is not connected (for people). */
  note?: string;
  /** The device as configured (`/dev/input/by-id/...-event-kbd`) or `sim`. */
  device: string;
}

export interface KeypadEvents {
  key: [press: KeyPress];
  /** The device was opened (at start, or after it was plugged in again). */
  connected: [status: KeypadStatus];
  /** The device went away (unplugged, read error); the driver keeps trying to reopen it. */
  disconnected: [reason: string];
  /**
   * The kernel dropped events (SYN_DROPPED: its buffer overflowed): keys may be missing, so
   * a code being typed must be started again.
   */
  dropped: [];
  /** An asynchronous failure outside any call. */
  error: [err: KeypadError];
}

export interface Keypad {
  /**
   * Opens the device and grabs it exclusively. Never rejects because the device is missing
   * or cannot be opened: the driver reports `disconnected` and retries every
   * `reconnectMs`. No timeout; not cancellable. Idempotent.
   */
  start(): Promise<void>;
  /** Closes the device (releasing the grab) and stops retrying; no events after. Idempotent. */
  stop(): Promise<void>;
  status(): KeypadStatus;
  on<E extends keyof KeypadEvents>(event: E, listener: (...args: KeypadEvents[E]) => void): this;
  off<E extends keyof KeypadEvents>(event: E, listener: (...args: KeypadEvents[E]) => void): this;
  once<E extends keyof KeypadEvents>(event: E, listener: (...args: KeypadEvents[E]) => void): this;
}

export type KeypadErrorCode =
  | 'EOPEN' // the device cannot be opened (missing, permission)
  | 'EREAD' // a read failed
  | 'EGRAB'; // the exclusive grab failed on a device that supports it

export class KeypadError extends CodedError<KeypadErrorCode> {}

export const DEFAULT_RECONNECT_MS = 2000;
