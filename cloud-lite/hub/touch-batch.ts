import type { Store } from '../store/types.js';

/** How long heartbeats are gathered into one write (ms): docs/postgres.md, "Heartbeats". */
export const TOUCH_BATCH_MS = 50;
/** At most this many kiosks a write; more wait for the next one. */
export const TOUCH_BATCH_MAX = 5000;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Heartbeats' "heard from" writes, gathered: every touch() within `windowMs` of the first goes
 * out as one kiosks.touchMany statement (one transaction, retried by the store after a
 * deadlock), and each touch() resolves only after that commit (so a Heartbeat's answer still
 * means "recorded") or rejects with the write's error. One write at a time: what arrives
 * meanwhile goes out in the next.
 */
export class TouchBatch {
  /** Per kiosk: its latest time and the touch() calls waiting for it. */
  private pending = new Map<string, { at: string; waiters: Waiter[] }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      store: Pick<Store, 'transaction'>;
      windowMs?: number;
      maxBatch?: number;
      /** Told the size of each write that committed (metrics, tests). */
      onWrite?: (kiosks: number) => void;
    },
  ) {}

  /** Records that `kioskId` was heard from at `at` (ISO time); resolves once committed. */
  touch(kioskId: string, at: string): Promise<void> {
    const entry = this.pending.get(kioskId) ?? { at, waiters: [] };
    if (entry.at < at) entry.at = at;
    this.pending.set(kioskId, entry);
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    if (this.pending.size >= (this.deps.maxBatch ?? TOUCH_BATCH_MAX)) this.flushSoon(0);
    else this.flushSoon(this.deps.windowMs ?? TOUCH_BATCH_MS);
    return done;
  }

  /** Writes what is gathered now and waits for every write (at stop). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing || this.pending.size > 0) {
      if (!this.writing) this.write();
      await this.writing;
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.writing) return; // the running write's end starts the next
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, delayMs);
  }

  private write(): void {
    if (this.writing || this.pending.size === 0) return;
    const max = this.deps.maxBatch ?? TOUCH_BATCH_MAX;
    const entries: Array<{ id: string; at: string }> = [];
    const waiters: Waiter[] = [];
    for (const [id, p] of this.pending) {
      if (entries.length >= max) break;
      entries.push({ id, at: p.at });
      waiters.push(...p.waiters);
      this.pending.delete(id);
    }
    this.writing = this.deps.store
      .transaction((tx) => tx.kiosks.touchMany(entries), { isolation: 'read committed' })
      .then(
        () => {
          this.deps.onWrite?.(entries.length);
          for (const w of waiters) w.resolve();
        },
        (err) => {
          for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        this.writing = undefined;
        if (this.pending.size > 0) this.flushSoon(0);
      });
  }
}
