/**
 * Runs tasks one at a time per key, in the order they were given: a task starts when the
 * previous one of its key settled (resolved or rejected), tasks of other keys run alongside.
 * Used for a GPIO line (a write and its read-back are never interleaved) and for a kiosk's
 * events at the hub (processed in arrival order).
 */
export class KeyedQueue<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  /** Runs `task` after the tasks queued before it under `key`; settles as `task` does. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when every task queued so far has settled (never rejects). */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
