import type { KeyObject } from 'node:crypto';
import type { KioskCommands } from '../hub/kiosk-commands.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import { type AccountMailer, logMailer } from './accounts/account-mail.js';
import { Accounts } from './accounts/accounts.js';
import { Deposits } from './billing/deposits.js';
import { OperatorRefunds } from './billing/operator-refunds.js';
import { RentalSettings } from './billing/rental-settings.js';
import { Catalog } from './catalog/catalog.js';
import { Checkout } from './checkout/checkout.js';
import type { RentalConfig } from './config.js';
import { RentalNotifier } from './notifier.js';
import { DispenseOutcome } from './orders/dispense-outcome.js';
import { JamHolds } from './orders/jam-holds.js';
import { KioskUnreachable } from './orders/kiosk-unreachable.js';
import { MissingDisks } from './orders/missing-disks.js';
import { Orders } from './orders/orders.js';
import { Payments } from './payments/payments.js';
import type { PaymentProvider } from './payments/provider.js';
import { createProvider } from './payments/provider-config.js';
import { Reconciliation } from './reconciliation/reconciliation.js';
import { Extensions } from './rentals/extensions.js';
import { Rentals } from './rentals/rentals.js';
import { RenterEvents } from './renter-events.js';
import { PickupCodes } from './reservations/pickup-codes.js';
import { ReservationOutcomes } from './reservations/reservation-outcomes.js';
import { Reservations } from './reservations/reservations.js';

export interface RentalDomainDeps {
  store: Store;
  /** The kiosks' hub, as the domain sees it: its KioskCommands port. */
  hub: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  /** Clock of the domain (tests drive it); default: the system clock. */
  now?: () => Date;
  /** Replaces the configured provider (tests). */
  provider?: PaymentProvider;
  /** Where STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Sends account messages (registration links); default: written to the log (the server passes its SMTP mailer). */
  mailer?: AccountMailer;
  /** The hub's public URL: base of the links in account messages. */
  publicUrl?: string | (() => string | undefined);
  /** The hub's signing key, from which pickup codes are derived; absent: no pickup codes. */
  pickupCodeKey?: KeyObject;
  /** scrypt cost of pickup-code hashes (tests lower it). */
  pickupCodeCost?: { N: number; r: number; p: number };
}

/**
 * The rental domain composed: accounts, deposits, catalog, payments, orders, reservations,
 * rentals and their extensions, jam holds, orders at kiosks that went away, missing disks, reconciliation.
 * Its HTTP API lives in cloud-lite/http/; it reaches kiosks through the KioskCommands port.
 * `attach()` registers the kiosk event handlers
 * (DispenseCompleted, PrepareProgress/Completed/Failed, DiskReturned, DiskRemoved,
 * SlotStateChanged, ...), `start()`/`stop()` the periodic reconciliation, jam-hold and
 * kiosk-unreachable sweeps.
 */
export class RentalDomain {
  readonly now: () => Date;
  readonly provider: PaymentProvider;
  readonly notifier = new RentalNotifier();
  /** The renter's facts (charges, refunds, a reservation ready), told in their transactions. */
  readonly events = new RenterEvents();
  /** The deposit, late fee and lost-disk charge, stored and edited on /ops. */
  readonly settings: RentalSettings;
  readonly accounts: Accounts;
  readonly payments: Payments;
  readonly deposits: Deposits;
  readonly catalog: Catalog;
  readonly rentals: Rentals;
  readonly extensions: Extensions;
  readonly checkout: Checkout;
  readonly orders: Orders;
  readonly dispenseOutcome: DispenseOutcome;
  readonly reservations: Reservations;
  readonly reservationOutcomes: ReservationOutcomes;
  readonly pickupCodes: PickupCodes;
  readonly jamHolds: JamHolds;
  readonly kioskUnreachable: KioskUnreachable;
  readonly missingDisks: MissingDisks;
  readonly operatorRefunds: OperatorRefunds;
  readonly reconciliation: Reconciliation;

