/**
 * A stack of undo actions (kill a child, close a simulator, unmount, detach a loop
 * device, stop the hub). `run()` undoes in reverse order, each action at most once, and
 * never rejects: a failing action is reported through `onError` and the rest still run.
 */
export class Cleanup {
  private readonly actions: Array<{ what: string; fn: () => unknown }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly onError: (what: string, err: Error) => void = () => {}) {}

  /** Registers `fn` to run at cleanup (after everything registered later). */
  add(what: string, fn: () => unknown): void {
    this.actions.push({ what, fn });
  }

  /** Runs every registered action in reverse order; idempotent, concurrent calls share the run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.actions.length > 0) {
        const a = this.actions.pop()!;
        try {
          await a.fn();
        } catch (err) {
          this.onError(a.what, err as Error);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
