/**
 * The `PrepareDisk` command handler (the patent's 5th instruction): fetch the content
 * if missing, choose a disk, clone it, hold it as `reserved` for the reservation, and
 * report PrepareProgress (throttled) then PrepareCompleted or PrepareFailed. Every slot
 * change commits with its events and the reservation row in one transaction.
 *
 * Idempotent by commandId (a `prepare_jobs` row; a repeat answers `Accepted` and does
 * nothing more). recover() on start puts slots its jobs left in `preparing` back to `loaded`
 * (their disks are never offered as ready until a full prepare succeeds) and restarts
 * unfinished prepares before their hold deadline, or reports them failed.
 */
import { CodedError } from '../../common/coded-error.js';
import type { CommandResponse, PrepareDiskRequest } from '../../protocol/index.js';
import type { ContentCache } from '../content/content-cache.js';
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import { StaleStateError } from '../slots/errors.js';
import type { SlotStore } from '../slots/slot-store.js';
import { SLOT_STATES, type SlotStateName } from '../slots/transitions.js';
import type { TimeSource } from '../state/clock.js';
import type { Outbox } from '../state/outbox.js';
import {
  clip,
  type SlotDiskLocator,
  type SlotDiskRow,
  slotDisks,
  upsertDisk,
} from './disk-records.js';
import type { ClonePipeline } from './pipeline.js';
import { ProgressThrottle } from './progress-throttle.js';
import { readyWithContent, recordReadyReformat } from './ready-reformats.js';
import { CloneError, DISK_FAULT_CODES, type JobLock, withJobLock } from './types.js';
import { prepareClaimedSlots } from './wipe-jobs.js';

export interface PrepareHandlerDeps {
  db: KioskDb;
  slots: SlotStore;
  outbox: Outbox;
  clock: TimeSource;
  log: KioskLogger;
  cache: Pick<ContentCache, 'ensure' | 'complete' | 'pin' | 'unpin'>;
  pipeline: Pick<ClonePipeline, 'run'>;
  locateDisk: SlotDiskLocator;
  /** The update lock, held while a prepare runs (it waits while an update owns it). */
  updateLock?: JobLock;
  /**
   * Sets a disk's write protection as ordered (read-only flag and the slot's relay), for a
   * ready disk held without a copy (the clone does it otherwise). Failures are logged: the
   * Dispense sets the relay again.
   */
  protect?: (slot: number, device: string, on: boolean) => Promise<void>;
  options?: {
    /** PrepareProgress at most this often, unless 5% more was done. Default 2000 ms. */
    progressIntervalMs?: number;
    progressStepPercent?: number;
    /** Restarts of an interrupted prepare before it is reported failed. Default 2. */
    maxRestarts?: number;
  };
}

/** A prepare that cannot go on; `code` goes into PrepareFailed. */
class PrepareError extends CodedError {}

type Payload = Omit<PrepareDiskRequest, 'signature'>;

/** The slot a prepare took: `hold` a disk that already has the content, or `prepare` one. */
type Claim = { kind: 'hold' | 'prepare'; slot: number; diskId: string };

