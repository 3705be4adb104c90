/**
 * Motor board: the serial slot board that pushes a disk out of a slot, pulls it back and
 * reports per-slot sensors. The interface, its events, its errors and its configuration.
 * Slots are numbered from 1. The byte protocol is in PROTOCOL.md.
 */
import { CodedError } from '../../common/coded-error.js';

/** What IDENTIFY (also the protocol's PING) answers. */
export interface BoardIdentity {
  /** Board serial number, 8 hex digits (unique per board). */
  boardId: string;
  /** Bus address the board answered from (1..254). */
  address: number;
  hardwareRevision: number;
  /** `major.minor.patch`. */
  firmwareVersion: string;
  protocolVersion: number;
  slotCount: number;
}

/** One slot's sensors. */
export interface SlotSensors {
  slot: number;
  /** A disk is in the slot (seated or sticking out at the pickup position). */
  present: boolean;
  /** The disk is fully in (pushed home). `present && !seated` = at the pickup position. */
  seated: boolean;
  /** The slot's tray/door is open. */
  trayOpen: boolean;
  /** The slot's motor is latched in fault (a jam or over-current); cleared by a passing self-test or RESET. */
  motorFault: boolean;
  /** The slot's motor is turning now. */
  busy: boolean;
}

export type MotionKind = 'eject' | 'retract' | 'self-test';
export type MotionFault = 'jam' | 'motor-fault' | 'aborted';

/** GET_STATUS per slot: sensors plus the last motion the board started on that slot. */
export interface SlotStatus extends SlotSensors {
  lastMotion: {
    kind: MotionKind;
    /** `running` while the motor turns. */
    result: 'ok' | MotionFault | 'running';
    /** Sequence number of the command that started it. */
    seq: number;
  } | null;
}

/** A finished motion (the board's MOTION_DONE or MOTION_FAULT report). */
export interface MotionEvent {
  slot: number;
  kind: MotionKind;
  /** Sequence number of the command that started the motion. */
  seq: number;
  result: 'ok' | MotionFault;
  /** How long the motor ran, as measured by the board. */
  durationMs: number;
  /** Sensors when the motor stopped. */
  sensors: SlotSensors;
}

/** A successful eject or retract. */
export interface MotionResult {
  slot: number;
  kind: MotionKind;
  seq: number;
  durationMs: number;
  sensors: SlotSensors;
}

export interface SelfTestResult {
  slot: number;
  ok: boolean;
  /** Why it failed, when `ok` is false. */
  fault?: MotionFault;
  durationMs: number;
  sensors: SlotSensors;
}

export type ResetCause = 'power-on' | 'command' | 'watchdog' | 'brown-out' | 'unknown';

export interface MotionOptions {
  /** How long to wait for the motion to finish after the ACK. Default 5000 ms (eject, retract), 8000 ms (self-test). */
  timeoutMs?: number;
  /** Aborts the WAIT (not the motor: the board has no stop command). Rejects with `ECANCELED`. */
  signal?: AbortSignal;
}

/** Event map (Node `EventEmitter` style: event name -> listener arguments). */
export interface MotorBoardEvents {
  /** A slot's sensors changed (board's SENSOR_CHANGE report, or a difference seen after reconnect/reset). */
  sensor: [slot: number, sensors: SlotSensors];
  /** A motion finished, whoever started it. */
  motion: [event: MotionEvent];
  /** The link is up and the board identified itself (after start() and after every reconnect). */
  connected: [identity: BoardIdentity];
  /** The link was lost (USB-serial adapter unplugged, board unpowered); reconnect polling has begun. */
  disconnected: [err: MotorBoardError];
  /** The board rebooted (its BOOT report). Motions in progress were aborted. */
  reset: [cause: ResetCause];
}

