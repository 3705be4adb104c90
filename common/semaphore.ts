/**
 * A counting semaphore: `run(fn)` waits for one of `n` permits, in FIFO order. Cancel by
 * aborting `signal` while waiting (rejects with its reason). Used by kioskd's cloning pipeline
 * and by the hub's admission of upgrades and Boots (cloud-lite/hub/hub.ts).
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly n: number) {}

  /** Callers waiting for a permit. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<R>(fn: () => Promise<R>, signal?: AbortSignal): Promise<R> {
    if (this.active >= this.n) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(go);
      });
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const nextWaiter = this.waiting.shift();
      if (nextWaiter) nextWaiter();
      else this.active--;
    }
  }
}
