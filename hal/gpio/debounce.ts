/**
 * Debouncer for one input line: every raw edge (re)starts a timer; when the line has been
 * quiet for `ms`, the current level is sampled and reported if it differs from the last
 * stable level. Bounces that settle back to the old level report nothing.
 */
export interface DebouncerOptions {
  ms: number;
  /** Samples the line now. */
  read: () => Promise<0 | 1>;
  /** Called with the new stable level. */
  onChange: (level: 0 | 1) => void;
  onError: (err: unknown) => void;
}

export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private stable: 0 | 1 | undefined;
  private stopped = false;

  constructor(private readonly opts: DebouncerOptions) {}

  /** Sets the stable level without reporting it (initial read). */
  seed(level: 0 | 1): void {
    this.stable = level;
  }

  /** A raw edge happened. */
  edge(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(), this.opts.ms);
  }

  /** Cancels any pending timer; no report after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    this.timer = undefined;
    this.opts.read().then(
      (level) => {
        if (this.stopped || level === this.stable) return;
        this.stable = level;
        this.opts.onChange(level);
      },
      (err) => {
        if (!this.stopped) this.opts.onError(err);
      },
    );
  }
}
