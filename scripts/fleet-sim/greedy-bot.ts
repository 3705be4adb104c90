/**
 * The greedy renter: a renter bot that plays the system for free stock instead of renting.
 * Each round it picks one move from GREEDY_MOVES by weight (its own seeded stream), then
 * pauses briefly. A move is a function of the bot, so more abuse (parallel orders, extend
 * storms) is one more entry in the table. Every move counts its operations as `greedy_*`.
 *
 * `reserve_cancel`: reserve any disk type at any kiosk (also content the kiosk holds only as
 * ready stock of OTHER content: the attack that used to reformat walk-up stock), then cancel
 * for free, at once (mid-preparation) or once the disk is ready.
 *
 * `parallel_orders`: 3-6 orders at once at one kiosk (each its own Idempotency-Key), holding
 * nothing else: at most `maxOpenRentals` (named by the refusals) may be accepted, else the bot
 * reports a `renter-limit` violation. An accepted one is taken and returned as usual.
 *
 * `extend_storm`: rents a disk, then sends 4-8 extensions at once (+1 mostly, some +365): the
 * rental must end within its type's maxDays (the bot checks; the checker checks every rental
 * and that each applied extension was charged once), then returns the disk.
 */
import { randomUUID } from 'node:crypto';
import type { Json } from '../lib/api-client.js';
import { demoCard } from '../lib/seed.js';
import { RenterBot } from './bots.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GreedyMove {
  weight: number;
  run(bot: GreedyBot): Promise<void>;
}

export const GREEDY_MOVES: Record<string, GreedyMove> = {
  reserve_cancel: { weight: 1, run: (bot) => bot.reserveAndCancel() },
  parallel_orders: { weight: 1, run: (bot) => bot.parallelOrders() },
  extend_storm: { weight: 1, run: (bot) => bot.extendStorm() },
};

/** Days asked by one extension of an extend storm (mostly +1, sometimes far beyond maxDays). */
const STORM_DAYS = [1, 1, 1, 1, 2, 3, 7, 365];

export class GreedyBot extends RenterBot {
  /** Runs greedy moves until stopping() turns true (a disk a move took is returned first). */
  override async run(): Promise<void> {
    await sleep(this.rng.int(0, 1000));
    const weights = Object.fromEntries(
      Object.entries(GREEDY_MOVES).map(([name, m]) => [name, m.weight]),
    );
    while (!this.deps.stopping()) {
      const name = this.rng.weighted(weights);
      try {
        // A disk still in hand from a move (no free slot to return it to then) goes back first.
        if (this.rental) await this.returnDisk();
        else await GREEDY_MOVES[name]!.run(this);
      } catch (err) {
        this.count('errors');
        this.deps.log(`greedy bot ${this.index} (${name}): ${(err as Error).message}`);
      }
      await sleep(this.rng.int(200, 1200));
    }
  }

  /** Reserves a random type at a random kiosk and cancels it for free. */
  async reserveAndCancel(): Promise<void> {
    const k = this.rng.pick(this.deps.world.kiosks);
    const type = this.rng.pick(this.deps.world.diskTypes);
    const writeProtect = type.writeProtect === 'forced' || this.rng.chance(0.5);
    this.count('greedy_reserve');
    const r = await this.call(
      'POST',
      '/api/reservations',
      {
        kioskId: k.id,
        diskTypeId: type.id,
        writeProtect,
        days: 1,
        card: demoCard(),
      },
      { 'idempotency-key': randomUUID() },
    );
    if (r.status !== 201 && r.status !== 200) {
      // No disk the stock rules let it claim, a per-renter limit, the kiosk offline: unpaid.
      this.count(`greedy_refused_${String(r.body?.error?.code ?? r.status).toLowerCase()}`);
      return;
    }
    this.count('greedy_reserve', true);
    const id = r.body.reservation.id as string;
    if (this.rng.chance(0.5)) {
      // Let it become ready first (a held or freshly copied disk), then cancel.
      await this.poll(
        `reservation ${id} to leave preparing`,
        `/api/reservations/${id}`,
        (b) => (b.reservation.state !== 'preparing' ? b.reservation : undefined),
        150_000,
      ).catch(() => undefined);
    }
    this.count('greedy_cancel');
    const c = await this.call('POST', `/api/reservations/${id}/cancel`);
    if (c.status === 200) this.count('greedy_cancel', true);
  }

