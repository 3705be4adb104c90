import { retryDelayMs } from '../alerts/webhook.js';
import type { Logger } from '../log.js';
import type { RentalConfig } from '../rental/config.js';
import type { RenterEvent, RenterEvents } from '../rental/renter-events.js';
import type {
  OrderRecord,
  QueuedNotification,
  RentalRecord,
  ReservationRecord,
  Store,
  Tx,
} from '../store/types.js';
import type { NotificationsConfig } from './config.js';
import type { Mailer } from './mailer.js';
import {
  isOptionalKind,
  mailLanguage,
  type ReceiptFor,
  type RenterMailKind,
  type RenterMailPayloads,
  renderRenterMail,
} from './renter-mail-text.js';
import type { UnsubscribeLinks } from './unsubscribe.js';

export interface RenterNotificationsDeps {
  store: Store;
  mailer: Mailer;
  logger: Logger;
  config: NotificationsConfig;
  /** The rental domain's settings (currency, late fee per day) and its renter facts. */
  rental: { config: RentalConfig; events: RenterEvents };
  /**
   * Signs the unsubscribe links of optional kinds. Absent only in a process that queues and never
   * sends (the refund CLI: the running hub's leader sends what it queued).
   */
  links?: UnsubscribeLinks;
  /** The hub's web origin, for the links in the mail. */
  origin: () => string;
  /** Whether this process delivers now (the cluster's leader); default always. */
  isLeader?: () => boolean;
  now?: () => Date;
}

/**
 * Renter e-mail (docs/alerts-and-notifications.md). Each notification is decided once per cause
 * (`kind` + `subject`): the decision writes a row to `sent_notifications`, which is at once the
 * dedupe record and the outbox, in the transaction of the fact (a charge, a refund, a
 * reservation ready: attach()) or of the leader's sweep (due tomorrow, overdue, expiring). The
 * mail is sent after the commit, and again with backoff while the SMTP server refuses it. It is
 * written at send time in the renter's language (`users.language`) to their current address.
 */
export class RenterNotifications {
  private timer: NodeJS.Timeout | undefined;
  private delivering: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  private redeliver = false;
  private stopped = true;
  private readonly log: Logger;
  readonly now: () => Date;