export interface MotorBoard {
  /**
   * Opens the link, identifies the board and reads every slot's status. Rejects with
   * `EDISCONNECTED` if the port cannot be opened, `ETIMEOUT` if the board does not answer
   * (retries included), and leaves the driver stopped. After it resolves the driver
   * reconnects on its own until stop(). Not cancellable (call stop()).
   */
  start(): Promise<void>;
  /**
   * Closes the link and stops reconnecting. Queued and in-flight commands and motion waits
   * reject with `ESTOPPED`. Idempotent. Motors already turning finish on the board.
   */
  stop(): Promise<void>;
  /** The identity read at the last (re)connect; null before start(). */
  readonly identity: BoardIdentity | null;
  /** True while the link is up. */
  readonly connected: boolean;
  /**
   * Asks the board who it is (IDENTIFY). Reply timeout per attempt (default 250 ms), retried
   * (default 2 retries) on timeout, CRC error or NAK CRC; then rejects with that error.
   * `EDISCONNECTED` at once while the link is down. Not cancellable.
   */
  identify(): Promise<BoardIdentity>;
  /**
   * GET_STATUS for one slot, or all slots when `slot` is omitted. Same timeout and retry
   * rules as identify(); `EBADSLOT` for a slot the board does not have. Not cancellable.
   */
  status(slot?: number): Promise<SlotStatus[]>;
  /**
   * Pushes the disk in `slot` out to the pickup position and resolves when the board reports
   * MOTION_DONE. The ACK is awaited with the reply timeout; if the ACK is lost the driver
   * never resends blindly: it reads the slot's status to learn whether the board started the
   * motion (by sequence number) and only resends if it did not. Rejects: `EJAM` / `EMOTOR`
   * (board reported a fault), `ENODISK` (no seated disk), `EBUSY` (motor already turning),
   * `EFAULT` (slot latched in fault), `EBADSLOT`, `ETIMEOUT` (no completion within
   * `timeoutMs`, default 5000 ms; the driver reads status once before giving up, in case the
   * report was lost), `ERESET` (board rebooted meanwhile), `EDISCONNECTED`, `ECANCELED`
   * (signal aborted the wait; the motor is NOT stopped). In every rejection after the ACK
   * the disk's position is unknown to the caller: read status(), do not eject again blindly.
   * Then watch 'sensor' for `present` turning false (the disk was taken).
   */
  eject(slot: number, opts?: MotionOptions): Promise<MotionResult>;
  /** Pulls a disk that was not taken back in. Same timeout, retry and cancel rules as eject(). */
  retract(slot: number, opts?: MotionOptions): Promise<MotionResult>;
  /**
   * Runs the slot's motor a short stroke out and back (never far enough to push a disk out).
   * Resolves `{ok:false, fault}` when the board reports a fault (a passing test clears the
   * slot's motor-fault latch). Same timeout (default 8000 ms) and cancel rules as eject().
   */
  selfTest(slot: number, opts?: MotionOptions): Promise<SelfTestResult>;
  /**
   * Reboots the board (RESET) and resolves when its BOOT report arrives (default 3000 ms,
   * then `ETIMEOUT`). Motion waits in progress reject with `ERESET`. Not cancellable.
   */
  reset(): Promise<void>;
  on<E extends keyof MotorBoardEvents>(
    event: E,
    listener: (...args: MotorBoardEvents[E]) => void,
  ): this;
  off<E extends keyof MotorBoardEvents>(
    event: E,
    listener: (...args: MotorBoardEvents[E]) => void,
  ): this;
  once<E extends keyof MotorBoardEvents>(
    event: E,
    listener: (...args: MotorBoardEvents[E]) => void,
  ): this;
}

export type MotorBoardErrorCode =
  | 'ETIMEOUT' // no reply / no completion in time
  | 'ECRC' // the reply failed its CRC (after retries)
  | 'ENAK' // the board refused the command for a reason not listed below
  | 'EJAM' // the motor stalled before the end position
  | 'EMOTOR' // motor driver fault (over-current, open winding)
  | 'ENODISK' // eject with no seated disk
  | 'EBUSY' // that slot's motor is already turning
  | 'EFAULT' // slot latched in motor fault; self-test or RESET first
  | 'EBADSLOT' // no such slot
  | 'ERESET' // the board rebooted during the operation
  | 'EDISCONNECTED' // the link is down
  | 'ECANCELED' // the caller's AbortSignal fired
  | 'ESTOPPED' // stop() was called, or start() not yet
  | 'EPROTOCOL'; // the board sent something this driver does not understand

export class MotorBoardError extends CodedError<MotorBoardErrorCode> {
  /**
   * Set when the board answered NAK (`busy`, `no-disk`, `crc`, ...): it refused the command
   * and did nothing, so sending it again is safe once the reason is gone.
   */
  readonly nak: string | undefined;
  constructor(
    code: MotorBoardErrorCode,
    message: string,
    options?: { cause?: unknown; nak?: string },
  ) {
    super(code, message, options);
    this.nak = options?.nak;
  }
}

/** Timing and retry knobs of the driver (all optional). */
export interface DriverTiming {
  /** Reply timeout per attempt, started when the bytes are written. Default 250 ms. */
  replyTimeoutMs?: number;
  /** Extra attempts for a query after a timeout / CRC error / NAK CRC. Default 2. */
  retries?: number;
  /** Parser inter-byte timeout. Default 50 ms (USB-serial adapters deliver in bursts). */
  interByteTimeoutMs?: number;
  /** Reconnect polling: first delay, doubled up to maxMs. Defaults 100 ms, 2000 ms. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How long reset() waits for BOOT. Default 3000 ms. */
  bootTimeoutMs?: number;
}

export interface RealMotorBoardConfig extends DriverTiming {
  driver: 'real';
  /** Serial device, preferably stable: `/dev/serial/by-id/...` or a udev link like `/dev/kiosk-board`. */
  path: string;
  /** Default 115200. */
  baudRate?: number;
  /** Board address on the bus, 1..254. Default 1. */
  address?: number;
}

export interface SimTiming {
  /** Motor run time of an eject. Default 300 ms. */
  ejectMs?: number;
  /** Default 300 ms. */
  retractMs?: number;
  /** Default 400 ms. */
  selfTestMs?: number;
  /** Time from reset to the BOOT report. Default 50 ms. */
  bootMs?: number;
}

export interface SimMotorBoardConfig extends DriverTiming, SimTiming {
  driver: 'sim';
  slots: number;
  /** Slots that hold a seated disk at power-on. Default: none. */
  loaded?: number[];
  address?: number;
  boardId?: number;
}

export type MotorBoardConfig = RealMotorBoardConfig | SimMotorBoardConfig;
