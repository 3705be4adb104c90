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
import type { CommandResponse, PrepareDiskRequest } from '../../protocol/index.js';
import type { ContentCache } from '../content/content-cache.js';
import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from '../link/clock.js';
import type { Outbox } from '../link/outbox.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import { clip, diskIdFor, type SlotDiskLocator, slotDisks, upsertDisk } from './disk-records.js';
import type { ClonePipeline } from './pipeline.js';
import { ProgressThrottle } from './progress-throttle.js';
import { CloneError, DISK_FAULT_CODES } from './types.js';
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
  options?: {
    /** PrepareProgress at most this often, unless 5% more was done. Default 2000 ms. */
    progressIntervalMs?: number;
    progressStepPercent?: number;
    /** Restarts of an interrupted prepare before it is reported failed. Default 2. */
    maxRestarts?: number;
  };
}

/** A prepare that cannot go on; `code` goes into PrepareFailed. */
class PrepareError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Payload = Omit<PrepareDiskRequest, 'signature'>;

export class PrepareHandler {
  private readonly running = new Map<
    string,
    { abort: AbortController; done: Promise<void>; reservationId: string }
  >();
  /** Reservations cancelled by the hub while being prepared. */
  private readonly cancelled = new Set<string>();
  private stopped = false;

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
    const done = this.run(p, abort.signal)
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
    const { db, slots, clock, cache, log } = this.deps;
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
      // A disk already holding exactly this content: hold it, no copy needed.
      const same = slotDisks(db, ['ready']).find(
        (r) =>
          r.contentId === p.contentId &&
          r.contentVersion === p.contentVersion &&
          r.writeProtected === p.writeProtect &&
          r.health !== 'bad' &&
          (r.capacityBytes ?? 0) >= p.minCapacityBytes,
      );
      if (same?.diskId) {
        slot = same.slot;
        this.complete(p, same.slot, 'ready', same.diskId);
        return;
      }
      // The disk is taken first (so nothing else takes it while the content downloads).
      const pick = await this.choose(p.minCapacityBytes);
      if (!pick)
        throw new PrepareError(
          'ENODISK',
          `no healthy free disk of at least ${p.minCapacityBytes} bytes in this kiosk`,
        );
      slot = pick.slot;
      const now = clock.now().toISOString();
      slots.transition({
        slot: pick.slot,
        from: pick.state,
        to: 'preparing',
        reason: `preparing ${p.contentId}@${p.contentVersion} for reservation ${p.reservationId}`,
        set: { diskId: pick.diskId },
        also: (d) => {
          upsertDisk(d, {
            diskId: pick.diskId,
            slot: pick.slot,
            capacityBytes: pick.capacityBytes,
            content: null,
            writeProtected: false,
            now,
          });
          d.prepare(
            'UPDATE reservations SET slot = ?, updated_at = ? WHERE reservation_id = ?',
          ).run(pick.slot, now, p.reservationId);
          d.prepare('UPDATE prepare_jobs SET slot = ?, updated_at = ? WHERE command_id = ?').run(
            pick.slot,
            now,
            p.commandId,
          );
        },
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

  private checkDeadline(p: Payload): void {
    if (Date.parse(p.holdUntil) <= this.deps.clock.now().getTime()) {
      throw new PrepareError(
        'EEXPIRED',
        `the hold deadline ${p.holdUntil} passed before the disk was ready`,
      );
    }
  }

  /** Healthy, big enough, not reserved: `loaded` first, then `ready` with other content; smallest that fits. */
  private async choose(need: number) {
    const rows = slotDisks(this.deps.db, ['loaded', 'ready']).filter((r) => r.health !== 'bad');
    const found: {
      slot: number;
      state: 'loaded' | 'ready';
      diskId: string;
      device: string;
      capacityBytes: number;
    }[] = [];
    for (const r of rows) {
      const loc = await this.deps.locateDisk(r.slot).catch(() => undefined);
      if (!loc || loc.capacityBytes < need) continue;
      found.push({
        slot: r.slot,
        state: r.state as 'loaded' | 'ready',
        diskId: r.diskId ?? diskIdFor(loc.serial),
        device: loc.device,
        capacityBytes: loc.capacityBytes,
      });
    }
    found.sort((a, b) =>
      a.state === b.state ? a.capacityBytes - b.capacityBytes : a.state === 'loaded' ? -1 : 1,
    );
    return found[0];
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
