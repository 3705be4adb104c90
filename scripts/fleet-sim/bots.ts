/**
 * Renter bots: each plays one renter account against the hub's real HTTP API and, for the
 * physical part, the kiosks' board simulators (take a disk that comes out, push one back
 * in). They rent, reserve, pick up, cancel, let reservations expire, extend, return (at
 * the disk's home slot or at another kiosk's bay) and sometimes pay with a declining card.
 * Every random choice comes from the bot's own seeded stream. Requests are retried with
 * the same Idempotency-Key across hub restarts and network errors.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Json } from '../lib/api-client.js';
import type { Account } from '../lib/seed.js';
import { demoCard, SANDBOX_PAYMENT_METHODS as PM } from '../lib/seed.js';
import type { Prng } from './prng.js';
import type { SimKiosk, World } from './world.js';

/** Who holds which disk: the physical truth the orchestrator keeps (disk name -> holder). */
export interface Hands {
  /**
   * `orderId` is '' while unknown: a disk picked up with a code while the kiosk was offline
   * has no order at the hub until the kiosk's events arrive (then `reservationId` finds it).
   */
  held: Map<
    string,
    {
      bot: number;
      kioskId: string;
      slot: number;
      orderId: string;
      reservationId?: string;
      at: number;
    }
  >;
  /** Links the renters cut themselves (an offline pickup), for the alert check. */
  linkCuts?: Array<{ at: number; kioskId: string; ms: number }>;
  /** Every take and insert, in order. */
  log: Array<{
    at: number;
    bot: number;
    what: 'take' | 'insert';
    kioskId: string;
    slot: number;
    disk: string;
    orderId?: string;
    reservationId?: string;
  }>;
}

export type OpCounts = Record<string, { attempted: number; completed: number }>;

export interface BotDeps {
  world: World;
  hands: Hands;
  ops: OpCounts;
  /** True once no new operation may start. */
  stopping: () => boolean;
  /**
   * Renters take any disk sticking out of the slot their order named, even half-way out
   * after a jam or after their order failed (default: they follow the app and leave it).
   */
  grabLoose?: boolean;
  log: (line: string) => void;
  /** What a bot saw break a rule at the moment it happened (e.g. a limit let through). */
  violation?: (v: {
    invariant: string;
    message: string;
    ids: Record<string, string | number>;
  }) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `read` on kiosk database `dbPath` opened read-only; `otherwise` when it cannot be read. */
function readKiosk<T>(dbPath: string, otherwise: T, read: (db: Database.Database) => T): T {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    return read(db);
  } catch {
    return otherwise;
  } finally {
    db?.close();
  }
}

/** What kioskd records for `slot` (undefined when unreadable). */
const slotStateOf = (dbPath: string, slot: number): string | undefined =>
  readKiosk(dbPath, undefined, (db) => {
    const row = db.prepare('SELECT state FROM slots WHERE slot = ?').get(slot);
    return (row as { state: string } | undefined)?.state;
  });

/** Whether kiosk `dbPath` holds the armed pickup code of `reservationId`. */
const codeArmedAt = (dbPath: string, reservationId: string): boolean =>
  readKiosk(
    dbPath,
    false,
    (db) =>
      !!db
        .prepare("SELECT 1 FROM pickup_codes WHERE reservation_id = ? AND state = 'armed'")
        .get(reservationId),
  );

/**
 * Whether kiosk `dbPath` is pushing out the disk of `reservationId`'s pickup code now (its
 * Dispense waits for the renter): what the kiosk's screen would tell the renter.
 */
const pushedForCode = (dbPath: string, reservationId: string): boolean =>
  readKiosk(
    dbPath,
    false,
    (db) =>
      !!db
        .prepare(
          `SELECT 1 FROM pickup_codes c JOIN inbox i ON i.command_id = c.dispense_command_id
           WHERE c.reservation_id = ? AND i.state = 'executing' AND i.step = 'waiting-pickup'`,
        )
        .get(reservationId),
  );