export class PrepareHandler {
  private readonly running = new Map<
    string,
    { abort: AbortController; done: Promise<void>; reservationId: string }
  >();
  /** Reservations cancelled by the hub while being prepared. */
  private readonly cancelled = new Set<string>();
  private stopped = false;
  /** Claims of prepares without a named slot, one at a time. */
  private claiming: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PrepareHandlerDeps) {}

  /**
   * Accepts a PrepareDisk (signature already checked by the command gate) and starts
   * the work in the background. Answers at once; never throws for a bad disk or content
   * (those are PrepareFailed events). Rejected only for a reservation id already used by
   * another command.
   */
  handle(payload: PrepareDiskRequest): Promise<CommandResponse> {
    const { db, clock } = this.deps;
    const { signature: _s, ...p } = payload;
    const now = clock.now().toISOString();
    const verdict = db.transaction((): CommandResponse | 'start' => {
      const job = db
        .prepare('SELECT command_id FROM prepare_jobs WHERE command_id = ?')
        .get(p.commandId);
      if (job) return { status: 'Accepted' };
      const res = db
        .prepare('SELECT command_id FROM reservations WHERE reservation_id = ?')
        .get(p.reservationId) as { command_id: string } | undefined;
      if (res)
        return {
          status: 'Rejected',
          reason: `reservation ${p.reservationId} is already being prepared by another command`,
        };
      db.prepare(
        `INSERT INTO reservations (reservation_id, command_id, slot, content_id, content_version, write_protect, hold_until, state, created_at, updated_at)
         VALUES (?, ?, NULL, ?, ?, ?, ?, 'preparing', ?, ?)`,
      ).run(
        p.reservationId,
        p.commandId,
        p.contentId,
        p.contentVersion,
        p.writeProtect ? 1 : 0,
        p.holdUntil,
        now,
        now,
      );
      db.prepare(
        `INSERT INTO prepare_jobs (command_id, reservation_id, payload, state, created_at, updated_at)
         VALUES (?, ?, ?, 'running', ?, ?)`,
      ).run(p.commandId, p.reservationId, JSON.stringify(p), now, now);
      return 'start';
    })();
    if (verdict !== 'start') return Promise.resolve(verdict);
    this.start(p);
    return Promise.resolve({ status: 'Accepted' });
  }

  /**
   * Call once at start, after DiskCheckService.recover() and before handle(): slots an
   * interrupted prepare left in `preparing` go back to `loaded` (the clone reformats them),
   * unfinished prepares restart (before their deadline, within maxRestarts) or fail.
   */
  async recover(): Promise<void> {
    const { db, slots, clock, log } = this.deps;
    // Only the slots a running PrepareDisk job claims: a slot left `preparing` by a check,
    // a wipe or pre-staging is DiskCheckService.recover()'s (it resumes the wipe).
    const claimed = prepareClaimedSlots(db);
    for (const s of slots.list().filter((x) => x.state === 'preparing' && claimed.has(x.slot))) {
      slots.transition({
        slot: s.slot,
        from: 'preparing',
        to: 'loaded',
        reason: 'preparation interrupted by a restart; the disk must be prepared again',
        also: (d) => {
          if (s.diskId)
            upsertDisk(d, {
              diskId: s.diskId,
              slot: s.slot,
              content: null,
              now: clock.now().toISOString(),
            });
        },
      });
    }
    const jobs = db
      .prepare("SELECT payload, attempts FROM prepare_jobs WHERE state = 'running'")
      .all() as {
      payload: string;
      attempts: number;
    }[];
    for (const j of jobs) {
      const p = JSON.parse(j.payload) as Payload;
      if (this.running.has(p.commandId)) continue;
      const expired = Date.parse(p.holdUntil) <= clock.now().getTime();
      const tooMany = j.attempts > (this.deps.options?.maxRestarts ?? 2);
      if (expired || tooMany) {
        this.finishFailed(
          p,
          undefined,
          expired ? 'EEXPIRED' : 'EINTERRUPTED',
          expired
            ? 'the kiosk restarted during preparation and the hold deadline has passed'
            : 'preparation was interrupted by restarts too many times',
        );
        continue;
      }
      db.prepare(
        'UPDATE prepare_jobs SET attempts = attempts + 1, slot = NULL, updated_at = ? WHERE command_id = ?',
      ).run(clock.now().toISOString(), p.commandId);
      db.prepare(
        "UPDATE reservations SET slot = NULL, updated_at = ? WHERE reservation_id = ? AND state = 'preparing'",
      ).run(clock.now().toISOString(), p.reservationId);
      log.info(
        { commandId: p.commandId, reservationId: p.reservationId },
        'restarting an interrupted prepare',
      );
      this.start(p);
    }
  }

  /**
   * CancelReservation of a reservation still being prepared: aborts its download or clone
   * (AbortSignal); it ends as PrepareFailed `ECANCELLED`, its slot back to `loaded`, and
   * the reservation row keeps the `cancelled` state the caller recorded. Returns the
   * running prepare's completion, or undefined when none runs for `reservationId`.
   */
  cancel(reservationId: string): Promise<void> | undefined {
    for (const r of this.running.values()) {
      if (r.reservationId !== reservationId) continue;
      this.cancelled.add(reservationId);
      r.abort.abort();
      return r.done;
    }
    return undefined;
  }

  /** Resolves when no prepare is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0)
      await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Cancels running prepares (they end as PrepareFailed EABORTED... unless stop is a shutdown: then left `running` for recover()). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.running.values()) r.abort.abort();
    await this.idle();
  }

  private start(p: Payload): void {
    const abort = new AbortController();
    const done = withJobLock(
      this.deps.updateLock,
      `prepare ${p.reservationId}`.slice(0, 64),
      () => this.run(p, abort.signal),
      abort.signal,
    )
      .catch((err: unknown) =>
        this.deps.log.error({ err, commandId: p.commandId }, 'prepare crashed'),
      )
      .finally(() => {
        this.running.delete(p.commandId);
        this.cancelled.delete(p.reservationId);
      });
    this.running.set(p.commandId, { abort, done, reservationId: p.reservationId });
  }

  private async run(p: Payload, signal: AbortSignal): Promise<void> {
    const { db, clock, cache, log } = this.deps;
    const throttle = new ProgressThrottle(
      this.deps.options?.progressIntervalMs,
      this.deps.options?.progressStepPercent,
    );
    let slot: number | undefined;
    const progress = (
      step: 'fetching' | 'formatting' | 'copying' | 'flushing' | 'verifying' | 'configuring',
      x: {
        bytesDone: number;
        bytesTotal: number;
        filesDone: number;
        filesTotal: number;
        rateBps?: number;
        etaSeconds?: number;
      },
    ) => {
      if (!throttle.pass(step, x.bytesDone, x.bytesTotal)) return;
      this.deps.outbox.append('PrepareProgress', {
        commandId: p.commandId,
        reservationId: p.reservationId,
        slot: slot as number,
        step,
        bytesDone: x.bytesDone,
        bytesTotal: x.bytesTotal,
        filesDone: x.filesDone,
        filesTotal: x.filesTotal,
        rateBps: x.rateBps ?? 0,
        etaSeconds: x.etaSeconds ?? 0,
      });
    };
    cache.pin(p.contentId, p.contentVersion, p.reservationId);
    try {
      // A named slot is taken before the first await (inside handle()), so nothing else on
      // this kiosk (pre-staging, another prepare) takes it meanwhile.
      const claim = p.slot !== undefined ? this.claimNamed(p, p.slot) : await this.claimChosen(p);
      slot = claim.slot;
      if (claim.kind === 'hold') {
        // The disk already holds exactly this content: hold it, nothing is copied.
        this.complete(p, claim.slot, 'ready', claim.diskId);
        await this.protectHeld(p, claim.slot);
        return;
      }
      const loc = await this.deps.locateDisk(claim.slot).catch(() => undefined);
      if (!loc)
        throw new PrepareError(
          'ENODEVICE',
          `no block device found for the disk in slot ${claim.slot}`,
        );
      if (loc.capacityBytes < p.minCapacityBytes)
        throw new PrepareError(
          'ETOOSMALL',
          `the disk in slot ${claim.slot} has ${loc.capacityBytes} bytes, less than ${p.minCapacityBytes}`,
        );
      const pick = { ...claim, device: loc.device, capacityBytes: loc.capacityBytes };
      upsertDisk(db, {
        diskId: pick.diskId,
        slot: pick.slot,
        capacityBytes: pick.capacityBytes,
        now: clock.now().toISOString(),
      });
      const manifest =
        cache.complete(p.contentId, p.contentVersion) ??
        (await cache.ensure(p.contentId, p.contentVersion, {
          manifestUrl: p.manifestUrl,
          signal,
          onProgress: (x) => progress('fetching', x),
        }));
      this.checkDeadline(p);
      await this.deps.pipeline.run({
        slot: pick.slot,
        device: pick.device,
        diskId: pick.diskId,
        capacityBytes: pick.capacityBytes,
        manifest,
        writeProtect: p.writeProtect,
        signal,
        onProgress: (x) => {
          if (x.step !== 'done') progress(x.step, x);
        },
      });
      this.checkDeadline(p);
      this.complete(p, pick.slot, 'preparing', pick.diskId);
    } catch (err) {
      if (this.stopped && signal.aborted) {
        log.info({ commandId: p.commandId }, 'prepare stopped by shutdown; recover() restarts it');
        return;
      }
      const code = this.cancelled.has(p.reservationId)
        ? 'ECANCELLED'
        : err instanceof PrepareError
          ? err.code
          : ((err as { code?: string }).code ?? 'EINTERNAL');
      log.warn(
        { commandId: p.commandId, slot, code, err: (err as Error).message },
        'prepare failed',
      );
      this.finishFailed(
        p,
        slot,
        code,
        (err as Error).message,
        code !== 'ECANCELLED' && err instanceof CloneError && DISK_FAULT_CODES.includes(err.code),
      );
    } finally {
      cache.unpin(p.reservationId, p.contentId, p.contentVersion);
    }
  }

  /** A held disk gets the reservation's write protection (see deps.protect). Never throws. */
  private async protectHeld(p: Payload, slot: number): Promise<void> {
    if (!this.deps.protect) return;
    try {
      const loc = await this.deps.locateDisk(slot);
      if (loc) await this.deps.protect(slot, loc.device, p.writeProtect);
    } catch (err) {
      this.deps.log.warn(
        { slot, reservationId: p.reservationId, err: (err as Error).message },
        'write protection of a held disk not set; the Dispense sets the relay',
      );
    }
  }

  private checkDeadline(p: Payload): void {
    if (Date.parse(p.holdUntil) <= this.deps.clock.now().getTime()) {
      throw new PrepareError(
        'EEXPIRED',
        `the hold deadline ${p.holdUntil} passed before the disk was ready`,
      );
    }
  }

  /** Whether a disk row holds exactly the reserved content, healthy and big enough. */
  private holds(r: SlotDiskRow, p: Payload): boolean {
    return (
      r.contentId === p.contentId &&
      r.contentVersion === p.contentVersion &&
      r.health !== 'bad' &&
      r.diskId !== null &&
      (r.capacityBytes ?? 0) >= p.minCapacityBytes
    );
  }

  /**
   * The slot the hub named (PrepareDisk `slot`), taken synchronously: `hold` when it is ready
   * with exactly this content; `loaded` -> preparing; `ready` with other content -> preparing
   * only with the hub's `reformatReady` and while `keepReady` other ready disks of that
   * content stay ready. Anything else throws ESLOTBUSY / ESTOCK: never another slot, which
   * the hub may have promised to someone else.
   */
  private claimNamed(p: Payload, slot: number): Claim {
    const r = slotDisks(this.deps.db, SLOT_STATES).find((x) => x.slot === slot);
    if (!r) throw new PrepareError('ESLOTBUSY', `slot ${slot} does not exist on this kiosk`);
    if (r.state === 'ready' && this.holds(r, p))
      return { kind: 'hold', slot, diskId: r.diskId as string };
    if ((r.state !== 'loaded' && r.state !== 'ready') || !r.diskId || r.health === 'bad')
      throw new PrepareError(
        'ESLOTBUSY',
        `slot ${slot} is ${r.state}${r.health === 'bad' ? ' with a disk that failed a check' : ''}${r.diskId ? '' : ' without a known disk'}; it cannot be prepared for reservation ${p.reservationId}`,
      );
    // A ready disk of unknown content sells nothing: no stock is lost by preparing it.
    if (r.state === 'ready' && r.contentId) this.assertMayReformat(p, r);
    return this.take(p, r);
  }

  /**
   * Refuses (ESTOCK) to reformat the ready disk `r` unless the hub allowed it for this
   * reservation and `keepReady` other ready disks with its content stay ready.
   */
  private assertMayReformat(p: Payload, r: SlotDiskRow): void {
    const what = r.contentId ? `${r.contentId}@${r.contentVersion}` : 'unknown content';
    if (r.contentId === p.contentId && r.contentVersion === p.contentVersion)
      throw new PrepareError(
        'ESLOTBUSY',
        `slot ${r.slot} already holds ${what} but cannot serve reservation ${p.reservationId} (too small or unhealthy)`,
      );
    if (!p.reformatReady)
      throw new PrepareError(
        'ESTOCK',
        `slot ${r.slot} holds ready stock (${what}); the hub did not allow reformatting ready stock for reservation ${p.reservationId}`,
      );
    if (!r.contentId || !r.contentVersion) return;
    const left = readyWithContent(
      this.deps.db,
      { contentId: r.contentId, version: r.contentVersion },
      r.slot,
    );
    if (left < p.reformatReady.keepReady)
      throw new PrepareError(
        'ESTOCK',
        `slot ${r.slot} holds ready ${what}; only ${left} other ready disk(s) of it would stay, the hub asks to keep ${p.reformatReady.keepReady}`,
      );
  }

  /** `r`'s slot (loaded, or ready when allowed) -> preparing for `p`, with its rows. */
  private take(p: Payload, r: SlotDiskRow): Claim {
    const now = this.deps.clock.now().toISOString();
    const diskId = r.diskId as string;
    this.deps.slots.transition({
      slot: r.slot,
      from: r.state,
      to: 'preparing',
      reason: `preparing ${p.contentId}@${p.contentVersion} for reservation ${p.reservationId}`,
      set: { diskId },
      also: (d) => {
        if (r.state === 'ready')
          recordReadyReformat(d, {
            slot: r.slot,
            cause: 'reservation',
            to: { contentId: p.contentId, version: p.contentVersion },
            commandId: p.commandId,
            reservationId: p.reservationId,
            keepReady: p.reformatReady?.keepReady,
            now,
          });
        upsertDisk(d, { diskId, slot: r.slot, content: null, writeProtected: false, now });
        d.prepare('UPDATE reservations SET slot = ?, updated_at = ? WHERE reservation_id = ?').run(
          r.slot,
          now,
          p.reservationId,
        );
        d.prepare('UPDATE prepare_jobs SET slot = ?, updated_at = ? WHERE command_id = ?').run(
          r.slot,
          now,
          p.commandId,
        );
      },
    });
    return { kind: 'prepare', slot: r.slot, diskId };
  }

  /**
   * No slot named (an older hub): the kiosk chooses by the same rule, one claim at a time:
   * a ready disk with this content (held), else the smallest healthy loaded disk that fits,
   * else (only with `reformatReady`) a ready disk of other content whose stock allows it.
   */
  private claimChosen(p: Payload): Promise<Claim> {
    const run = this.claiming.then(async () => {
      for (let attempt = 1; ; attempt++) {
        const same = slotDisks(this.deps.db, ['ready']).find((r) => this.holds(r, p));
        if (same) return { kind: 'hold' as const, slot: same.slot, diskId: same.diskId as string };
        const fits = await this.fitting(['loaded', 'ready'], p.minCapacityBytes);
        // Loaded disks, and ready ones of unknown content (they sell nothing).
        const free = fits.filter((r) => r.state === 'loaded' || !r.contentId);
        const ready = p.reformatReady
          ? fits.filter((r) => {
              if (r.state !== 'ready' || !r.contentId) return false;
              try {
                this.assertMayReformat(p, r);
                return true;
              } catch {
                return false;
              }
            })
          : [];
        const pick = free[0] ?? ready[0];
        if (!pick)
          throw new PrepareError(
            'ENODISK',
            `no healthy free disk of at least ${p.minCapacityBytes} bytes in this kiosk`,
          );
        try {
          return this.take(p, pick);
        } catch (err) {
          // Taken meanwhile (pre-staging): choose again.
          if (!(err instanceof StaleStateError) || attempt >= 3) throw err;
        }
      }
    });
    this.claiming = run.catch(() => undefined);
    return run;
  }

  /** Healthy disks with a known id in `states` whose located size fits, smallest first. */
  private async fitting(states: SlotStateName[], need: number): Promise<SlotDiskRow[]> {
    const rows = slotDisks(this.deps.db, states).filter((r) => r.health !== 'bad' && r.diskId);
    const found: { row: SlotDiskRow; size: number }[] = [];
    for (const r of rows) {
      const loc = await this.deps.locateDisk(r.slot).catch(() => undefined);
      if (loc && loc.capacityBytes >= need) found.push({ row: r, size: loc.capacityBytes });
    }
    return found.sort((a, b) => a.size - b.size).map((f) => f.row);
  }

  private complete(p: Payload, slot: number, from: 'ready' | 'preparing', diskId: string): void {
    const now = this.deps.clock.now().toISOString();
    this.deps.slots.transition({
      slot,
      from,
      to: 'reserved',
      reason: `held for reservation ${p.reservationId} until ${p.holdUntil}`,
      set: { diskId, reservationId: p.reservationId, writeProtect: p.writeProtect },
      events: [
        {
          type: 'PrepareCompleted',
          data: {
            commandId: p.commandId,
            reservationId: p.reservationId,
            slot,
            diskId,
            contentId: p.contentId,
            contentVersion: p.contentVersion,
            holdUntil: p.holdUntil,
          },
        },
      ],
      also: (d) => {
        upsertDisk(d, {
          diskId,
          slot,
          content: { contentId: p.contentId, version: p.contentVersion },
          writeProtected: p.writeProtect,
          health: 'good',
          now,
        });
        d.prepare(
          "UPDATE reservations SET slot = ?, state = 'held', updated_at = ? WHERE reservation_id = ?",
        ).run(slot, now, p.reservationId);
        d.prepare(
          "UPDATE prepare_jobs SET state = 'completed', slot = ?, updated_at = ? WHERE command_id = ?",
        ).run(slot, now, p.commandId);
      },
    });
  }

  /** PrepareFailed with the reservation and job rows; a slot in `preparing` goes to `loaded` or `fault`. */
  private finishFailed(
    p: Payload,
    slot: number | undefined,
    code: string,
    reason: string,
    diskFault = false,
  ): void {
    const { db, slots, outbox, clock } = this.deps;
    const now = clock.now().toISOString();
    const event = {
      type: 'PrepareFailed' as const,
      data: {
        commandId: p.commandId,
        reservationId: p.reservationId,
        ...(slot !== undefined ? { slot } : {}),
        code,
        reason: clip(reason),
      },
    };
    const rows = (d: KioskDb) => {
      d.prepare(
        "UPDATE reservations SET state = 'failed', updated_at = ? WHERE reservation_id = ? AND state <> 'cancelled'",
      ).run(now, p.reservationId);
      d.prepare(
        "UPDATE prepare_jobs SET state = 'failed', updated_at = ? WHERE command_id = ?",
      ).run(now, p.commandId);
    };
    const cur = slot !== undefined ? slots.get(slot) : undefined;
    if (cur && cur.state === 'preparing') {
      slots.transition({
        slot: cur.slot,
        from: 'preparing',
        to: diskFault ? 'fault' : 'loaded',
        reason: clip(`prepare failed (${code}): ${reason}`),
        ...(diskFault ? { set: { fault: { code, message: clip(reason) } } } : {}),
        events: [event],
        also: (d) => {
          rows(d);
          if (cur.diskId)
            upsertDisk(d, {
              diskId: cur.diskId,
              slot: cur.slot,
              content: null,
              ...(diskFault ? { health: 'bad' as const } : {}),
              now,
            });
        },
      });
      return;
    }
    db.transaction(() => {
      outbox.append(event.type, event.data);
      rows(db);
    })();
  }
}

export function createPrepareHandler(deps: PrepareHandlerDeps): PrepareHandler {
  return new PrepareHandler(deps);
}
