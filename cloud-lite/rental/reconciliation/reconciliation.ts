import { audit, SYSTEM } from '../../audit.js';
import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { Orders } from '../orders/orders.js';
import type { Payments } from '../payments/payments.js';
import { Reauthorisation } from '../payments/reauthorisation.js';
import type { Rentals } from '../rentals/rentals.js';
import type { RenterEvents } from '../renter-events.js';
import type { ReservationOutcomes } from '../reservations/reservation-outcomes.js';

export interface ReconciliationDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  payments: Payments;
  orders: Orders;
  reservationOutcomes: ReservationOutcomes;
  rentals: Rentals;
  now: () => Date;
  /** Told when a renewal needs the renter (their e-mail); absent: nobody listens. */
  events?: RenterEvents;
}

const IN_FLIGHT = ['created', 'authorised', 'dispensing', 'kiosk_unreachable'] as const;

/**
 * The periodic clean-up that keeps money and disks consistent after crashes, lost links and
 * timeouts. Each rule either resolves a case or raises a flag for an operator
 * (`GET /api/operator/reconciliation`):
 *  - payment intents left half-way are finished with their idempotency keys;
 *  - orders stuck between steps: no Dispense recorded -> void; Dispense rejected, failed or
 *    expired -> void; accepted without an outcome past the deadline -> ask the kiosk for its
 *    state (Inventory), flag; captured without a rental -> open it;
 *  - authorised payments whose order or reservation ended -> void;
 *  - kiosks offline with orders in flight -> flag;
 *  - reservations past their prepare deadline or hold window; overdue and lost rentals.
 * `runOnce()` is also called directly by tests.
 */
export class Reconciliation {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly reauthorisation: Reauthorisation;

  constructor(private readonly deps: ReconciliationDeps) {
    this.reauthorisation = new Reauthorisation(deps);
  }

  start(): void {
    this.timer = setInterval(
      () => void this.runOnce().catch(() => undefined),
      this.deps.config.reconcileIntervalMs,
    );
    this.timer.unref();
  }

  /** Stops the timer and waits for a running pass. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over every rule (passes never overlap; a call during a pass waits for it and runs again). */
  async runOnce(): Promise<void> {
    const prev = this.running ?? Promise.resolve();
    const next = prev.then(() => this.pass());
    this.running = next.catch((err) =>
      this.deps.logger.error({ err }, 'reconciliation pass failed'),
    );
    return next;
  }

  private async pass(): Promise<void> {
    const { payments, orders, reservationOutcomes, rentals, config } = this.deps;
    await this.lapsingAuthorisations();
    await payments.finishIntents(config.intentRetryAfterSeconds * 1000);
    await this.orders();
    await this.orphanPayments();
    await reservationOutcomes.expireDue();
    await rentals.accrueAll();
    void orders;
  }

  /**
   * Authorisations that lapse within `payments.stripe.lapseMarginSeconds` while still held
   * (the provider told us when: Stripe's capture_before): an order's or a reservation's is
   * re-authorised on the renter's saved card once, when first found (Reauthorisation: the
   * record moves to the new payment, the old one is voided; audited). What is still at risk
   * after that is flagged AUTHORISATION_AT_RISK with its deadline and why it was not renewed
   * (the alerts service warns too); the flag is resolved once the payment is captured or voided.
   * The hold windows are checked against the authorisation lifetime at start
   * (provider-config.ts), so this is for holds that outlived their configuration (a kiosk
   * offline for days, a jam hold or an order in flight that long).
   */
  private async lapsingAuthorisations(): Promise<void> {
    const { payments, store, config, logger } = this.deps;
    const lapsing = await payments.lapsing(config.payments.stripe.lapseMarginSeconds * 1000);
    const flagged = new Set(
      (await store.transaction((tx) => tx.flags.listOpen()))
        .filter((f) => f.kind === 'AUTHORISATION_AT_RISK')
        .map((f) => f.subject),
    );
    const risky: (typeof lapsing)[number][] = [];
    const why = new Map<string, string>();
    for (const p of lapsing) {
      if (flagged.has(p.id)) {
        risky.push(p);
        continue;
      }
      const out = await this.reauthorisation.run(p).catch((err: Error) => ({
        ok: false as const,
        reason: err.message,
      }));
      if (out.ok) continue;
      why.set(p.id, out.reason);
      risky.push(p);
    }
    const ids = new Set(risky.map((p) => p.id));
    const at = this.deps.now().toISOString();
    await store.transaction(async (tx) => {
      for (const p of risky) {
        if (flagged.has(p.id)) continue;
        await tx.flags.raise(
          'AUTHORISATION_AT_RISK',
          p.id,
          `the authorisation of payment ${p.id} (${p.purpose} ${p.refId ?? ''}, ${p.amountMinor} ${p.currency}) lapses at ${p.authorisedUntil} and was not renewed (${why.get(p.id) ?? 'unknown'}); capture or void it before then`,
          at,
        );
      }
      for (const f of await tx.flags.listOpen())
        if (f.kind === 'AUTHORISATION_AT_RISK' && !ids.has(f.subject))
          await tx.flags.resolve(f.kind, f.subject, at);
    });
    if (risky.length)
      logger.warn({ payments: [...ids] }, 'authorisations lapse soon (AUTHORISATION_AT_RISK)');
  }

  private nowMs(): number {
    return this.deps.now().getTime();
  }