export class RenterBot {
  /** The disk this renter holds (its rental id, '' when the hub opened none). */
  protected rental: { id: string; disk: string; extended: boolean } | undefined;
  /** The hub process this renter uses (index into world.hubs, mod their count): spread by bot. */
  private hubAt: number;

  constructor(
    readonly index: number,
    protected readonly account: Account,
    protected readonly rng: Prng,
    protected readonly deps: BotDeps,
  ) {
    this.hubAt = index - 1;
  }

  protected count(kind: string, done = false): void {
    this.deps.ops[kind] ??= { attempted: 0, completed: 0 };
    const c = this.deps.ops[kind];
    if (done) c.completed++;
    else c.attempted++;
  }

  /** Runs operations until stopping() turns true; returns disks still held to their homes. */
  async run(): Promise<void> {
    await sleep(this.rng.int(0, 2000));
    while (!this.deps.stopping()) {
      try {
        if (this.rental) {
          if (!this.rental.extended && this.rng.chance(0.25)) await this.extend();
          else await this.returnDisk();
        } else {
          const op = this.rng.weighted({ rent: 5, reserve: 3, idle: 1 });
          if (op === 'rent') await this.rent();
          else if (op === 'reserve') await this.reserve();
        }
      } catch (err) {
        this.count('errors');
        this.deps.log(`bot ${this.index}: ${(err as Error).message}`);
      }
      await sleep(this.rng.int(300, 2500));
    }
  }

  // ---- API helpers -------------------------------------------------------------------

  /** Retries on network errors and 5xx for up to `ms` (same request, same idempotency key). */
  protected async call(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
    ms = 30_000,
  ): Promise<{ status: number; body: Json }> {
    const deadline = Date.now() + ms;
    const hubs = this.deps.world.hubs;
    for (;;) {
      try {
        const r = await hubs[this.hubAt % hubs.length]!.api.call(method, url, body, {
          token: this.account.token,
          headers,
        });
        if (r.status < 500 || Date.now() > deadline) return r;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        // Its hub process is down (or unreachable): the renter tries the next one.
        this.hubAt++;
      }
      await sleep(400);
    }
  }

