/** Runs `fn` over `items` with at most `limit` at once; rejects with the first error after the running ones settle. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
  return out;
}

/** A counting semaphore: `run(fn)` waits for one of `n` permits. Cancel by aborting `signal` while waiting. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly n: number) {}

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