  constructor(private readonly deps: RenterNotificationsDeps) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.logger.child({ component: 'renter-mail' });
  }

  /** Listens to the rental domain's facts: receipts and "reservation ready" are queued with them. */
  attach(): void {
    this.deps.rental.events.on((tx, e) => this.onEvent(tx, e));
  }

  /** Leader work: the periodic sweep and delivery (retries). */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.tick(), this.deps.config.sweepIntervalMs);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await this.delivering;
  }

  /** One sweep, then one delivery pass; errors are logged (the next tick tries again). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    await this.sweep().catch((err) => this.log.error({ err }, 'renter mail sweep failed'));
    await this.deliverDue().catch((err) => this.log.error({ err }, 'renter mail delivery failed'));
  }

  /**
   * Queues notification `kind` about `subject` for `userId` inside `tx` unless it was decided
   * before (false) or the renter opted out of the kind (receipts always go). The mail goes
   * after the commit.
   */
  async queue<K extends RenterMailKind>(
    tx: Tx,
    kind: K,
    subject: string,
    userId: string,
    payload: RenterMailPayloads[K],
  ): Promise<boolean> {
    if (isOptionalKind(kind) && (await tx.notifications.optedOut(userId, kind))) return false;
    const queued = await tx.notifications.enqueue({
      kind,
      subject,
      userId,
      at: this.now().toISOString(),
      payload: payload as unknown as Record<string, unknown>,
    });
    if (queued) tx.afterCommit(() => this.kick());
    return queued;
  }

  private async onEvent(tx: Tx, e: RenterEvent): Promise<void> {
    if (e.type === 'payment_confirmation') {
      const { payment: p, about } = e;
      const facts =
        about.kind === 'reservation'
          ? await this.reservationFacts(tx, about.record)
          : await this.orderFacts(tx, about.record);
      await this.queue(tx, 'payment_confirmation', p.id, p.userId, {
        for: about.kind,
        title: facts.title,
        kioskName: facts.kioskName,
        amountMinor: p.amountMinor,
        currency: p.currency,
        lapsesAt: p.authorisedUntil ?? null,
        reference: about.record.id,
      });
      return;
    }
    if (e.type === 'reservation_ready') {
      const r = e.reservation;
      await this.queue(tx, 'reservation_ready', r.id, r.userId, {
        ...(await this.reservationFacts(tx, r)),
        holdUntil: r.holdUntil,
      });
      return;
    }
    if (e.type === 'payment') {
      const p = e.payment;
      const isRefund = p.kind === 'refund';
      const amount = isRefund ? p.amountMinor : p.capturedMinor;
      if (amount <= 0) return;
      await this.queue(tx, 'receipt', p.id, p.userId, {
        for: isRefund ? 'refund' : 'deposit',
        amountMinor: amount,
        currency: p.currency,
        at: this.now().toISOString(),
        reference: p.id,
        ...(isRefund && p.reason ? { reason: p.reason } : {}),
      });
      return;
    }
    const c = e.charge;
    if (c.amountMinor === 0) return;
    if (c.paymentId) {
      // A capture the provider refused opens the rental all the same: no receipt for it.
      const p = await tx.payments.get(c.paymentId);
      if (p && p.state !== 'captured') return;
    }
    const rental = c.rentalId ? await tx.rentals.get(c.rentalId) : undefined;
    const reservation = c.reservationId ? await tx.reservations.get(c.reservationId) : undefined;
    const facts = rental
      ? await this.rentalFacts(tx, rental)
      : reservation
        ? await this.reservationFacts(tx, reservation)
        : undefined;
    const order = c.kind === 'rental' && rental ? await tx.orders.get(rental.orderId) : undefined;
    await this.queue(tx, 'receipt', c.id, c.userId, {
      for: c.kind as ReceiptFor,
      amountMinor: c.amountMinor,
      currency: c.currency,
      at: c.at,
      reference: c.id,
      ...(facts ? { title: facts.title, kioskName: facts.kioskName } : {}),
      ...(order ? { days: order.days } : {}),
    });
  }

  private async titleOf(tx: Tx, diskTypeId: string): Promise<string> {
    const type = await tx.diskTypes.get(diskTypeId);
    const content = type ? await tx.content.get(type.contentId) : undefined;
    return content?.title ?? diskTypeId;
  }

  private async rentalFacts(tx: Tx, r: RentalRecord) {
    const site = await tx.sites.get(r.kioskId);
    return { title: await this.titleOf(tx, r.diskTypeId), kioskName: site?.name ?? r.kioskId };
  }

  private async orderFacts(tx: Tx, o: OrderRecord) {
    const site = await tx.sites.get(o.kioskId);
    return { title: await this.titleOf(tx, o.diskTypeId), kioskName: site?.name ?? o.kioskId };
  }

  private async reservationFacts(tx: Tx, r: ReservationRecord) {
    const site = await tx.sites.get(r.kioskId);
    return {
      title: await this.titleOf(tx, r.diskTypeId),
      kioskName: site?.name ?? r.kioskId,
      address: site?.address ?? '',
    };
  }

  /**
   * Looks for the time-based notifications once (leader work): rentals due within
   * `dueSoonHours` (once per due date: an extension moves it and reminds again), overdue
   * rentals (once per due date, with the late fees charged so far), ready reservations whose
   * hold ends within `expiringBeforeMinutes` (once per hold end). One sweep at a time.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.doSweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async doSweep(): Promise<void> {
    const { config, store } = this.deps;
    const rentalConfig = this.deps.rental.config;
    const now = this.now().getTime();
    await store.transaction(async (tx) => {
      for (const r of await tx.rentals.listByStates(['open', 'overdue'])) {
        const due = Date.parse(r.dueAt);
        // Due soon, and (for short rentals) at least half of the rental has passed.
        const halfway = (Date.parse(r.startedAt) + due) / 2;
        if (
          r.state === 'open' &&
          due > now &&
          due - now <= config.dueSoonHours * 3600_000 &&
          now >= Math.max(halfway, due - config.dueSoonHours * 3600_000)
        ) {
          const f = await this.rentalFacts(tx, r);
          await this.queue(tx, 'due_tomorrow', `${r.id}@${r.dueAt}`, r.userId, {
            ...f,
            dueAt: r.dueAt,
          });
        } else if (r.state === 'overdue') {
          const fees = (await tx.charges.listByRental(r.id)).filter((c) => c.kind === 'overdue');
          await this.queue(tx, 'overdue', `${r.id}@${r.dueAt}`, r.userId, {
            title: await this.titleOf(tx, r.diskTypeId),
            dueAt: r.dueAt,
            feeSoFarMinor: fees.reduce((n, c) => n + c.amountMinor, 0),
            // The late fee this rental is billed with: the one it was sold with, else (rows from
            // before migration 015) the stored settings', as billing does (RentalSettings.termsOf).
            feePerDayMinor:
              r.overdueFeePerDayMinor ??
              (await tx.rentalSettings.get())?.overdueFeePerDayMinor ??
              rentalConfig.overdueFeePerDayMinor,
            currency: fees[0]?.currency ?? rentalConfig.currency,
          });
        }
      }
      for (const r of await tx.reservations.listByStates(['ready'], 10_000)) {
        const end = Date.parse(r.holdUntil);
        if (end <= now || end - now > config.expiringBeforeMinutes * 60_000) continue;
        // A hold shorter than the warning: "ready" already said when it ends.
        if (end - Date.parse(r.updatedAt) <= config.expiringBeforeMinutes * 60_000) continue;
        await this.queue(tx, 'reservation_expiring', `${r.id}@${r.holdUntil}`, r.userId, {
          ...(await this.reservationFacts(tx, r)),
          holdUntil: r.holdUntil,
        });
      }
    });
  }

  private kick(): void {
    if (this.stopped || !(this.deps.isLeader?.() ?? true)) return;
    if (this.delivering) {
      this.redeliver = true;
      return;
    }
    void this.deliverDue().catch((err) => this.log.error({ err }, 'renter mail delivery failed'));
  }

  /** Sends the queued mails that are due, oldest first; one pass at a time. */
  deliverDue(): Promise<void> {
    this.delivering ??= this.doDeliver().finally(() => {
      this.delivering = undefined;
      if (this.redeliver && !this.stopped) {
        this.redeliver = false;
        this.kick();
      }
    });
    return this.delivering;
  }

  private async doDeliver(): Promise<void> {
    const { store, mailer, config } = this.deps;
    const due = await store.transaction((tx) =>
      tx.notifications.due(this.now().toISOString(), 100),
    );
    for (const n of due) {
      if (this.stopped) return;
      const user = await store.transaction((tx) => tx.users.get(n.userId));
      if (!user?.email) {
        await this.failed(n, 'the account has no e-mail address', true);
        continue;
      }
      try {
        await mailer.send(this.mail(n, user.email, user.language));
        await store.transaction((tx) =>
          tx.notifications.delivered(n.kind, n.subject, this.now().toISOString()),
        );
        this.log.info({ kind: n.kind, subject: n.subject, userId: n.userId }, 'renter mail sent');
      } catch (err) {
        await this.failed(n, (err as Error).message, n.attempts + 1 >= config.maxAttempts);
      }
    }
  }

  private async failed(n: QueuedNotification, error: string, giveUp: boolean): Promise<void> {
    const attempts = n.attempts + 1;
    const nowMs = this.now().getTime();
    this.log.warn(
      { kind: n.kind, subject: n.subject, userId: n.userId, attempts, error, giveUp },
      giveUp ? 'renter mail given up' : 'renter mail not sent; will retry',
    );
    await this.deps.store.transaction((tx) =>
      tx.notifications.attemptFailed(n.kind, n.subject, {
        attempts,
        error: error.slice(0, 500),
        nextAttemptAt: new Date(nowMs + retryDelayMs(attempts)).toISOString(),
        failedAt: giveUp ? new Date(nowMs).toISOString() : null,
      }),
    );
  }

  /** The e-mail of queued notification `n` to `email`, in `language`. */
  mail(n: QueuedNotification, email: string, language: string | null | undefined) {
    const kind = n.kind as RenterMailKind;
    const origin = this.deps.origin();
    const unsubscribeUrl =
      isOptionalKind(kind) && this.deps.links ? this.deps.links.url(n.userId, kind) : undefined;
    const m = renderRenterMail(kind, n.payload as never, mailLanguage(language), {
      timeZone: this.deps.config.timeZone,
      accountUrl: `${origin}/me`,
      ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
    });
    const headers: Record<string, string> = {
      'X-Disk-Kiosk-Notification': `${n.kind} ${n.subject}`,
    };
    if (unsubscribeUrl) {
      headers['List-Unsubscribe'] = `<${unsubscribeUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    return { to: email, subject: m.subject, text: m.text, html: m.html, headers };
  }
}
