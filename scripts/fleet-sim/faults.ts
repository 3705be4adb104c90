/**
 * Fault injection, every choice from the seed: SIGKILL + restart of a kioskd (sometimes
 * restarted with its clock far in the past), kill (SIGKILL or SIGTERM) + restart of
 * cloud-lite on the same database and port, cuts and stalls of a kiosk's link to the hub,
 * slot-board faults (jam, lost reply or ACK, corrupted reply, board reset, unplugged
 * serial adapter). `heal()` ends every open fault and brings every process back.
 *
 * Several hub processes (`--hubs N`, N > 1): `hub_kill` SIGKILLs one of them and restarts it
 * 2-8 s later (its kiosks move to another process by their URL lists, its renters retry on
 * another process, its leadership passes on); `hub_restart` then hits the first process.
 * One hub fault at a time, so one process is always up.
 *
 * Mid-dispense fault: a kioskd is SIGKILLed right after the hub sent it a Dispense (the
 * command sent or accepted in the last 2 s), kept down 2-15 s, restarted
 * (`kioskd_dies_mid_dispense`; the log entry names the order and the time down).
 *
 * Disk fault (directory disks only): while a kiosk prepares a disk, the disk's data
 * directory is removed under the copy (`disk_lost_mid_prepare`: the writes and the
 * read-back fail as on a disk whose file system vanished; the next format recreates it).
 *
 * Not injected (and why): SimDrives.setIoError lives inside the kioskd child with no
 * outside control; loop devices cannot be failed from outside here (no device-mapper, no
 * fail_make_request in this kernel); a slot's sensors (which the orchestrator owns) do not
 * move the simulated USB disk, so pulling a disk by its sensor would only desynchronise
 * the two simulators.
 */
import { rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { dirDiskDataDir } from '../../hal/drives/dir-disk.js';
import type { Prng } from './prng.js';
import type { SimKiosk, World } from './world.js';

export type FaultKind =
  | 'kioskd_sigkill'
  | 'kioskd_clock_past'
  | 'hub_restart'
  | 'net_cut'
  | 'net_stall'
  | 'board_jam'
  | 'board_lost_reply'
  | 'board_corrupt_reply'
  | 'board_reset'
  | 'board_unplug'
  | 'disk_lost_mid_prepare'
  | 'kioskd_dies_mid_dispense'
  | 'hub_kill';

const WEIGHTS: Record<FaultKind, number> = {
  kioskd_sigkill: 3,
  kioskd_clock_past: 1,
  hub_restart: 1.5,
  net_cut: 3,
  net_stall: 2,
  board_jam: 1.5,
  board_lost_reply: 2,
  board_corrupt_reply: 1,
  board_reset: 1,
  board_unplug: 1,
  disk_lost_mid_prepare: 2,
  kioskd_dies_mid_dispense: 2,
  // Several hub processes only (weight 0 with one): SIGKILL one, restart it 2-8 s later.
  hub_kill: 2,
};

/** A fault log entry: what, where, and for the checkers the order hit and the time down (or cut). */
export interface FaultLogEntry {
  at: number;
  kind: FaultKind;
  target: string;
  detail: string;
  orderId?: string;
  downMs?: number;
  /**
   * A hub process killed or restarted: when it answered again (start() resolved). A loaded
   * machine starts a hub in tens of seconds, well past `downMs`.
   */
  upAt?: number;
}

/** The clock of a kiosk restarted "far in the past" (as a Pi without RTC after a long power cut). */
export const CLOCK_PAST_MS = -3 * 365 * 24 * 3600 * 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultInjector {
  readonly counts: Partial<Record<FaultKind, number>> = {};
  readonly log: FaultLogEntry[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hubBusy = false;
  private readonly kioskBusy = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly rng: Prng,
    private readonly opts: { meanIntervalMs: number; say: (line: string) => void },
  ) {
    this.weights = { ...WEIGHTS, hub_kill: world.hubs.length > 1 ? WEIGHTS.hub_kill : 0 };
  }

  private readonly weights: Record<FaultKind, number>;

  start(): void {
    const next = () => {
      if (this.stopped) return;
      const wait = this.rng.int(this.opts.meanIntervalMs / 2, (this.opts.meanIntervalMs * 3) / 2);
      this.timer = setTimeout(() => {
        this.track(
          this.injectOne().catch((err) => this.opts.say(`fault failed: ${(err as Error).message}`)),
        );
        next();
      }, wait);
    };
    next();
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }

  private note(
    kind: FaultKind,
    target: string,
    detail: string,
    extra: Partial<Pick<FaultLogEntry, 'orderId' | 'downMs' | 'at'>> = {},
  ): FaultLogEntry {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    const entry: FaultLogEntry = { at: Date.now(), kind, target, detail, ...extra };
    this.log.push(entry);
    this.opts.say(`fault: ${kind} ${target} ${detail}`);
    return entry;
  }

  private async injectOne(): Promise<void> {
    const kind = this.rng.weighted(this.weights);
    const k = this.rng.pick(this.world.kiosks);
    const ms = this.rng.int(1000, 6000);
    const slot = this.rng.int(1, 4);
    switch (kind) {
      case 'kioskd_sigkill':
      case 'kioskd_clock_past': {
        if (this.kioskBusy.has(k.id) || !k.kiosk.running()) return;
        this.kioskBusy.add(k.id);
        try {
          await k.kiosk.kill('SIGKILL');
          this.note(kind, k.id, `down ${ms} ms`, { downMs: ms });
          await sleep(ms);
          if (kind === 'kioskd_clock_past') setClockOffset(k, CLOCK_PAST_MS);
          k.kiosk.respawn();
        } finally {
          this.kioskBusy.delete(k.id);
        }
        return;
      }
      case 'hub_restart': {
        if (this.hubBusy) return;
        this.hubBusy = true;
        try {
          const signal = this.rng.chance(0.6) ? 'SIGKILL' : 'SIGTERM';
          await this.world.hub.kill(signal);
          const entry = this.note(kind, 'cloud-lite', `${signal}, down ${ms} ms`, { downMs: ms });
          await sleep(ms);
          await this.world.hub.start();
          entry.upAt = Date.now();
        } finally {
          this.hubBusy = false;
        }
        return;
      }
      case 'hub_kill': {
        if (this.hubBusy || this.world.hubs.length < 2) return;
        this.hubBusy = true;
        try {
          const i = this.rng.int(0, this.world.hubs.length - 1);
          const h = this.world.hubs[i]!;
          const down = this.rng.int(2000, 8000);
          await h.kill('SIGKILL');
          const entry = this.note(kind, `hub ${i + 1}`, `SIGKILL, down ${down} ms`, {
            downMs: down,
          });
          await sleep(down);
          await h.start(120_000);
          entry.upAt = Date.now();
        } finally {
          this.hubBusy = false;
        }
        return;
      }
      case 'net_cut':
        k.proxy.cut(ms);
        this.note(kind, k.id, `${ms} ms`, { downMs: ms });
        return;
      case 'net_stall':
        k.proxy.stall(ms);
        this.note(kind, k.id, `${ms} ms`, { downMs: ms });
        return;
      case 'board_jam':
        k.kiosk.sim.injectJam(slot, this.rng.chance(0.7) ? 'jam' : 'motor-fault');
        this.note(kind, k.id, `slot ${slot} (next motion)`);
        return;
      case 'board_lost_reply': {
        const what = this.rng.chance(0.5) ? 'reply' : 'ack';
        k.kiosk.sim.dropNext(what);
        this.note(kind, k.id, `next ${what}`);
        return;
      }
      case 'board_corrupt_reply':
        k.kiosk.sim.corruptNext(this.rng.chance(0.5) ? 'reply' : 'ack');
        this.note(kind, k.id, 'next reply/ack CRC flipped');
        return;
      case 'board_reset':
        k.kiosk.sim.resetBoard();
        this.note(kind, k.id, 'watchdog reset');
        return;
      case 'disk_lost_mid_prepare': {
        // Armed for up to 15 s: strikes the first kiosk seen preparing a directory disk.
        const until = Date.now() + 15_000;
        while (Date.now() < until && !this.stopped) {
          for (const c of this.world.kiosks) {
            const slot = preparingSlots(c)[0];
            const disk = slot === undefined ? undefined : c.plan.find((p) => p.slot === slot)?.disk;
            if (disk?.backing !== 'directory') continue;
            await rm(dirDiskDataDir(disk.device), { recursive: true, force: true });
            this.note(kind, c.id, `slot ${slot} (${disk.name}): data directory removed`);
            return;
          }
          await sleep(30);
        }
        return;
      }
      case 'kioskd_dies_mid_dispense': {
        // Armed for up to 15 s: SIGKILLs the first kioskd seen running a Dispense the hub just
        // sent (sent or accepted within the last 2 s), down 2-15 s: long enough, often, for
        // the hub to tell the renter `kiosk_unreachable` before kioskd settles it by sensor.
        if (this.hubBusy) return;
        const hit = await this.freshDispense(Date.now() + 15_000);
        if (!hit || this.kioskBusy.has(hit.k.id) || !hit.k.kiosk.running()) return;
        this.kioskBusy.add(hit.k.id);
        try {
          const at = Date.now();
          await hit.k.kiosk.kill('SIGKILL');
          const down = this.rng.int(2000, 15_000);
          this.note(
            kind,
            hit.k.id,
            `order ${hit.orderId} (Dispense ${hit.state}), down ${down} ms`,
            {
              at,
              orderId: hit.orderId,
              downMs: down,
            },
          );
          await sleep(down);
          hit.k.kiosk.respawn();
        } finally {
          this.kioskBusy.delete(hit.k.id);
        }
        return;
      }
      case 'board_unplug': {
        if (this.kioskBusy.has(k.id)) return;
        this.kioskBusy.add(k.id);
        try {
          await k.kiosk.board.unplug();
          this.note(kind, k.id, `${ms} ms`);
          await sleep(ms);
          await k.kiosk.board.replug();
        } finally {
          this.kioskBusy.delete(k.id);
        }
        return;
      }
    }
  }

  /**
   * Watches the hub's database (read-only) until `until` for a Dispense sent or accepted in
   * the last 2 s to a kiosk that is up and not already faulted; undefined when none came.
   */
  private async freshDispense(
    until: number,
  ): Promise<{ k: SimKiosk; orderId: string; state: string } | undefined> {
    while (Date.now() < until && !this.stopped) {
      let rows: Array<{ kiosk_id: string; payload: unknown; state: string }> = [];
      try {
        rows = (await this.world.db.all(
          "SELECT kiosk_id, payload, state FROM commands WHERE action = 'Dispense' AND state IN ('sent', 'accepted') AND updated_at >= ? ORDER BY updated_at DESC",
          new Date(Date.now() - 2000).toISOString(),
        )) as typeof rows;
      } catch {
        rows = []; // the hub is restarting or busy: look again
      }
      for (const r of rows) {
        const k = this.world.kiosks.find((x) => x.id === r.kiosk_id);
        const payload = typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload;
        const orderId = (payload as { orderId?: string }).orderId;
        if (k && orderId && k.kiosk.running() && !this.kioskBusy.has(k.id))
          return { k, orderId, state: r.state };
      }
      await sleep(30);
    }
    return undefined;
  }

  /** True while a fault has this kiosk ('cloud-lite' for the hub) down on purpose. */
  owns(target: string): boolean {
    return target === 'cloud-lite' ? this.hubBusy : this.kioskBusy.has(target);
  }

  /** Stops injecting, waits for running faults to end, heals links, restarts what is down. */
  async heal(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.pending]);
    for (const k of this.world.kiosks) k.proxy.heal();
    for (const h of this.world.hubs) if (!h.running()) await h.start(120_000);
    for (const k of this.world.kiosks) if (!k.kiosk.running()) k.kiosk.respawn();
  }
}

/** Slots kioskd records as `preparing` (read-only; empty when the database is busy). */
function preparingSlots(k: SimKiosk): number[] {
  try {
    const db = new Database(k.dbPath, { readonly: true, fileMustExist: true });
    try {
      return (
        db.prepare("SELECT slot FROM slots WHERE state = 'preparing'").all() as Array<{
          slot: number;
        }>
      ).map((r) => r.slot);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

/** Writes the kiosk's persisted hub-clock offset (kioskd is down): its clock starts there. */
function setClockOffset(k: SimKiosk, offsetMs: number): void {
  const db = new Database(k.dbPath);
  try {
    db.prepare('UPDATE identity SET clock_offset_ms = ?, clock_synced_at = NULL WHERE id = 1').run(
      offsetMs,
    );
  } finally {
    db.close();
  }
}
