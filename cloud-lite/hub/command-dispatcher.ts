import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isoTime } from '../../common/iso-time.js';
import { timeOrderedUuid } from '../../common/time-ordered-id.js';
import {
  commandFeature,
  type HubToKioskAction,
  kioskFeatures,
  missingFeatures,
  signCommand,
  withoutUnsupportedFields,
} from '../../protocol/index.js';
import { KioskLacksFeatureError, NotFoundError, TimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CommandRecord, CommandState, KioskFacts, Store, Tx } from '../store/types.js';
import { AnswerBatch } from './answer-batch.js';
import {
  type CommandChannel,
  type CommandInput,
  LONG_RUNNING_ACTIONS,
  SIGNED_ACTIONS,
} from './types.js';

export interface CommandDispatcherDeps {
  store: Store;
  logger: Logger;
  signingKey: KeyObject;
  /** The live, ready connection of a kiosk, if any. */
  channelFor: (kioskId: string) => CommandChannel | undefined;
  callTimeoutMs: number;
  sweepIntervalMs: number;
  /**
   * A command sent that was not recorded as sent (deliver): its sent mark is written only if
   * the kiosk has not answered within this time (default SENT_MARK_DELAY_MS); an earlier
   * answer is recorded with the send in one UPDATE.
   */
  sentMarkDelayMs?: number;
  /**
   * Tells the other hub processes that a command was recorded or changed state (after the
   * commit), with the record as committed: the one holding its kiosk's socket sends it,
   * waiters there see the state (remoteChange).
   */
  publish?: (c: CommandRecord) => void;
  now?: () => Date;
}

/** CommandDispatcherDeps.sentMarkDelayMs's default. */
export const SENT_MARK_DELAY_MS = 1000;
/** Commands `recent` keeps at most (CommandDispatcher). */
const RECENT_MAX = 2000;
/** Kiosks `kioskFacts` keeps at most (CommandDispatcher). */
const KIOSK_FACTS_MAX = 5000;

/**
 * The features of a booted kiosk as `kioskFacts` knows it: one KioskFacts serves every command
 * to its kiosk until the kiosk is read again, so its set is worked out once.
 */
const featureSets = new WeakMap<KioskFacts, ReadonlySet<string>>();
function featuresOf(kiosk: KioskFacts): ReadonlySet<string> {
  let set = featureSets.get(kiosk);
  if (!set) {
    set = kioskFeatures(kiosk.features);
    featureSets.set(kiosk, set);
  }
  return set;
}

/** States a command settles in (`accepted` may still become completed or failed). */
export const SETTLED_STATES: readonly CommandState[] = [
  'accepted',
  'rejected',
  'completed',
  'failed',
  'expired',
];
/** States a command never leaves: a late answer or outcome event does not revive it. */
export const FINAL_STATES: readonly CommandState[] = ['rejected', 'completed', 'failed', 'expired'];

/** An answer or outcome that came after its command had ended (expired, or already settled). */
export interface LateAnswer {
  commandId: string;
  kioskId: string;
  action: string;
  /** The state the answer would have set. */
  answer: CommandState;
}

/** The time from sending a command to its answer (monotonic clock), and what the answer said. */
export interface RoundTrip {
  action: string;
  /** completed | accepted | rejected | failed */
  outcome: CommandState;
  seconds: number;
}

/**
 * Durable hub -> kiosk commands. A command is recorded (pending) before it is sent, sent
 * when its kiosk is connected and booted, re-sent with the same commandId after a
 * reconnect or a call timeout until answered, and expired past its deadline.
 * Emits `'commandState'` (CommandRecord) after every committed state change, `'ended'`
 * (CommandRecord) after a command ended with no outcome event to settle it (rejected or failed
 * by the kiosk's answer, or expired), and `'lateAnswer'` (LateAnswer) for an answer or outcome
 * ignored because the command had ended, and `'roundTrip'` (RoundTrip) for every answer (or
 * CALLERROR) received to a command sent.
 */
