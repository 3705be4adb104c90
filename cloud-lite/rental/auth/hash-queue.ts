import { RentalError } from '../errors.js';

/**
 * Bounds concurrent password hashing. scrypt runs on libuv's thread pool (4 threads by
 * default), which file reads and DNS share: 16 parallel registrations once held a static
 * file back for 29.5 s. At most `maxConcurrent` hashes run at once; up to `maxQueued` more
 * wait in FIFO order; beyond that a request is refused at once with BUSY (503) rather than
 * queued for ever.
 */
export class HashQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Most hashes seen running at once (for tests and metrics). */
  peak = 0;

  constructor(private readonly opts: { maxConcurrent: number; maxQueued: number }) {}

  /** Hashes running plus waiting. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.opts.maxConcurrent) {
      if (this.waiting.length >= this.opts.maxQueued)
        throw new RentalError('BUSY', 'too many logins at once; try again in a few seconds', 503, {
          retryAfterSeconds: 2,
        });
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
