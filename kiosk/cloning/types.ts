/**
 * The cloning pipeline's steps, progress, errors and the ports it drives.
 */
import { CodedError } from '../../common/coded-error.js';
import type { Storage } from '../../hal/storage/types.js';

/**
 * The update lock as disk jobs see it (kiosk/update's UpdateLock fits): a preparation, a
 * check or wipe and pre-staging hold it while they run, waiting while an update owns it.
 * `acquire` resolves with the release (at once, releasing nothing, when `signal` aborted).
 */
export interface JobLock {
  acquire(what: string, signal?: AbortSignal): Promise<() => void>;
}

/** Runs `fn` holding `lock` for `what` (without a lock: just runs it). */
export async function withJobLock<T>(
  lock: JobLock | undefined,
  what: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const release = lock ? await lock.acquire(what, signal) : () => {};
  try {
    return await fn();
  } finally {
    release();
  }
}

export type CloneStep =
  | 'formatting'
  | 'copying'
  | 'flushing'
  | 'verifying'
  | 'configuring'
  | 'done';

export interface CloneProgress {
  step: CloneStep;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  /** Bytes per second over the current step. */
  rateBps: number;
  /** Seconds left in the current step (0 when unknown or done). */
  etaSeconds: number;
}

/** The storage operations the pipeline uses (hal/storage's Storage fits). */
export type CloneStorage = Pick<
  Storage,
  | 'format'
  | 'mount'
  | 'unmount'
  | 'setReadOnly'
  | 'isReadOnly'
  | 'flush'
  | 'dropCaches'
  | 'quickWipe'
  | 'fullWipe'
  | 'check'
  | 'probe'
  | 'hashFiles'
  | 'writeImage'
  | 'verifyImage'
>;

/** The write-protect relay of a slot (hal/gpio's Gpio fits). */
export interface WriteProtectRelay {
  setWriteProtect(slot: number, on: boolean): Promise<void>;
}

export type CloneErrorCode =
  | 'EFORMAT' // mkfs failed
  | 'EMOUNT' // mount/unmount failed
  | 'ECOPY' // rsync failed (exit code in the message)
  | 'EVERIFY' // a file on the disk does not match the manifest
  | 'EIO' // the disk reported I/O errors
  | 'ECONFIGURE' // identity file, read-only flag or relay failed
  | 'ETOOSMALL' // the content does not fit the disk
  | 'EIMAGE' // image mode cannot serve this disk (no image, build failed, image corrupt): file mode takes over
  | 'EABORTED'; // cancelled

/** Codes that say the disk itself is bad: the slot goes to `fault`, not back to stock. */
export const DISK_FAULT_CODES: readonly string[] = ['EVERIFY', 'EIO', 'EFORMAT', 'EDISCONNECTED'];

export class CloneError extends CodedError<CloneErrorCode> {
  constructor(
    code: CloneErrorCode,
    readonly step: CloneStep,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