export class CommandDispatcher extends EventEmitter<{
  commandState: [CommandRecord];
  ended: [CommandRecord];
  lateAnswer: [LateAnswer];
  roundTrip: [RoundTrip];
}> {
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters = new Map<string, Set<(c: CommandRecord) => void>>();
  /**
   * The newest committed state this process knows of commands it recorded lately, until they
   * end (at most RECENT_MAX, oldest dropped): `waitFor` starts from it instead of reading the
   * row. Kept true by `notify` (this process's changes) and `remoteChange` (the others',
   * announced after their commits); emptied on `resync` (announcements may have been missed).
   */
  private readonly recent = new Map<string, CommandRecord>();
  /**
   * Commands `record` is writing here whose afterCommit has not run yet (at most RECENT_MAX,
   * oldest dropped: a rolled-back one is never removed otherwise), with what another process
   * announced of one meanwhile: the row is visible from its commit, so another process may
   * send it, get its answer or expire it and announce that before this process's afterCommit
   * puts `pending` in `recent`. The announced record (null: announced without it, then
   * `recent` forgets the command and waitFor reads it) is applied after the recorded states,
   * so `recent` never holds the older state then. undefined: nothing announced yet.
   */
  private readonly recording = new Map<string, CommandRecord | null | undefined>();
  /**
   * Per kiosk, what the last recording here read of it (at most KIOSK_FACTS_MAX, oldest
   * dropped): the next command to it is recorded by one INSERT that checks it still holds.
   */
  private readonly kioskFacts = new Map<string, KioskFacts>();
  /** Kiosks' answers, recorded together per turn of the event loop (deliver). */
  private readonly answers: AnswerBatch;

  constructor(private readonly deps: CommandDispatcherDeps) {
    super();
    this.setMaxListeners(0);
    this.answers = new AnswerBatch({ store: deps.store });
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** `now()` in ms (no Date made without an injected clock). */
  private nowMs(): number {
    return this.deps.now ? this.deps.now().getTime() : Date.now();
  }

  /** Delivers commands (from the hub's start to its stop). */
  resume(): void {
    this.stopped = false;
  }

  /** Starts expiring commands every `sweepIntervalMs`: leader work (cluster/cluster.ts). */
  start(): void {
    this.stopped = false;
    if (this.sweeper) return;
    this.sweeper = setInterval(() => void this.expireDue(), this.deps.sweepIntervalMs);
  }

  /** Stops the expiry sweep (stop: and delivery). */
  stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.stopSweeping();
  }

  /** Resolves once the kiosks' answers already received are written (the hub's stop). */
  answersWritten(): Promise<void> {
    return this.answers.idle();
  }

  /**
   * Another hub process recorded or changed command `commandId` of `kioskId`, and `rec` is the
   * command as it committed it (the announcement carries it; absent when too big for a NOTIFY:
   * then the row is read): if this process holds that kiosk's ready socket and the command is
   * outstanding (pending, or sent but not in flight on this socket), send it; wake this
   * process's waiters of the command with that committed state. A `sent` one counts: the other
   * process may have recorded it as sent for a socket it held when the command was recorded
   * (record) and lost before its commit, while the kiosk booted here before the row was
   * visible; nothing would send it then. A kiosk takes a command it already has again without
   * doing it twice (its commandId); nor does it for a command another process finished
   * meanwhile, if one is sent again: the answer changes only a pending or sent row (deliver).
   */
  remoteChange(commandId: string, kioskId: string, rec?: CommandRecord): void {
    const channel = this.deps.channelFor(kioskId);
    if (this.recent.has(commandId)) {
      if (rec) this.remember(rec);
      else this.recent.delete(commandId);
    }
    if (this.recording.has(commandId)) {
      const early = this.recording.get(commandId);
      // Announcements from several processes may cross: an ended state is not undone.
      if (!early || !FINAL_STATES.includes(early.state)) this.recording.set(commandId, rec ?? null);
    }
    if (this.stopped || (!channel && !this.waiters.has(commandId))) return;
    const act = (c: CommandRecord | undefined) => {
      if (!c) return;
      const set = this.waiters.get(c.id);
      if (set) for (const w of [...set]) w(c);
      if (channel && (c.state === 'pending' || c.state === 'sent')) void this.deliver(channel, c);
    };
    if (rec) {
      act(rec);
      return;
    }
    void this.get(commandId)
      .then(act)
      .catch((err) => {
        if (!this.stopped) this.deps.logger.error({ err, commandId }, 'reading a command failed');
      });
  }

  /**
   * Announcements may have been missed (the cluster connection was re-made): forgets what
   * `recent` says and wakes every waiter here with its command as it is now.
   */
  resync(): void {
    this.recent.clear();
    for (const id of [...this.waiters.keys()])
      void this.get(id)
        .then((c) => {
          const set = c && this.waiters.get(c.id);
          if (set) for (const w of [...set]) w(c);
        })
        .catch((err) => {
          if (!this.stopped)
            this.deps.logger.error({ err, commandId: id }, 'reading a command failed');
        });
  }

  /** Command `id` is being recorded here (see `recording`). */
  private recordingStarts(id: string): void {
    this.recording.set(id, undefined);
    if (this.recording.size > RECENT_MAX)
      this.recording.delete(this.recording.keys().next().value as string);
  }

  /** Keeps `c` in `recent` while it may still change (see there); drops it once it ended. */
  private remember(c: CommandRecord): void {
    this.recent.delete(c.id);
    if (FINAL_STATES.includes(c.state)) return;
    this.recent.set(c.id, c);
    if (this.recent.size > RECENT_MAX) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  /**
   * Records a command for `kioskId` in its own transaction and sends it if the kiosk is
   * connected (see `record`). Resolves with the recorded command (state `pending`) once it is
   * durable; delivery continues in the background (watch it with `waitFor` or the
   * `'commandState'` event). Rejects NotFoundError if the kiosk does not exist.
   */
  sendCommand<A extends HubToKioskAction>(
    kioskId: string,
    action: A,
    payload: CommandInput<A>,
    deadline: Date,
  ): Promise<CommandRecord> {
    // Bookkeeping: one INSERT checking the kiosk (a read first when this process has not
    // recorded a command for it lately, or it booted since), each committed on its own.
    return this.deps.store.transaction(
      (tx) => this.record(tx, kioskId, action, payload, deadline),
      { isolation: 'autocommit' },
    );
  }

  /**
   * Records a command for `kioskId` inside `tx` (state `pending`); once `tx` committed, the
   * command is announced and sent if the kiosk is connected (else on its next Boot).
   * `deadline`: the command expires if not answered by then; signed commands' signatures
   * expire then too. Rejects NotFoundError if the kiosk does not exist.
   * When the kiosk is connected and booted here as the command is recorded, the row is
   * written as `sent` (attempt 1) in `tx` itself, and the command is sent once `tx` commits:
   * one commit per command fewer than recording it and then marking it sent, with the same
   * order (durable before any byte is sent). Listeners still see `pending` then `sent`; if the
   * connection is gone by the commit, the kiosk gets it on its next Boot (a `sent` command is
   * outstanding) and `attempts` counts that send too.
   *
   * Protocol features (protocol/features.ts), as the kiosk's last Boot listed them (the store's
   * row, so any hub process decides alike): a command whose feature the kiosk lacks is refused
   * with KioskLacksFeatureError (KIOSK_LACKS_FEATURE) and nothing is recorded; an optional field
   * whose feature it lacks is left out before signing. A kiosk that never booted is not judged
   * yet: its first Boot decides at delivery.
   */
  async record<A extends HubToKioskAction>(
    tx: Tx,
    kioskId: string,
    action: A,
    payload: CommandInput<A>,
    deadline: Date,
  ): Promise<CommandRecord> {
    // What the last recording here found of the kiosk, checked by the INSERT itself (one
    // statement); not as found (or nothing known): the kiosk is read and the command built again.
    const known = this.kioskFacts.get(kioskId);
    let made = known && this.build(kioskId, action, payload, deadline, known);
    if (made) this.recordingStarts(made.rec.id);
    if (!made || !(await tx.commands.insertIfKiosk(made.row, known!))) {
      if (made) this.recording.delete(made.rec.id);
      const kiosk = await tx.kiosks.get(kioskId);
      if (!kiosk) throw new NotFoundError(`kiosk ${kioskId} does not exist`);
      const facts: KioskFacts = { booted: kiosk.lastBootAt !== null, features: kiosk.features };
      this.kioskFacts.delete(kioskId);
      this.kioskFacts.set(kioskId, facts);
      if (this.kioskFacts.size > KIOSK_FACTS_MAX)
        this.kioskFacts.delete(this.kioskFacts.keys().next().value as string);
      made = this.build(kioskId, action, payload, deadline, facts);
      if (!made) {
        const own = commandFeature(action);
        throw new KioskLacksFeatureError(kioskId, action, own ? [own] : []);
      }
      this.recordingStarts(made.rec.id);
      await tx.commands.insert(made.row);
    }
    const { rec, sent, leftOut } = made;
    if (leftOut.length > 0)
      this.deps.logger.info(
        { kioskId, action, leftOut },
        `${action} without ${leftOut.join(', ')}: the kiosk does not list the feature`,
      );
    tx.afterCommit(() => {
      const early = this.recording.get(rec.id);
      this.recording.delete(rec.id);
      if (early && FINAL_STATES.includes(early.state)) {
        // Another process sent it and it ended there before this ran: its end is the news.
        // Announcing it pending again, or sending it once more, would be stale.
        this.recent.delete(rec.id);
        this.emit('commandState', early);
        return;
      }
      this.notify({ ...rec }, { recorded: true });
      if (sent) this.notify({ ...sent });
      // Another process changed it before this ran (see `recording`): its state is the newer.
      if (early) this.remember(early);
      else if (early === null) this.recent.delete(rec.id);
      const channel = this.deps.channelFor(kioskId);
      if (channel) void this.deliver(channel, sent ?? rec, { marked: sent !== undefined });
    });
    return rec;
  }

  /**
   * The command as `record` writes it for a kiosk as `kiosk` says (its row: `sent` when the
   * kiosk is connected here); undefined when the kiosk lacks the command's own feature.
   */
  private build(
    kioskId: string,
    action: HubToKioskAction,
    payload: unknown,
    deadline: Date,
    kiosk: KioskFacts,
  ):
    | { rec: CommandRecord; sent?: CommandRecord; row: CommandRecord; leftOut: string[] }
    | undefined {
    // A kiosk that never booted: its features are not known yet; the command is recorded as
    // given and its first Boot decides (deliver fails it unsent if that Boot lacks them).
    const features = kiosk.booted ? featuresOf(kiosk) : undefined;
    const own = commandFeature(action);
    if (features && own && !features.has(own)) return undefined;
    const { payload: input, leftOut } = features
      ? withoutUnsupportedFields(action, payload as Record<string, unknown>, features)
      : { payload: payload as Record<string, unknown>, leftOut: [] };
    const now = this.now();
    // Time-ordered: each INSERT lands at the end of the commands' primary key index.
    const commandId = timeOrderedUuid(now.getTime());
    // Copied, then the id set: `{ ...input, commandId }` (a spread followed by a property the
    // source lacks) takes a slow path in V8, ~0.8 µs against ~0.05 µs for this.
    let full: Record<string, unknown> = Object.assign({}, input);
    full.commandId = commandId;
    if (SIGNED_ACTIONS.has(action)) {
      full = signCommand(this.deps.signingKey, kioskId, action, full, {
        ttlMs: Math.max(1000, deadline.getTime() - now.getTime()),
        now,
      }) as Record<string, unknown>;
    }
    const at = isoTime(now.getTime());
    const rec: CommandRecord = {
      id: commandId,
      kioskId,
      action,
      payload: full,
      state: 'pending',
      createdAt: at,
      updatedAt: at,
      deadline: isoTime(deadline.getTime()),
      attempts: 0,
      lastSentAt: null,
      result: null,
    };
    const here = this.deps.channelFor(kioskId);
    const sendNow =
      !this.stopped &&
      here !== undefined &&
      missingFeatures(action, full, here.features).length === 0 &&
      deadline.getTime() > now.getTime();
    const sent: CommandRecord | undefined = sendNow
      ? { ...rec, state: 'sent', attempts: 1, lastSentAt: rec.createdAt }
      : undefined;
    return { rec, sent, row: sent ?? rec, leftOut };
  }

  /** Reads a command (one statement, outside a transaction: store.read). */
  get(commandId: string): Promise<CommandRecord | undefined> {
    return this.deps.store.read((r) => r.commands.get(commandId));
  }

  /**
   * Resolves with the command once its state is one of `until` (default: any settled state:
   * accepted, rejected, completed, failed, expired). Rejects TimeoutError after `timeoutMs`
   * (default: no timeout) and when `signal` aborts; the command itself is unaffected.
   */
  waitFor(
    commandId: string,
    opts: { until?: readonly CommandState[]; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<CommandRecord> {
    const until = opts.until ?? SETTLED_STATES;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let set = this.waiters.get(commandId);
      if (!set) {
        set = new Set();
        this.waiters.set(commandId, set);
      }
      const waiters = set;
      const cleanup = () => {
        waiters.delete(onState);
        if (waiters.size === 0 && this.waiters.get(commandId) === waiters)
          this.waiters.delete(commandId);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onState = (c: CommandRecord) => {
        if (until.includes(c.state)) {
          cleanup();
          resolve(c);
        }
      };
      const onAbort = () => {
        cleanup();
        reject(new TimeoutError(`waiting for command ${commandId} was cancelled`));
      };
      waiters.add(onState);
      opts.signal?.addEventListener('abort', onAbort);
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(
            new TimeoutError(
              `command ${commandId} did not reach ${until.join('/')} within ${opts.timeoutMs} ms`,
            ),
          );
        }, opts.timeoutMs);
      }
      // Recorded here lately: its newest committed state is known (recent), no read needed.
      const known = this.recent.get(commandId);
      if (known) {
        onState(known);
        return;
      }
      this.get(commandId).then(
        (c) => {
          if (!c) {
            cleanup();
            reject(new NotFoundError(`command ${commandId} does not exist`));
          } else onState(c);
        },
        (err) => {
          cleanup();
          reject(err);
        },
      );
    });
  }

  /**
   * Emits 'commandState', wakes `waitFor` callers of that command and tells the other
   * processes, with the record (pending: the kiosk's holder sends it; settled: their waiters
   * get it). `sent` is not told: no process acts on it (the holder sends it itself, and no
   * waiter waits for sent), and each message costs a NOTIFY. `recorded`: `c` was just recorded
   * here (kept in `recent`).
   */
  private notify(c: CommandRecord, opts: { recorded?: boolean } = {}): void {
    if (opts.recorded || this.recent.has(c.id)) this.remember(c);
    const set = this.waiters.get(c.id);
    if (set) for (const w of [...set]) w(c);
    this.emit('commandState', c);
    if (c.state !== 'sent') this.deps.publish?.(c);
  }

  /**
   * Records the final outcome of a long-running command (Dispense, PrepareDisk, WipeDisk)
   * from inside a domain transaction `tx` (typically an event handler's). No-op for an
   * unknown command or one in a final state: an outcome that comes after the command expired
   * leaves it expired (the caller's domain still acts on the event itself). `'commandState'` is emitted
   * after `tx` commits, so that listeners never see a state that is later rolled back.
   * `opts.kioskId`: only a command of that kiosk (the one whose event reports the outcome).
   */
  async finish(
    tx: Tx,
    commandId: string,
    state: 'completed' | 'failed',
    opts: { result?: Record<string, unknown>; kioskId?: string } = {},
  ): Promise<CommandRecord | undefined> {
    const c = await tx.commands.get(commandId);
    if (!c || (opts.kioskId !== undefined && c.kioskId !== opts.kioskId)) return undefined;
    if (FINAL_STATES.includes(c.state)) {
      if (c.state !== state) {
        this.deps.logger.warn(
          { kioskId: c.kioskId, commandId, action: c.action, state: c.state, outcome: state },
          `late outcome ignored: command stays ${c.state}`,
        );
        const late = { commandId, kioskId: c.kioskId, action: c.action, answer: state };
        tx.afterCommit(() => this.emit('lateAnswer', late));
      }
      return c;
    }
    const at = isoTime(this.nowMs());
    const changed = await tx.commands.setState(commandId, state, at, opts.result ?? null);
    // Changed: the row as the UPDATE left it (result: coalesce(new, old)), not read again.
    const updated = changed
      ? { ...c, state, updatedAt: at, result: opts.result ?? c.result }
      : await tx.commands.get(commandId);
    if (updated) tx.afterCommit(() => this.notify(updated));
    return updated;
  }

  /** Sends every outstanding command of a kiosk on its (new) connection, oldest first. */
  async deliverOutstanding(channel: CommandChannel): Promise<void> {
    const list = await this.deps.store.read((r) => r.commands.listOutstanding(channel.kioskId));
    for (const c of list) void this.deliver(channel, c);
  }

  /**
   * Sends `cmd` on `channel` and records the answer. `marked`: `cmd` was recorded as sent in
   * the transaction that created it (record). Else it is sent at once, and its sent mark
   * (state sent, attempts + 1, last_sent_at) is written only if no answer came within
   * `sentMarkDelayMs`; an answer before then is recorded with the send in one UPDATE
   * (setAnswered): a command sent to a kiosk on another process, or on its Boot, costs one
   * statement on its holder instead of two, and no commit stands between the announcement
   * and the kiosk. Until its mark or its answer is written the row says what it said
   * (pending, or sent by an earlier send): if this process dies meanwhile, the command is
   * still outstanding and is sent again (same commandId) on the kiosk's next Boot, where the
   * kiosk's inbox answers a repeat from its record without doing it twice; `attempts` then
   * does not count the lost send (docs/postgres.md, "Durability"). A command another process
   * ended meanwhile may so be sent once more: the kiosk answers it from its inbox too, and
   * the answer changes nothing (only a pending or sent row is answered).
   */
  private async deliver(
    channel: CommandChannel,
    cmd: CommandRecord,
    opts: { marked?: boolean } = {},
  ): Promise<void> {
    if (this.stopped || !channel.ready || !channel.open || channel.inFlight.has(cmd.id)) return;
    channel.inFlight.add(cmd.id);
    const log = this.deps.logger;
    let retry = false;
    let markTimer: NodeJS.Timeout | undefined;
    try {
      // Recorded for features the kiosk no longer lists (it went back to older software since):
      // never sent, since it would refuse it; its signature covers every field, so none can be
      // left out now.
      const lacking = missingFeatures(cmd.action, cmd.payload, channel.features);
      if (lacking.length > 0) {
        await this.failUnsupported(cmd, lacking);
        return;
      }
      /** The sent mark, once due (unmarked sends whose answer is late). */
      let mark: Promise<void> | undefined;
      // Only an unmarked send has its time written (its mark, or with its answer).
      const sentAtIso = opts.marked ? '' : isoTime(this.nowMs());
      if (!opts.marked) {
        if (Date.parse(cmd.deadline) <= this.nowMs()) {
          await this.expireDue();
          return;
        }
        markTimer = setTimeout(() => {
          mark = this.markSent(cmd, sentAtIso).then((sent) => {
            if (sent) cmd = sent;
          });
        }, this.deps.sentMarkDelayMs ?? SENT_MARK_DELAY_MS);
      }
      let state: CommandState;
      let result: Record<string, unknown>;
      const sentAt = performance.now();
      try {
        const res = (await channel.call(
          cmd.action as HubToKioskAction,
          cmd.payload,
          this.deps.callTimeoutMs,
        )) as Record<string, unknown>;
        result = res;
        state =
          res.status === 'Rejected'
            ? 'rejected'
            : LONG_RUNNING_ACTIONS.has(cmd.action)
              ? 'accepted'
              : 'completed';
      } catch (err) {
        const e = err as { code?: string; errorCode?: string; details?: unknown; message: string };
        if (e.code === 'ECALLERROR' || e.code === 'EINVALID') {
          state = 'failed';
          result = {
            code: e.errorCode ?? 'InvalidResponse',
            description: e.message,
            details: e.details ?? {},
          };
        } else {
          log.info(
            { kioskId: cmd.kioskId, commandId: cmd.id, code: e.code },
            'command not answered; will re-send',
          );
          retry = e.code === 'ETIMEOUT';
          return;
        }
      } finally {
        clearTimeout(markTimer);
      }
      this.emit('roundTrip', {
        action: cmd.action,
        outcome: state,
        seconds: (performance.now() - sentAt) / 1000,
      });
      // The sent mark, if it was due, is written before the answer.
      if (mark) await mark;
      const unmarked = !opts.marked && mark === undefined;
      const doneAt = isoTime(this.nowMs());
      // One UPDATE whose WHERE decides (pending or sent), shared with the answers of the same
      // turn (AnswerBatch: on PostgreSQL one statement and one commit for all of them).
      const changed = await this.answers.record({
        id: cmd.id,
        state,
        at: doneAt,
        result,
        sentAt: unmarked ? sentAtIso : null,
      });
      // Answered after the command ended (its outcome event settled it, or it expired): the
      // send still happened, and the row counts it.
      if (!changed && unmarked)
        await this.deps.store.transaction((tx) => tx.commands.countSend(cmd.id, sentAtIso), {
          isolation: 'autocommit',
        });
      // Late only when the command expired (or is gone): one that changed nothing because its
      // outcome event (read in the same turn, committed first) had already ended it is not.
      if (!changed && (await this.endedUnanswered(cmd.id))) {
        const late = { commandId: cmd.id, kioskId: cmd.kioskId, action: cmd.action, answer: state };
        log.warn(late, 'late answer ignored: the command was no longer pending or sent');
        this.emit('lateAnswer', late);
      }
      const updated: CommandRecord | undefined = changed
        ? unmarked
          ? {
              ...cmd,
              state,
              result,
              updatedAt: doneAt,
              attempts: cmd.attempts + 1,
              lastSentAt: sentAtIso,
            }
          : { ...cmd, state, result, updatedAt: doneAt }
        : undefined;
      if (updated) {
        this.notify(updated);
        if (state === 'rejected' || state === 'failed') this.emit('ended', updated);
      }
    } catch (err) {
      if (!this.stopped) log.error({ err, commandId: cmd.id }, 'command delivery failed');
    } finally {
      clearTimeout(markTimer);
      channel.inFlight.delete(cmd.id);
      if (retry && channel.open && !this.stopped) void this.deliver(channel, cmd);
    }
  }

  /**
   * Writes the sent mark of `cmd`, sent at `at` (one UPDATE, autocommit): the command as
   * marked (announced here as 'commandState'), or undefined when it is no longer pending or
   * sent (or the write failed: logged).
   */
  private async markSent(cmd: CommandRecord, at: string): Promise<CommandRecord | undefined> {
    try {
      const ok = await this.deps.store.transaction((tx) => tx.commands.markSent(cmd.id, at), {
        isolation: 'autocommit',
      });
      if (!ok) return undefined;
      const sent: CommandRecord = {
        ...cmd,
        state: 'sent',
        attempts: cmd.attempts + 1,
        lastSentAt: at,
        updatedAt: at,
      };
      this.notify(sent);
      return sent;
    } catch (err) {
      if (!this.stopped)
        this.deps.logger.error({ err, commandId: cmd.id }, 'marking a command sent failed');
      return undefined;
    }
  }

  /**
   * An answer to a send not marked changed nothing: whether its command had ended without
   * this answer (expired, or gone: a late answer), rather than been answered already (a
   * command ended meanwhile and sent once more, which the kiosk answered from its inbox).
   */
  private async endedUnanswered(commandId: string): Promise<boolean> {
    const c = await this.get(commandId);
    return !c || c.state === 'expired';
  }

  /** Ends an outstanding command `failed` (KIOSK_LACKS_FEATURE) without sending it. */
  private async failUnsupported(cmd: CommandRecord, lacking: string[]): Promise<void> {
    const at = isoTime(this.nowMs());
    const result = {
      code: 'KIOSK_LACKS_FEATURE',
      description: `not sent: the kiosk's Boot no longer lists ${lacking.join(', ')}`,
      details: { features: lacking },
    };
    const changed = await this.deps.store.transaction(
      (tx) => tx.commands.setState(cmd.id, 'failed', at, result, ['pending', 'sent']),
      { isolation: 'autocommit' },
    );
    if (!changed) return;
    this.deps.logger.warn(
      { kioskId: cmd.kioskId, commandId: cmd.id, action: cmd.action, features: lacking },
      `${cmd.action} not sent: the kiosk no longer lists the feature`,
    );
    const failed: CommandRecord = { ...cmd, state: 'failed', result, updatedAt: at };
    this.notify(failed);
    this.emit('ended', failed);
  }

  /** Expires every outstanding command past its deadline. */
  async expireDue(): Promise<void> {
    if (this.stopped) return;
    try {
      const expired = await this.deps.store.transaction(
        (tx) => tx.commands.expireDue(isoTime(this.nowMs())),
        { isolation: 'autocommit' },
      );
      for (const c of expired) {
        this.deps.logger.warn(
          { kioskId: c.kioskId, commandId: c.id, action: c.action },
          'command expired',
        );
        this.notify(c);
        this.emit('ended', c);
      }
    } catch (err) {
      if (!this.stopped) this.deps.logger.error({ err }, 'expiring commands failed');
    }
  }
}