  /** The films type at a random kiosk: the walk-up stock the renters rent. */
  private filmsAt() {
    const k = this.rng.pick(this.deps.world.kiosks);
    const films = this.deps.world.diskTypes.find((d) => d.contentId === 'nature-films')!;
    return { k, films };
  }

  private order(kioskId: string, diskTypeId: string) {
    return this.call(
      'POST',
      '/api/orders',
      {
        kioskId,
        diskTypeId,
        writeProtect: false,
        days: 1,
        card: demoCard(),
      },
      { 'idempotency-key': randomUUID() },
    );
  }

  /** Several orders at once: never more accepted than the per-renter limit. */
  async parallelOrders(): Promise<void> {
    const { k, films } = this.filmsAt();
    const n = this.rng.int(3, 6);
    this.count('greedy_parallel_orders');
    const since = Date.now();
    const all = await Promise.all(Array.from({ length: n }, () => this.order(k.id, films.id)));
    const accepted = all.filter((r) => r.status === 201 || r.status === 200);
    for (const r of all)
      if (r.status >= 400)
        this.count(`greedy_order_refused_${String(r.body?.error?.code ?? r.status).toLowerCase()}`);
    const limit = all.find((r) => typeof r.body?.error?.maxOpenRentals === 'number')?.body.error
      .maxOpenRentals as number | undefined;
    if (limit !== undefined && accepted.length > limit)
      this.deps.violation?.({
        invariant: 'renter-limit',
        message: `${accepted.length} of ${n} parallel orders accepted with maxOpenRentals ${limit}`,
        ids: { userId: this.account.userId, kioskId: k.id },
      });
    this.count('greedy_parallel_orders', true);
    if (accepted.length === 0) return;
    this.count('greedy_parallel_order_accepted');
    if (await this.dispenseAndTake(k, accepted[0]!.body.order.id, since))
      this.count('greedy_parallel_order_accepted', true);
    if (this.rental) await this.returnDisk();
  }

  /** A rental, then a burst of extensions at once: never beyond the type's maxDays. */
  async extendStorm(): Promise<void> {
    const { k, films } = this.filmsAt();
    const since = Date.now();
    const o = await this.order(k.id, films.id);
    if (o.status !== 201 && o.status !== 200) return;
    this.count('greedy_extend_storm');
    await this.dispenseAndTake(k, o.body.order.id, since);
    const rental = this.rental;
    if (!rental?.id) {
      if (rental) await this.returnDisk();
      return;
    }
    const asks = Array.from({ length: this.rng.int(4, 8) }, () => this.rng.pick(STORM_DAYS));
    const out = await Promise.all(
      asks.map((days) => this.call('POST', `/api/rentals/${rental.id}/extend`, { days })),
    );
    for (const r of out)
      this.count(
        r.status === 200
          ? 'greedy_extension_applied'
          : `greedy_extension_refused_${String(r.body?.error?.code ?? r.status).toLowerCase()}`,
      );
    const now = await this.call('GET', '/api/me/rentals');
    const r = (now.body as Json[] | undefined)?.find?.((x: Json) => x.id === rental.id);
    const maxDays = films.maxDays ?? 30;
    if (r) {
      const days = Math.round((Date.parse(r.dueAt) - Date.parse(r.startedAt)) / 86_400_000);
      if (days + (r.pendingExtensionDays ?? 0) > maxDays)
        this.deps.violation?.({
          invariant: 'rental-max-days',
          message: `rental lasts ${days} days (+${r.pendingExtensionDays ?? 0} being paid) after an extend storm; ${films.id} allows ${maxDays}`,
          ids: { rentalId: rental.id },
        });
    }
    this.count('greedy_extend_storm', true);
    await this.returnDisk();
  }
}
