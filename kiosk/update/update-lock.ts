/**
 * The update lock (as balena's and Mender's): a dispense, a disk preparation, a check or wipe
 * of a returned disk and a technician's job each hold it while they run; the updater waits
 * until nobody holds it and then takes it for itself. From then on, until the updater lets go
 * (an install that failed) or kioskd restarts (the reboot into the new slot), `hold()` refuses
 * with EUPDATING, so no new work starts that a reboot would cut in half.
 */
import { EventEmitter } from 'node:events';
import { CodedError } from '../../common/coded-error.js';

export class UpdateLockError extends CodedError<'EUPDATING' | 'EABORTED'> {}

export class UpdateLock extends EventEmitter {
  private readonly holders = new Map<number, string>();
  private nextId = 1;
  private owner: string | null = null;
  private closed = false;

  /**
   * Holds the lock for `what` (e.g. `dispense slot 3`) until the returned function is called
   * (idempotent). Throws UpdateLockError EUPDATING while the updater owns it.
   */
  hold(what: string): () => void {
    if (this.owner !== null) {
      throw new UpdateLockError(
        'EUPDATING',
        `${what} refused: the kiosk is ${this.owner}; try again in a few minutes`,
      );
    }
    const id = this.nextId++;
    this.holders.set(id, what);
    this.emit('change');
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders.delete(id);
      this.emit('change');
    };
  }

  /**
   * Like hold(), but waits while the updater owns the lock instead of refusing (background
   * work that may as well run after the update: a preparation, a check or wipe of a returned
   * disk, pre-staging; after the reboot their recovery resumes them). Resolves at once, with
   * a release that does nothing, when `signal` is or becomes aborted: the caller's own abort
   * handling ends the work. Rejects EABORTED once close() was called (kioskd stopping): the
   * work is left to its recovery at the next start.
   */
  async acquire(what: string, signal?: AbortSignal): Promise<() => void> {
    for (;;) {
      if (this.closed) throw new UpdateLockError('EABORTED', `${what}: kioskd is stopping`);
      if (signal?.aborted) return () => {};
      if (this.owner === null) return this.hold(what);
      await this.changed(signal);
    }
  }

  /** Runs `fn` holding the lock for `what`; EUPDATING before `fn` runs when the updater owns it. */
  async with<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const release = this.hold(what);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** What holds the lock now (one entry per holder). */
  get held(): string[] {
    return [...this.holders.values()];
  }

  /** What the updater is doing while it owns the lock (`installing version 2.0.0`), or null. */
  get updating(): string | null {
    return this.owner;
  }

  /**
   * Waits until nobody holds the lock, then owns it as `reason`; resolves with the function
   * that lets go. `onWait` is called with the holders whenever they change while waiting.
   * No timeout of its own: abort `signal` to stop waiting (rejects EABORTED).
   */
  async take(
    reason: string,
    opts: { signal?: AbortSignal; onWait?: (holders: string[]) => void } = {},
  ): Promise<() => void> {
    for (;;) {
      if (opts.signal?.aborted) throw new UpdateLockError('EABORTED', `${reason}: stopped waiting`);
      if (this.owner === null && this.holders.size === 0) return this.own(reason);
      opts.onWait?.(this.held);
      await this.changed(opts.signal);
    }
  }

  /**
   * Owns the lock at once, whoever holds it (kioskd just started on a trial boot: nothing can
   * run yet). Resolves with the function that lets go.
   */
  takeNow(reason: string): () => void {
    return this.own(reason);
  }

  /** kioskd is stopping: work still waiting in acquire() gives up (EABORTED). */
  close(): void {
    this.closed = true;
    this.emit('change');
  }

  /** Resolves at the next change of holders or owner, or when `signal` aborts. */
  private changed(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.off('change', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.on('change', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private own(reason: string): () => void {
    this.owner = reason;
    this.emit('change');
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.owner = null;
      this.emit('change');
    };
  }
}