  constructor(readonly deps: RentalDomainDeps) {
    const now = deps.now ?? (() => new Date());
    this.now = now;
    const { store, config, logger } = deps;
    const kiosks = deps.hub;
    this.provider = deps.provider ?? createProvider(config, { store, logger, now, env: deps.env });
    const settings = new RentalSettings({ store, config, now });
    this.settings = settings;
    this.accounts = new Accounts({
      store,
      config,
      now,
      mailer: deps.mailer ?? logMailer(logger),
      publicUrl: deps.publicUrl,
    });
    this.payments = new Payments({ store, provider: this.provider, logger, now });
    this.deposits = new Deposits({
      store,
      config,
      settings,
      payments: this.payments,
      provider: this.provider,
      now,
      events: this.events,
    });
    this.catalog = new Catalog({ store, kiosks, config, now });
    this.rentals = new Rentals({
      store,
      config,
      settings,
      payments: this.payments,
      deposits: this.deposits,
      now,
      events: this.events,
    });
    this.extensions = new Extensions({
      store,
      payments: this.payments,
      deposits: this.deposits,
      rentals: this.rentals,
      now,
    });
    const common = {
      store,
      kiosks,
      config,
      settings,
      logger,
      payments: this.payments,
      deposits: this.deposits,
      notifier: this.notifier,
      now,
      events: this.events,
    };
    this.checkout = new Checkout({
      store,
      kiosks,
      payments: this.payments,
      deposits: this.deposits,
      catalog: this.catalog,
      now,
    });
    const shop = { ...common, catalog: this.catalog, checkout: this.checkout };
    this.orders = new Orders({ ...shop, rentals: this.rentals });
    this.dispenseOutcome = new DispenseOutcome({ store, config, orders: this.orders, now });
    this.pickupCodes = new PickupCodes({
      store,
      kiosks,
      config,
      logger,
      notifier: this.notifier,
      now,
      key: deps.pickupCodeKey,
      ...(deps.pickupCodeCost ? { cost: deps.pickupCodeCost } : {}),
    });
    this.reservations = new Reservations({
      ...shop,
      orders: this.orders,
      pickupCodes: this.pickupCodes,
    });
    this.reservationOutcomes = new ReservationOutcomes({
      ...common,
      reservations: this.reservations,
      pickupCodes: this.pickupCodes,
    });
    this.jamHolds = new JamHolds({ store, config, logger, orders: this.orders, now });
    this.kioskUnreachable = new KioskUnreachable({
      store,
      kiosks,
      config,
      logger,
      orders: this.orders,
      now,
    });
    this.missingDisks = new MissingDisks({ store, logger, jamHolds: this.jamHolds, now });
    this.operatorRefunds = new OperatorRefunds({ store, payments: this.payments, now });
    this.reconciliation = new Reconciliation({
      store,
      kiosks,
      config,
      logger,
      payments: this.payments,
      orders: this.orders,
      reservationOutcomes: this.reservationOutcomes,
      rentals: this.rentals,
      now,
      events: this.events,
    });
  }

  /**
   * Registers the domain's kiosk event handlers (they run inside the event's transaction) and
   * its listener for Dispense, PrepareDisk and ArmPickupCode commands that ended with no outcome event.
   */
  attach(): void {
    const { hub: kiosks, logger } = this.deps;
    kiosks.onEvent('DispenseCompleted', (ev, tx) =>
      this.dispenseOutcome.onDispenseCompleted(ev, tx),
    );
    kiosks.onEvent('PrepareProgress', (ev, tx) =>
      this.reservationOutcomes.onPrepareProgress(ev, tx),
    );
    kiosks.onEvent('PrepareCompleted', (ev, tx) =>
      this.reservationOutcomes.onPrepareCompleted(ev, tx),
    );
    kiosks.onEvent('PrepareFailed', (ev, tx) => this.reservationOutcomes.onPrepareFailed(ev, tx));
    kiosks.onEvent('ReservationCancelled', (ev, tx) =>
      this.reservationOutcomes.onKioskEnded(ev, tx),
    );
    kiosks.onEvent('ReservationExpired', (ev, tx) => this.reservationOutcomes.onKioskEnded(ev, tx));
    kiosks.onEvent('PickupCodeAccepted', (ev, tx) => this.pickupCodes.onAccepted(ev, tx));
    kiosks.onEvent('PickupCodeRefused', (ev, tx) => this.pickupCodes.onRefused(ev, tx));
    kiosks.onEvent('DiskReturned', async (ev, tx) => {
      if (!ev.data.diskId) return;
      await this.rentals.returned(tx, ev.data.diskId, ev.kioskId);
      await this.missingDisks.returned(tx, ev.data.diskId, ev.kioskId);
    });
    kiosks.onEvent('DiskRemoved', (ev, tx) => this.missingDisks.onDiskRemoved(ev, tx));
    kiosks.onEvent('SlotStateChanged', (ev, tx) => this.jamHolds.onSlotStateChanged(ev, tx));
    kiosks.onCommandEnded((c) => {
      const run =
        c.action === 'Dispense'
          ? this.dispenseOutcome.onCommandEnded(c)
          : c.action === 'PrepareDisk'
            ? this.reservationOutcomes.onCommandEnded(c)
            : c.action === 'ArmPickupCode'
              ? this.pickupCodes.onCommandEnded(c)
              : undefined;
      run?.catch((err) =>
        logger.warn(
          { err, commandId: c.id },
          'handling a command end failed; reconciliation retries',
        ),
      );
    });
  }

  async start(): Promise<void> {
    await this.settings.seed();
    await this.accounts.ensureBootstrapAdmin();
  }

  /**
   * Starts the periodic sweeps: reconciliation (overdue billing, holds, stuck orders), jam
   * holds, orders at kiosks that went away. Leader work (cluster/cluster.ts): they run on one
   * hub process of the cluster; stop() stops them.
   */
  startSweeps(): void {
    this.reconciliation.start();
    this.jamHolds.start();
    this.kioskUnreachable.start();
  }

  /** Stops the sweeps and waits for running passes (idempotent). */
  async stop(): Promise<void> {
    await this.kioskUnreachable.stop();
    await this.jamHolds.stop();
    await this.reconciliation.stop();
  }
}
