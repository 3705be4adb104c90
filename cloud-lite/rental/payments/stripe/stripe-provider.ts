import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import type { Logger } from '../../../log.js';
import {
  PaymentError,
  type PaymentProvider,
  type ProviderPaymentStatus,
  type ProviderResult,
  type WebhookEvent,
} from '../provider.js';

export interface StripeProviderDeps {
  /** The secret API key (sk_live_… / sk_test_…); never logged. */
  secretKey: string;
  /** The signing secret of the webhook endpoint (whsec_…). */
  webhookSecret: string;
  logger: Logger;
  now?: () => Date;
  /** Another API host (a local stand-in in tests); default api.stripe.com over HTTPS. */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
  /** Retries of a request whose connection failed (the same idempotency key); default 2. */
  maxNetworkRetries?: number;
  /** Request timeout; default 20 s. */
  timeoutMs?: number;
}

type Intent = Stripe.PaymentIntent;

/**
 * Stripe PaymentIntents with manual capture (`capture_method=manual`): authorise = create and
 * confirm with the renter's payment-method id (collected by Stripe's Payment Element, never
 * seen by the hub; `off_session` for a renewal on the saved card without the renter); capture = capture `amount_to_capture` (the rest is released); void =
 * cancel; refund = a Refund on the intent. Every call carries our idempotency key (derived from
 * the payment row by Payments). An answer that is lost (connection failure, 5xx) is resolved by
 * reading the intent back before answering PAYMENT_UNAVAILABLE, since Stripe replays a stored
 * 500 for the same key. Timeouts: `timeoutMs` per request (stripe-node), then
 * PAYMENT_UNAVAILABLE; calls cannot be cancelled.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe';
  private readonly stripe: Stripe;

  constructor(private readonly deps: StripeProviderDeps) {
    // stripe-node (and its HTTP stack) is loaded here, when Stripe is the configured
    // provider, not by every hub at start.
    const StripeClient = createRequire(import.meta.url)('stripe') as typeof Stripe;
    this.stripe = new StripeClient(deps.secretKey, {
      maxNetworkRetries: deps.maxNetworkRetries ?? 2,
      timeout: deps.timeoutMs ?? 20_000,
      telemetry: false,
      ...(deps.api ?? {}),
    });
  }

  async authorise(req: Parameters<PaymentProvider['authorise']>[0]): Promise<ProviderResult> {
    const saved = parseToken(req.cardToken);
    let customer = saved.customer;
    try {
      if (req.saveFor && !customer) {
        const c = await this.stripe.customers.create(
          { metadata: { userId: req.saveFor.userId } },
          { idempotencyKey: `${req.idempotencyKey}:customer` },
        );
        customer = c.id;
      }
      const pi = await this.stripe.paymentIntents.create(
        {
          amount: req.amountMinor,
          currency: req.currency.toLowerCase(),
          capture_method: 'manual',
          confirm: true,
          payment_method: saved.paymentMethod,
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          metadata: { reference: req.reference },
          expand: ['latest_charge'],
          ...(customer ? { customer } : {}),
          ...(req.saveFor ? { setup_future_usage: 'off_session' as const } : {}),
          // The renter is not there (a renewal): Stripe then asks no authentication step of
          // the renter, and answers authentication_required if the issuer insists on one.
          ...(req.offSession ? { off_session: true } : {}),
        },
        { idempotencyKey: req.idempotencyKey },
      );
      if (pi.status === 'requires_capture')
        return authorised(pi, req.saveFor ? customer : undefined);
      if (pi.status === 'processing') return { providerRef: pi.id, status: 'pending' };
      // requires_action (3-D Secure) cannot be completed at a kiosk checkout: release it.
      await this.stripe.paymentIntents
        .cancel(pi.id, {}, { idempotencyKey: `${req.idempotencyKey}:abandon` })
        .catch(() => undefined);
      throw new PaymentError(
        'CARD_DECLINED',
        `the card asks for a step this checkout cannot do (${pi.status}); use another card`,
      );
    } catch (err) {
      throw this.mapError(err, 'authorise');
    }
  }

  async capture(req: Parameters<PaymentProvider['capture']>[0]): Promise<ProviderResult> {
    try {
      await this.stripe.paymentIntents.capture(
        req.providerRef,
        { amount_to_capture: req.amountMinor },
        { idempotencyKey: req.idempotencyKey },
      );
      return { providerRef: req.providerRef, status: 'succeeded' };
    } catch (err) {
      const e = this.mapError(err, 'capture');
      // The outcome is unknown or the intent is not capturable: what does Stripe hold now?
      const pi = await this.retrieve(req.providerRef);
      if (pi?.status === 'succeeded' && pi.amount_received === req.amountMinor)
        return { providerRef: req.providerRef, status: 'succeeded' };
      if (pi?.status === 'canceled' && pi.cancellation_reason === 'automatic')
        throw new PaymentError(
          'AUTHORISATION_EXPIRED',
          `the authorisation ${req.providerRef} lapsed before it was captured; nothing was charged`,
        );
      throw e;
    }
  }

  async void(req: Parameters<PaymentProvider['void']>[0]): Promise<ProviderResult> {
    try {
      await this.stripe.paymentIntents.cancel(
        req.providerRef,
        {},
        {
          idempotencyKey: req.idempotencyKey,
        },
      );
      return { providerRef: req.providerRef, status: 'succeeded' };
    } catch (err) {
      const e = this.mapError(err, 'void');
      const pi = await this.retrieve(req.providerRef);
      if (pi?.status === 'canceled') return { providerRef: req.providerRef, status: 'succeeded' };
      throw e;
    }
  }

  async refund(req: Parameters<PaymentProvider['refund']>[0]): Promise<ProviderResult> {
    try {
      await this.stripe.refunds.create(
        {
          payment_intent: req.providerRef,
          amount: req.amountMinor,
          metadata: { idempotencyKey: req.idempotencyKey },
        },
        { idempotencyKey: req.idempotencyKey },
      );
      return { providerRef: req.providerRef, status: 'succeeded' };
    } catch (err) {
      const e = this.mapError(err, 'refund');
      if (!e.retryable) throw e;
      const made = await this.stripe.refunds
        .list({ payment_intent: req.providerRef, limit: 100 })
        .catch(() => undefined);
      if (made?.data.some((r) => r.metadata?.idempotencyKey === req.idempotencyKey))
        return { providerRef: req.providerRef, status: 'succeeded' };
      throw e;
    }
  }

  /**
   * Finds an intent by our reference (Stripe's search; note Stripe documents that search can
   * lag writes by up to a minute, so a lookup right after a lost answer may miss it: the
   * intent's own webhook then reopens the row: Payments.applyWebhook).
   */
  async lookup(reference: string): Promise<ProviderPaymentStatus | undefined> {
    try {
      const found = await this.stripe.paymentIntents.search({
        query: `metadata['reference']:'${reference.replace(/'/g, '')}'`,
      });
      const pi = found.data.find((x) => x.status !== 'requires_payment_method');
      return pi && status(pi);
    } catch (err) {
      throw this.mapError(err, 'lookup');
    }
  }

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookEvent {
    const h = headers['stripe-signature'];
    const sig = Array.isArray(h) ? h[0] : h;
    let ev: Stripe.Event;
    try {
      ev = this.stripe.webhooks.constructEvent(
        rawBody,
        sig ?? '',
        this.deps.webhookSecret,
        300,
        undefined,
        (this.deps.now?.() ?? new Date()).getTime(),
      );
    } catch {
      throw new PaymentError('WEBHOOK_INVALID', 'webhook signature missing, invalid or too old');
    }
    return toEvent(ev);
  }

  private async retrieve(id: string): Promise<Intent | undefined> {
    return this.stripe.paymentIntents.retrieve(id).catch(() => undefined);
  }

  /** Stripe's errors in our vocabulary: declines are final, unknown outcomes retryable. */
  private mapError(err: unknown, op: string): PaymentError {
    if (err instanceof PaymentError) return err;
    const e = err as { type?: string; code?: string; decline_code?: string; message?: string };
    if (e.type === 'StripeCardError') {
      if (e.code === 'authentication_required')
        return new PaymentError(
          'AUTHENTICATION_REQUIRED',
          "the card's bank wants the renter to confirm this payment (3-D Secure), which cannot be done without them",
        );
      if (e.decline_code === 'insufficient_funds')
        return new PaymentError(
          'INSUFFICIENT_FUNDS',
          'the card has insufficient funds; use another card',
        );
      return new PaymentError('CARD_DECLINED', 'the card was declined; use another card');
    }
    if (e.type === 'StripeInvalidRequestError' || e.type === 'StripeIdempotencyError') {
      this.deps.logger.warn(
        { op, stripeCode: e.code, stripeType: e.type },
        'stripe refused a request',
      );
      return new PaymentError(
        'PAYMENT_REFUSED',
        `the payment provider refused the ${op} (${e.code ?? e.type})`,
      );
    }
    if (e.type === 'StripeAuthenticationError' || e.type === 'StripePermissionError')
      this.deps.logger.error({ op, stripeType: e.type }, 'stripe rejected the API key');
    else this.deps.logger.warn({ op, stripeType: e.type }, 'stripe did not answer');
    return new PaymentError(
      'PAYMENT_UNAVAILABLE',
      `the payment provider did not answer the ${op}; try again`,
    );
  }
}

