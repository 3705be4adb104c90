import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from './clock.js';

export type InboxState = 'received' | 'executing' | 'done' | 'failed';

/** What the kiosk answered a command: a CALLRESULT payload or a CALLERROR. */
export type StoredAnswer =
  | { kind: 'result'; payload: unknown }
  | { kind: 'error'; code: string; description: string; details: Record<string, unknown> };

/** One command as recorded. */
export interface InboxEntry {
  commandId: string;
  action: string;
  payload: unknown;
  state: InboxState;
  answer: StoredAnswer | null;
  step: string | null;
  receivedAt: string;
  finishedAt: string | null;
}

export type RecordResult =
  | { fresh: true }
  | { fresh: false; state: InboxState; storedResponse: StoredAnswer | null };

export interface InboxDeps {
  db: KioskDb;
  clock: TimeSource;
  /**
   * Finished commands are kept this long for replays (default 30 days), then pruned. The hub
   * resends a command only while it is pending, and every command expires long before this.
   */
  keepFinishedMs?: number;
  /**
   * The newest this many finished commands are kept whatever their time stamps (default 1000):
   * a command finished while the kiosk's clock was wrong (a Pi without a real-time clock
   * starts in the past until the hub sets it) looks years old once the clock is right, and
   * must not be pruned minutes after it finished.
   */
  keepNewest?: number;
}

const DAY_MS = 24 * 3600 * 1000;
/** How often record() prunes at most. */
const PRUNE_EVERY_MS = 3600 * 1000;

interface Row {
  command_id: string;
  action: string;
  payload: string;
  state: InboxState;
  response: string | null;
  step: string | null;
  received_at: string;
  finished_at: string | null;
}

/**
 * The kiosk's command inbox (the `inbox` table): a command is recorded before it is
 * answered, so a repeated commandId is never executed twice and gets the stored answer.
 *
 * Life of a command: record() -> `received`; a handler that starts long work calls
 * begin()/setStep() -> `executing`; answer() stores the reply (a `received` command is
 * then `done`, an `executing` one stays so until complete()); complete()/fail() finish it.
 * All methods are synchronous and may join an enclosing transaction.
 */
export class Inbox {
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: InboxDeps) {}

  /**
   * Records a command; `{ fresh: false, ... }` if its id was seen before. At most once an
   * hour it first prunes commands finished longer than `keepFinishedMs` ago, so the table
   * stays bounded on a kiosk that runs for years.
   */
  record(commandId: string, action: string, payload: unknown): RecordResult {
    const { db } = this.deps;
    const nowMs = this.deps.clock.now().getTime();
    if (nowMs - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = nowMs;
      this.prune(new Date(nowMs - (this.deps.keepFinishedMs ?? 30 * DAY_MS)).toISOString());
    }
    return db.transaction((): RecordResult => {
      const existing = this.get(commandId);
      if (existing) {
        return { fresh: false, state: existing.state, storedResponse: existing.answer };
      }
      db.prepare(
        `INSERT INTO inbox (command_id, action, payload, state, received_at)
         VALUES (?, ?, ?, 'received', ?)`,
      ).run(commandId, action, JSON.stringify(payload), this.now());
      return { fresh: true };
    })();
  }

  /** Stores the answer sent to the hub; a `received` command becomes `done`. */
  answer(commandId: string, answer: StoredAnswer): void {
    this.deps.db
      .prepare(
        `UPDATE inbox SET response = ?,
           state = CASE WHEN state = 'received' THEN ? ELSE state END,
           finished_at = CASE WHEN state = 'received' THEN ? ELSE finished_at END
         WHERE command_id = ? AND response IS NULL`,
      )
      .run(
        JSON.stringify(answer),
        answer.kind === 'error' ? 'failed' : 'done',
        this.now(),
        commandId,
      );
  }

  /** Marks long work as started (before answering `Accepted`). */
  begin(commandId: string): void {
    this.deps.db
      .prepare("UPDATE inbox SET state = 'executing' WHERE command_id = ? AND state = 'received'")
      .run(commandId);
  }

  /** Records the step a multi-step command reached (crash reconciliation reads it). */
  setStep(commandId: string, step: string): void {
    this.deps.db
      .prepare(
        `UPDATE inbox SET step = ?,
           state = CASE WHEN state = 'received' THEN 'executing' ELSE state END
         WHERE command_id = ?`,
      )
      .run(step, commandId);
  }

  /**
   * Finishes a command: `done`, or `failed` with `failed: true`. Stores `response` as the
   * answer if none was stored yet (a command finished before it was answered).
   */
  complete(commandId: string, response?: unknown, opts: { failed?: boolean } = {}): void {
    const { db } = this.deps;
    db.transaction(() => {
      if (response !== undefined) this.answer(commandId, { kind: 'result', payload: response });
      db.prepare(
        `UPDATE inbox SET state = ?, finished_at = coalesce(finished_at, ?)
         WHERE command_id = ?`,
      ).run(opts.failed ? 'failed' : 'done', this.now(), commandId);
    })();
  }

  /** Commands recorded but not finished (received or executing), oldest first. */
  unfinished(): InboxEntry[] {
    return (
      this.deps.db
        .prepare(
          "SELECT * FROM inbox WHERE state IN ('received', 'executing') ORDER BY received_at, rowid",
        )
        .all() as Row[]
    ).map(toEntry);
  }

  get(commandId: string): InboxEntry | undefined {
    const row = this.deps.db.prepare('SELECT * FROM inbox WHERE command_id = ?').get(commandId) as
      | Row
      | undefined;
    return row ? toEntry(row) : undefined;
  }

  /**
   * Deletes finished commands older than `before` (ISO), except the newest `keepNewest`
   * finished ones (in the order they were recorded); returns how many.
   */
  prune(before: string): number {
    return this.deps.db
      .prepare(
        `DELETE FROM inbox WHERE state IN ('done', 'failed') AND finished_at < ?
           AND rowid NOT IN (SELECT rowid FROM inbox WHERE state IN ('done', 'failed')
                             ORDER BY rowid DESC LIMIT ?)`,
      )
      .run(before, this.deps.keepNewest ?? 1000).changes;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function toEntry(r: Row): InboxEntry {
  return {
    commandId: r.command_id,
    action: r.action,
    payload: JSON.parse(r.payload) as unknown,
    state: r.state,
    answer: r.response ? (JSON.parse(r.response) as StoredAnswer) : null,
    step: r.step,
    receivedAt: r.received_at,
    finishedAt: r.finished_at,
  };
}
