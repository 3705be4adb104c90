/** Every state a command can be in, in lifecycle order. */
export const COMMAND_STATES = [
  'pending',
  'sent',
  'accepted',
  'rejected',
  'completed',
  'failed',
  'expired',
] as const;

export type CommandState = (typeof COMMAND_STATES)[number];

export interface CommandRecord {
  id: string;
  kioskId: string;
  action: string;
  payload: Record<string, unknown>;
  state: CommandState;
  createdAt: string;
  updatedAt: string;
  deadline: string;
  attempts: number;
  lastSentAt: string | null;
  /** The kiosk's CALLRESULT payload, or `{ code, description, details }` of a CALLERROR. */
  result: Record<string, unknown> | null;
}

/**
 * A command's column values in the order of COMMAND_COLUMNS (payload and result as JSON text),
 * for the stores' INSERTs bound by position.
 */
export function commandValues(c: CommandRecord): unknown[] {
  return [
    c.id,
    c.kioskId,
    c.action,
    JSON.stringify(c.payload),
    c.state,
    c.createdAt,
    c.updatedAt,
    c.deadline,
    c.attempts,
    c.lastSentAt,
    c.result === null ? null : JSON.stringify(c.result),
  ];
}

/** The commands table's columns, in the order of commandValues. */
export const COMMAND_COLUMNS =
  'id, kiosk_id, action, payload, state, created_at, updated_at, deadline, attempts, last_sent_at, result';

/** Durable hub -> kiosk commands (hub/command-dispatcher.ts). */
/** What a command's recording assumed of its kiosk (CommandRepo.insertIfKiosk). */
export interface KioskFacts {
  /** The kiosk booted at least once (kiosks.last_boot_at set). */
  booted: boolean;
  /** Booted: the features its last Boot listed, exactly as stored (null: none listed). */
  features: readonly string[] | null;
}

/** A kiosk's answer to a command (CommandRepo.recordAnswers). */
export interface CommandAnswer {
  id: string;
  state: CommandState;
  at: string;
  result: Record<string, unknown>;
  /** When it was sent, if its sent mark was not written (setAnswered); null: it was. */
  sentAt: string | null;
}

export interface CommandRepo {
  insert(c: CommandRecord): Promise<void>;
  /**
   * Inserts `c` in one statement only if its kiosk exists and is as `kiosk` says (booted or
   * not; booted, with exactly those features). False when nothing was inserted: no such kiosk,
   * or it is not as said (read it and decide again).
   */
  insertIfKiosk(c: CommandRecord, kiosk: KioskFacts): Promise<boolean>;
  get(id: string): Promise<CommandRecord | undefined>;
  /** Commands still to deliver (pending or sent), oldest first. */
  listOutstanding(kioskId: string): Promise<CommandRecord[]>;
  listForKiosk(
    kioskId: string,
    opts: { limit: number; beforeCreatedAt?: string },
  ): Promise<CommandRecord[]>;
  /** Marks a pending or sent command sent (attempts + 1); false when it is in another state. */
  markSent(id: string, at: string): Promise<boolean>;
  /**
   * Sets the state (and result, when given). A command in a final state (rejected, completed,
   * failed, expired) never changes; with `onlyFrom`, only a command currently in one of those
   * states changes. Returns whether it changed.
   */
  setState(
    id: string,
    state: CommandState,
    at: string,
    result?: Record<string, unknown> | null,
    onlyFrom?: readonly CommandState[],
  ): Promise<boolean>;
  /**
   * Counts a send whose answer setAnswered could not record (the command had ended meanwhile,
   * e.g. settled by its outcome event): attempts + 1 and last_sent_at = `at`, whatever the
   * state, unless a send at `at` or later is counted already. Returns whether it changed.
   */
  countSend(id: string, at: string): Promise<boolean>;
  /**
   * Records the answer to a send whose sent mark was not written (CommandDispatcher.deliver:
   * the kiosk answered before it was due): `state`, `result`, and that send (attempts + 1,
   * last_sent_at = `sentAt`), in one UPDATE, only from pending or sent. Returns whether it
   * changed.
   */
  setAnswered(
    id: string,
    state: CommandState,
    at: string,
    result: Record<string, unknown>,
    sentAt: string,
  ): Promise<boolean>;
  /**
   * Records kiosks' answers, each only from pending or sent (CommandDispatcher's AnswerBatch:
   * the answers that came in one turn of the event loop): an answer with `sentAt` as
   * setAnswered records it (its send counted too), one without as setState(id, state, at,
   * result, ['pending', 'sent']). Distinct ids. Returns, in order, whether each changed.
   * PostgreSQL: one statement for all of them.
   */
  recordAnswers(answers: readonly CommandAnswer[]): Promise<boolean[]>;
  /** Expires outstanding commands whose deadline is before `now`; returns them. */
  expireDue(now: string): Promise<CommandRecord[]>;
  countByState(): Promise<Record<string, number>>;
}
