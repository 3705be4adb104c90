/**
 * The greedy renter: a renter bot that plays the system for free stock instead of renting.
 * Each round it picks one move from GREEDY_MOVES by weight (its own seeded stream), then
 * pauses briefly. A move is a function of the bot, so more abuse (parallel orders, extend
 * storms) is one more entry in the table. Every move counts its operations as `greedy_*`.
 *
 * `reserve_cancel`: reserve any disk type at any kiosk (also content the kiosk holds only as
 * ready stock of OTHER content: the attack that used to reformat walk-up stock), then cancel
 * for free, at once (mid-preparation) or once the disk is ready.
 */
import { randomUUID } from 'node:crypto';
import { demoCard, SANDBOX_CARDS } from '../lib/seed.js';
import { RenterBot } from './bots.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GreedyMove {
  weight: number;
  run(bot: GreedyBot): Promise<void>;
}

export const GREEDY_MOVES: Record<string, GreedyMove> = {
  reserve_cancel: { weight: 1, run: (bot) => bot.reserveAndCancel() },
};

export class GreedyBot extends RenterBot {
  /** Runs greedy moves until stopping() turns true (it never holds a disk). */
  override async run(): Promise<void> {
    await sleep(this.rng.int(0, 1000));
    const weights = Object.fromEntries(
      Object.entries(GREEDY_MOVES).map(([name, m]) => [name, m.weight]),
    );
    while (!this.deps.stopping()) {
      const name = this.rng.weighted(weights);
      try {
        await GREEDY_MOVES[name]!.run(this);
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
        card: demoCard(SANDBOX_CARDS.approves),
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
}