  protected async poll<T>(
    what: string,
    url: string,
    pick: (b: Json) => T | undefined,
    ms: number,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await this.call('GET', url).catch(() => undefined);
      if (r?.status === 200) {
        const v = pick(r.body);
        if (v !== undefined) return v;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }

  protected card() {
    return demoCard(this.rng.chance(0.1) ? PM.declines : PM.approves);
  }

  // ---- operations ----------------------------------------------------------------------

  private async rent(): Promise<void> {
    const k = this.rng.pick(this.deps.world.kiosks);
    const films = this.deps.world.diskTypes.find((d) => d.contentId === 'nature-films')!;
    const s = await this.call('POST', `/api/kiosks/${k.id}/session`);
    const t = s.body?.diskTypes?.find((d: Json) => d.id === films.id);
    if (s.status !== 200 || !s.body.canRent || !t || t.available < 1) return;
    const card = this.card();
    this.count(card.paymentMethod === PM.declines ? 'rent_declining_card' : 'rent');
    const since = Date.now();
    const r = await this.call(
      'POST',
      '/api/orders',
      { kioskId: k.id, diskTypeId: films.id, writeProtect: this.rng.chance(0.5), days: 1, card },
      { 'idempotency-key': randomUUID() },
    );
    if (card.paymentMethod === PM.declines) {
      if (r.status >= 400 && r.body?.error?.code === 'CARD_DECLINED')
        this.count('rent_declining_card', true);
      return;
    }
    if (r.status !== 201 && r.status !== 200) {
      // NO_DISK_AVAILABLE, KIOSK_OFFLINE, NOT_ALLOWED (an order of ours still in flight)...
      this.count(`rent_refused_${String(r.body?.error?.code ?? r.status).toLowerCase()}`);
      return;
    }
    if (await this.dispenseAndTake(k, r.body.order.id, since)) this.count('rent', true);
  }

  /** Follows an order to a slot, takes the disk (or walks away), waits for the outcome. */
  protected async dispenseAndTake(k: SimKiosk, orderId: string, since: number): Promise<boolean> {
    const o = await this.poll(
      `order ${orderId} to name a slot`,
      `/api/orders/${orderId}`,
      (b) =>
        b.order.slot !== undefined && b.order.slot !== null
          ? b.order
          : ['failed', 'cancelled'].includes(b.order.state)
            ? b.order
            : undefined,
      60_000,
    );
    if (o.slot === undefined || o.slot === null) return false;
    const slot = o.slot as number;
    if (this.rng.chance(0.05)) {
      this.count('walk_away');
      return false;
    }
    const sim = k.kiosk.sim;
    const deadline = Date.now() + 45_000;
    for (;;) {
      const s = sim.sensors(slot);
      if (s.present && !s.seated && (!s.motorFault || this.deps.grabLoose)) break;
      const cur = await this.call('GET', `/api/orders/${orderId}`).catch(() => undefined);
      if (cur?.status === 200 && ['failed', 'cancelled'].includes(cur.body.order.state))
        return false;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
    await sleep(this.rng.int(100, 1500));
    const s = sim.sensors(slot);
    if (!(s.present && !s.seated)) return false; // retracted meanwhile
    if (!this.deps.grabLoose) {
      if (s.motorFault) return false; // stuck half-way: a jam
      // Only a disk the renter saw come out after asking for it (not one left out before).
      if (!sim.record.some((e) => e.slot === slot && e.kind === 'eject' && e.startedAt >= since))
        return false;
      const now = await this.call('GET', `/api/orders/${orderId}`).catch(() => undefined);
      if (now?.status !== 200 || ['failed', 'cancelled'].includes(now.body.order.state))
        return false;
    }
    // Only what still sticks out can be grabbed: the kiosk may have pulled it back meanwhile.
    if (!sim.grabDisk(slot)) return false;
    const disk = k.diskAt.get(slot)!;
    this.deps.hands.held.set(disk, {
      bot: this.index,
      kioskId: k.id,
      slot,
      orderId,
      at: Date.now(),
    });
    this.deps.hands.log.push({
      at: Date.now(),
      bot: this.index,
      what: 'take',
      kioskId: k.id,
      slot,
      disk,
      orderId,
    });
    const done = await this.poll(
      `order ${orderId} to end`,
      `/api/orders/${orderId}`,
      (b) => (['completed', 'failed', 'cancelled'].includes(b.order.state) ? b.order : undefined),
      90_000,
    ).catch(() => undefined);
    // Whatever the hub says, the disk is in this renter's hands now.
    this.rental = { id: done?.rentalId ?? '', disk, extended: false };
    return done?.state === 'completed';
  }

  private async reserve(): Promise<void> {
    const k = this.rng.pick(this.deps.world.kiosks);
    const course = this.deps.world.diskTypes.find((d) => d.contentId === 'open-course')!;
    const card = this.card();
    const declining = card.paymentMethod === PM.declines;
    if (declining) this.count('reserve_declining_card');
    const r = await this.call(
      'POST',
      '/api/reservations',
      { kioskId: k.id, diskTypeId: course.id, writeProtect: true, days: 1, card },
      { 'idempotency-key': randomUUID() },
    );
    if (declining) {
      if (r.status >= 400 && r.body?.error?.code === 'CARD_DECLINED')
        this.count('reserve_declining_card', true);
      return;
    }
    if (r.status === 409 && r.body?.error?.code === 'NO_DISK_AVAILABLE') {
      // Nothing to prepare there (the renter page shows it): a person tries later.
      this.count('reserve_refused_no_disk');
      await sleep(this.rng.int(3000, 8000));
      return;
    }
    this.count('reserve');
    if (r.status !== 201 && r.status !== 200) return;
    const id = r.body.reservation.id as string;
    const end = await this.poll(
      `reservation ${id} to be ready`,
      `/api/reservations/${id}`,
      (b) => (b.reservation.state !== 'preparing' ? b.reservation : undefined),
      150_000,
    ).catch(() => undefined);
    if (!end) return;
    if (end.state !== 'ready') {
      this.count(`reservation_${end.state}`);
      await sleep(this.rng.int(4000, 10_000)); // a renter whose reservation failed waits a while
      return;
    }
    this.count('reserve', true);
    const choice = this.rng.weighted({ pickup: 4, offline_pickup: 6, cancel: 1, expire: 2 });
    if (choice === 'offline_pickup') {
      await this.offlinePickup(k, id);
    } else if (choice === 'cancel') {
      this.count('cancel_reservation');
      const c = await this.call('POST', `/api/reservations/${id}/cancel`);
      if (c.status === 200) this.count('cancel_reservation', true);
    } else if (choice === 'expire') {
      this.count('let_reservation_expire');
      const e = await this.poll(
        `reservation ${id} to expire`,
        `/api/reservations/${id}`,
        (b) => (b.reservation.state !== 'ready' ? b.reservation : undefined),
        120_000,
      ).catch(() => undefined);
      if (e?.state === 'expired') this.count('let_reservation_expire', true);
    } else {
      this.count('pickup');
      const since = Date.now();
      const p = await this.call('POST', `/api/reservations/${id}/pickup`, undefined, {
        'idempotency-key': randomUUID(),
      });
      if (p.status === 200 || p.status === 201) {
        if (await this.dispenseAndTake(k, p.body.order.id, since)) this.count('pickup', true);
      }
    }
  }

  /**
   * The kiosk's link drops as the renter arrives (the simulation cuts its proxy for 8-20 s):
   * the renter types the reservation's pickup code on the kiosk's keypad, takes the disk the
   * kiosk pushes out on its own, and later sees the hub settle the pickup (order, capture,
   * rental) once the kiosk's events are in (docs/pickup-codes.md).
   */
  private async offlinePickup(k: SimKiosk, id: string): Promise<void> {
    this.count('offline_pickup');
    const r = await this.poll(
      `reservation ${id} to show its pickup code`,
      `/api/reservations/${id}`,
      (b) =>
        b.reservation.pickupCode || b.reservation.state !== 'ready' ? b.reservation : undefined,
      10_000,
    ).catch(() => undefined);
    const code: string | undefined = r?.pickupCode;
    if (!code) {
      this.count('offline_pickup_no_code');
      return;
    }
    // The renter walks up once the kiosk holds the code (it gets it moments after ready).
    const deadline = Date.now() + 10_000;
    while (!codeArmedAt(k.dbPath, id)) {
      if (Date.now() > deadline) {
        this.count('offline_pickup_not_armed');
        return;
      }
      await sleep(200);
    }
    const cutMs = this.rng.int(8000, 20_000);
    k.proxy.cut(cutMs);
    this.deps.hands.linkCuts?.push({ at: Date.now(), kioskId: k.id, ms: cutMs });
    const slot = r.slot as number;
    const since = Date.now();
    // kioskd may be down (a fault): the keypad's socket is back with it.
    const typed = await this.typeCode(k, code);
    if (!typed) {
      this.count('offline_pickup_keypad_down');
      return;
    }
    const sim = k.kiosk.sim;
    const out = Date.now() + 20_000;
    for (;;) {
      const s = sim.sensors(slot);
      // Only the disk the kiosk pushed out for this code (not one out for another renter's order
      // after this reservation ended).
      if (
        s.present &&
        !s.seated &&
        !s.motorFault &&
        sim.record.some((e) => e.slot === slot && e.kind === 'eject' && e.startedAt >= since) &&
        pushedForCode(k.dbPath, id)
      )
        break;
      if (Date.now() > out) {
        // Refused (a hold that just ended, the slot taken out of service) or kioskd down.
        this.count('offline_pickup_nothing_out');
        return;
      }
      await sleep(100);
    }
    await sleep(this.rng.int(100, 1500));
    if (!sim.grabDisk(slot)) return; // retracted meanwhile
    const disk = k.diskAt.get(slot)!;
    const take = { bot: this.index, kioskId: k.id, slot, orderId: '', reservationId: id };
    this.deps.hands.held.set(disk, { ...take, at: Date.now() });
    const entry = { ...take, at: Date.now(), what: 'take' as const, disk };
    this.deps.hands.log.push(entry);
    this.count('offline_pickup', true);
    this.count('offline_pickup_settled');
    // The renter holds the disk whatever the hub says; the rental shows up once the link is back.
    this.rental = { id: '', disk, extended: false };
    const done = await this.poll(
      `reservation ${id} to be picked up at the hub`,
      `/api/reservations/${id}`,
      (b) => (b.reservation.orderId ? b.reservation : undefined),
      120_000,
    ).catch(() => undefined);
    if (!done?.orderId) return;
    entry.orderId = done.orderId;
    const held = this.deps.hands.held.get(disk);
    if (held?.reservationId === id) held.orderId = done.orderId;
    const o = await this.poll(
      `order ${done.orderId} to end`,
      `/api/orders/${done.orderId}`,
      (b) => (['completed', 'failed', 'cancelled'].includes(b.order.state) ? b.order : undefined),
      120_000,
    ).catch(() => undefined);
    if (o?.rentalId && this.rental?.disk === disk) this.rental.id = o.rentalId;
    if (o?.state === 'completed') this.count('offline_pickup_settled', true);
  }

  /** Types `code` on kiosk `k`'s keypad, retrying while kioskd is down (up to 15 s). */
  private async typeCode(k: SimKiosk, code: string): Promise<boolean> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await k.kiosk.typeOnKeypad(code);
        return true;
      } catch {
        if (Date.now() > deadline) return false;
        await sleep(500);
      }
    }
  }

  private async extend(): Promise<void> {
    const r = this.rental!;
    r.extended = true;
    if (!r.id) return;
    this.count('extend');
    const x = await this.call('POST', `/api/rentals/${r.id}/extend`, { days: 1 });
    if (x.status === 200) this.count('extend', true);
  }

  /** Pushes the held disk into a free slot wired to it (home or another kiosk's bay). */
  async returnDisk(): Promise<boolean> {
    const r = this.rental!;
    // Only a slot the kiosk takes returns into (it shows them): not a jammed or disabled one,
    // which may be physically empty after its disk was pulled out.
    const homes = this.deps.world
      .homesOf(r.disk)
      .filter(
        (h) =>
          !h.kiosk.kiosk.sim.sensors(h.slot).present &&
          slotStateOf(h.kiosk.dbPath, h.slot) === 'empty',
      );
    if (homes.length === 0) return false;
    const h = this.rng.pick(homes);
    const held = this.deps.hands.held.get(r.disk);
    const elsewhere = held?.kioskId !== h.kiosk.id;
    this.count(elsewhere ? 'return_elsewhere' : 'return');
    h.kiosk.kiosk.sim.insertDisk(h.slot);
    this.deps.hands.held.delete(r.disk);
    this.deps.hands.log.push({
      at: Date.now(),
      bot: this.index,
      what: 'insert',
      kioskId: h.kiosk.id,
      slot: h.slot,
      disk: r.disk,
    });
    this.rental = undefined;
    if (!r.id) return true;
    const back = await this.poll(
      `rental ${r.id} to be returned`,
      '/api/me/rentals',
      (b) => {
        const x = (b as Json[]).find((y) => y.id === r.id);
        return x && x.state !== 'open' && x.state !== 'overdue' ? x : undefined;
      },
      60_000,
    ).catch(() => undefined);
    if (back?.state === 'returned') this.count(elsewhere ? 'return_elsewhere' : 'return', true);
    return true;
  }
}