/** A saved token is `cus_…/pm_…` (Stripe needs the customer to reuse a payment method). */
function parseToken(token: string): { customer?: string; paymentMethod: string } {
  const i = token.indexOf('/');
  return i < 0
    ? { paymentMethod: token }
    : { customer: token.slice(0, i), paymentMethod: token.slice(i + 1) };
}

function authorised(pi: Intent, customer: string | undefined): ProviderResult {
  const ch = typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
  const card = ch?.payment_method_details?.card;
  const pm = typeof pi.payment_method === 'string' ? pi.payment_method : pi.payment_method?.id;
  return {
    providerRef: pi.id,
    status: 'succeeded',
    ...(card?.capture_before
      ? { authorisedUntil: new Date(card.capture_before * 1000).toISOString() }
      : {}),
    ...(card?.last4 ? { last4: card.last4 } : {}),
    ...(customer && pm ? { savedToken: `${customer}/${pm}` } : {}),
  };
}

function status(pi: Intent): ProviderPaymentStatus {
  return {
    providerRef: pi.id,
    state:
      pi.status === 'requires_capture'
        ? 'authorised'
        : pi.status === 'succeeded'
          ? 'captured'
          : 'voided',
    amountMinor: pi.amount,
    capturedMinor: pi.amount_received,
  };
}