  private async orders(): Promise<void> {
    const { kiosks, orders, config } = this.deps;
    const now = this.nowMs();
    const at = new Date(now).toISOString();
    const inquiries: string[] = [];
    await this.deps.store.transaction(async (tx) => {
      for (const o of await tx.orders.listByStates(IN_FLIGHT, 10_000)) {
        const age = now - Date.parse(o.updatedAt);
        const p = o.paymentId ? await tx.payments.get(o.paymentId) : undefined;
        if (p?.state === 'captured' || p?.state === 'capture_failed') {
          // Captured without a rental: the settle hook did not run to the end; finish it.
          const rental = await tx.rentals.findByOrder(o.id);
          const fresh = (await tx.orders.get(o.id))!;
          if (!rental || fresh.state !== 'completed') {
            const r = await this.deps.rentals.open(tx, fresh, p.capturedMinor, p.id);
            await orders.step(
              tx,
              fresh,
              'completed',
              'payment captured; rental open (reconciled)',
              { rentalId: r.id },
            );
          }
          continue;
        }
        if (o.state === 'created') {
          if (p && ['voided', 'voiding', 'declined', 'failed'].includes(p.state))
            await orders.step(tx, o, 'failed', 'payment did not complete; order closed', {
              failureReason: p.failureCode ?? 'PAYMENT_FAILED',
            });
          continue;
        }
        let commandId = o.commandId;
        if (!commandId) {
          if (age < config.dispenseCommandTtlSeconds * 1000) continue;
          const cmd = (await tx.commands.listForKiosk(o.kioskId, { limit: 1000 })).find(
            (c) => c.action === 'Dispense' && (c.payload as { orderId?: string }).orderId === o.id,
          );
          if (!cmd) {
            await audit(tx, SYSTEM('reconciliation'), at, 'order.reconciled', o.id, {
              rule: 'no_dispense_recorded',
            });
            await orders.fail(
              tx,
              o,
              'DISPENSE_NOT_SENT',
              'the Dispense was never recorded; payment released',
            );
            continue;
          }
          commandId = cmd.id;
          await tx.orders.update(o.id, { commandId });
        }
        const cmd = await tx.commands.get(commandId);
        if (!cmd) continue;
        if (['rejected', 'failed', 'expired'].includes(cmd.state)) {
          await audit(tx, SYSTEM('reconciliation'), at, 'order.reconciled', o.id, {
            rule: `command_${cmd.state}`,
          });
          await orders.fail(
            tx,
            o,
            cmd.state === 'expired' ? 'KIOSK_UNREACHABLE' : 'DISPENSE_REJECTED',
            `Dispense ${cmd.state}; payment released`,
          );
          continue;
        }
        const kiosk = await tx.kiosks.get(o.kioskId);
        const online = kiosk !== undefined && kiosks.connectedInCluster(kiosk);
        if (!online) {
          await tx.flags.raise(
            'KIOSK_OFFLINE_IN_FLIGHT',
            o.id,
            `kiosk ${o.kioskId} is offline with order ${o.id} in flight (command ${cmd.state})`,
            at,
          );
        } else {
          await tx.flags.resolve('KIOSK_OFFLINE_IN_FLIGHT', o.id, at);
        }
        if (
          cmd.state === 'accepted' &&
          now - Date.parse(cmd.updatedAt) > config.dispenseOutcomeDeadlineSeconds * 1000
        ) {
          const open = (await tx.flags.listOpen()).some(
            (f) => f.kind === 'DISPENSE_OUTCOME_MISSING' && f.subject === o.id,
          );
          if (!open) {
            await tx.flags.raise(
              'DISPENSE_OUTCOME_MISSING',
              o.id,
              `kiosk ${o.kioskId} accepted Dispense for ${o.id} but never reported the outcome`,
              at,
            );
            if (online) inquiries.push(o.kioskId);
          }
        }
      }
      for (const f of await tx.flags.listOpen()) {
        if (!['KIOSK_OFFLINE_IN_FLIGHT', 'DISPENSE_OUTCOME_MISSING'].includes(f.kind)) continue;
        const o = await tx.orders.get(f.subject);
        if (o && !IN_FLIGHT.includes(o.state as (typeof IN_FLIGHT)[number]))
          await tx.flags.resolve(f.kind, f.subject, at);
      }
    });
    for (const kioskId of new Set(inquiries)) {
      await this.deps.store
        .transaction((tx) =>
          kiosks.send(
            tx,
            kioskId,
            'TriggerMessage',
            { message: 'Inventory' },
            new Date(Date.now() + 300_000),
          ),
        )
        .catch((err) =>
          this.deps.logger.warn({ err, kioskId }, 'could not ask the kiosk for its inventory'),
        );
    }
  }

  /** Authorised payments whose order or reservation has ended (or never existed): void. */
  private async orphanPayments(): Promise<void> {
    const before = new Date(
      this.nowMs() - this.deps.config.intentRetryAfterSeconds * 1000,
    ).toISOString();
    const at = new Date(this.nowMs()).toISOString();
    await this.deps.store.transaction(async (tx) => {
      for (const p of await tx.payments.listByState(['authorised'], before)) {
        let orphan = false;
        if (p.purpose === 'order') {
          const o = p.refId ? await tx.orders.get(p.refId) : undefined;
          orphan = !o || o.state === 'failed' || o.state === 'cancelled';
        } else if (p.purpose === 'reservation') {
          const r = p.refId ? await tx.reservations.get(p.refId) : undefined;
          orphan = !r || ['failed', 'cancelled', 'expired'].includes(r.state);
        } else orphan = true;
        if (!orphan) continue;
        await audit(tx, SYSTEM('reconciliation'), at, 'payment.orphan_voided', p.id, {
          purpose: p.purpose,
          refId: p.refId,
        });
        await this.deps.orders.voidPayment(tx, p.id);
      }
    });
  }

  /** Open flags for operators. */
  flags() {
    return this.deps.store.transaction((tx) => tx.flags.listOpen());
  }
}
