import type { CommandAnswer, Store } from '../store/types.js';

/** At most this many answers a write; more wait for the next one. */
export const ANSWER_BATCH_MAX = 200;

interface Queued {
  answer: CommandAnswer;
  resolve: (changed: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Kiosks' answers to commands (CommandDispatcher.deliver), gathered: those that came in one
 * turn of the event loop, and those that come while a write is on its way, go out as one
 * commands.recordAnswers (autocommit: on PostgreSQL one statement, one round trip and one
 * commit for all of them, where each answer cost its own; SQLite groups the commits of a
 * turn already). Each record() resolves after that commit with whether its answer changed
 * the command, as its own UPDATE would have. One write at a time. A write that fails is
 * tried again answer by answer, so one answer the store refuses fails alone.
 */
export class AnswerBatch {
  private queued: Queued[] = [];
  private scheduled = false;
  private writing = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly deps: {
      store: Pick<Store, 'transaction'>;
      maxBatch?: number;
      /** Told the size of each write that committed (tests). */
      onWrite?: (answers: number) => void;
    },
  ) {}

  /** Records `answer`; resolves once committed: whether the command changed. */
  record(answer: CommandAnswer): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queued.push({ answer, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return; // the running write's end starts the next
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.write();
    });
  }

  private async write(): Promise<void> {
    if (this.writing || this.queued.length === 0) return;
    this.writing = true;
    // Distinct ids a write (an UPDATE ... FROM changes a row once): a repeat waits for the next.
    const batch: Queued[] = [];
    const ids = new Set<string>();
    const rest: Queued[] = [];
    for (const q of this.queued) {
      if (batch.length < (this.deps.maxBatch ?? ANSWER_BATCH_MAX) && !ids.has(q.answer.id)) {
        ids.add(q.answer.id);
        batch.push(q);
      } else rest.push(q);
    }
    this.queued = rest;
    try {
      const changed = await this.store(batch.map((q) => q.answer));
      this.deps.onWrite?.(batch.length);
      for (const [i, q] of batch.entries()) q.resolve(changed[i] ?? false);
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else
        for (const q of batch)
          await this.storeAgain(q.answer).then(
            (changed) => q.resolve(changed),
            (e) => q.reject(e),
          );
    } finally {
      this.writing = false;
      if (this.queued.length > 0) this.schedule();
      else if (!this.scheduled) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once nothing is queued or being written (at stop). */
  idle(): Promise<void> {
    if (!this.writing && !this.scheduled && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * One answer of a failed write, alone. The failed write may have kept the answers before the
   * failing one (SQLite runs the batch as an autocommit item of its group: no savepoint), so an
   * answer that now changes nothing is its own when the row already holds its state and time:
   * it was recorded by the failed write, and its command's listeners must still be told.
   */
  private async storeAgain(answer: CommandAnswer): Promise<boolean> {
    const [changed] = await this.store([answer]);
    if (changed) return true;
    const row = await this.deps.store.transaction((tx) => tx.commands.get(answer.id), {
      isolation: 'autocommit',
    });
    return row?.state === answer.state && row.updatedAt === answer.at;
  }

  private store(answers: CommandAnswer[]): Promise<boolean[]> {
    return this.deps.store.transaction((tx) => tx.commands.recordAnswers(answers), {
      isolation: 'autocommit',
    });
  }
}
