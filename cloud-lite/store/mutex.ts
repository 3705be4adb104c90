/** A FIFO async mutex: `run(fn)` waits for every earlier holder, then runs fn alone. */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every holder queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