/** Stripe's event types we act on, as provider-neutral events. */
function toEvent(ev: Stripe.Event): WebhookEvent {
  const obj = ev.data.object as unknown as Record<string, unknown>;
  const reference = (obj.metadata as Record<string, string> | undefined)?.reference;
  const base = { eventId: ev.id, ...(reference ? { reference } : {}) };
  const pi = obj as unknown as Intent;
  switch (ev.type) {
    case 'payment_intent.amount_capturable_updated':
      return {
        ...base,
        type: 'payment.authorised',
        providerRef: pi.id,
        amountMinor: pi.amount_capturable,
      };
    case 'payment_intent.succeeded':
      return {
        ...base,
        type: 'payment.captured',
        providerRef: pi.id,
        amountMinor: pi.amount_received,
      };
    case 'payment_intent.canceled':
      return {
        ...base,
        type: 'payment.voided',
        providerRef: pi.id,
        amountMinor: pi.amount,
        ...(pi.cancellation_reason === 'automatic' ? { expired: true } : {}),
      };
    case 'payment_intent.payment_failed':
      return { ...base, type: 'payment.failed', providerRef: pi.id, amountMinor: pi.amount };
    case 'refund.created':
    case 'refund.updated': {
      const r = obj as unknown as Stripe.Refund;
      const ref = typeof r.payment_intent === 'string' ? r.payment_intent : r.payment_intent?.id;
      if (r.status === 'succeeded' && ref)
        return {
          eventId: ev.id,
          type: 'payment.refunded',
          providerRef: ref,
          amountMinor: r.amount,
        };
      break;
    }
  }
  return { eventId: ev.id, type: 'ignored', providerRef: String(obj.id ?? ''), amountMinor: 0 };
}
