/**
 * A payment gateway as the rental domain sees it. Shaped after Stripe PaymentIntents and the
 * Alipay / WeChat Pay order APIs: every call is asynchronous, carries an idempotency key (a
 * retried call with the same key has the effect of one call and returns the same answer), and
 * may answer `pending`, in which case the final status arrives by a signed webhook.
 *
 * Errors: every method rejects with PaymentError. `CARD_DECLINED` and `INSUFFICIENT_FUNDS`
 * are final refusals; `PAYMENT_UNAVAILABLE` means "unknown outcome" (timeout, 5xx): the
 * caller must retry with the same key or look the payment up by `reference`.
 * Timeouts: an implementation gives up after its own timeout (the sandbox: at once when a
 * timeout is injected) and rejects PAYMENT_UNAVAILABLE; calls cannot be cancelled.
 */
export interface PaymentProvider {
  readonly name: string;
  /**
   * Reserves `amountMinor` on the card. `reference` is our payment id (Alipay/WeChat
   * out_trade_no, Stripe metadata). `cardToken` is the provider's payment-method id (or a saved
   * one). With `saveFor`, the payment method is kept for later payments of that user (the
   * result's `savedToken`), as the renter asked. `offSession`: the renter is not there (a
   * renewal on the saved card), so no authentication step can be taken; AUTHENTICATION_REQUIRED
   * when the card's issuer insists on one all the same.
   */
  authorise(req: {
    amountMinor: number;
    currency: string;
    cardToken: string;
    reference: string;
    idempotencyKey: string;
    saveFor?: { userId: string };
    offSession?: boolean;
  }): Promise<ProviderResult>;
  /** Takes `amountMinor` (<= the authorised amount) of an authorisation; the rest is released. */
  capture(req: {
    providerRef: string;
    amountMinor: number;
    idempotencyKey: string;
  }): Promise<ProviderResult>;
  /** Releases an authorisation that was never captured. */
  void(req: { providerRef: string; idempotencyKey: string }): Promise<ProviderResult>;
  /** Returns captured money (all or part). */
  refund(req: {
    providerRef: string;
    amountMinor: number;
    idempotencyKey: string;
  }): Promise<ProviderResult>;
  /** Finds a payment by our reference (after an authorise whose answer was lost). */
  lookup(reference: string): Promise<ProviderPaymentStatus | undefined>;
  /** Verifies a webhook's signature and parses it; rejects PaymentError WEBHOOK_INVALID. */
  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookEvent;
}

/**
 * How a renter pays: a payment-method id (`pm_…`) made by the provider's own card form in the
 * browser (Stripe's Payment Element; the sandbox's card endpoint under /sandbox-provider/), so
 * no card number reaches the hub's rental routes (they refuse one: CARD_DATA_REFUSED).
 */
export interface PayWith {
  paymentMethod: string;
}

/** Card details as the sandbox's own card endpoint (the provider's side) takes them. */
export interface CardInput {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export interface ProviderResult {
  providerRef: string;
  /** `pending`: the outcome comes by webhook. */
  status: 'succeeded' | 'pending';
  /** authorise: when the provider lets the authorisation lapse if not captured (ISO time). */
  authorisedUntil?: string;
  /** authorise: the card's last four digits, when the provider tells. */
  last4?: string;
  /** authorise with `saveFor`: the token to pay with later. */
  savedToken?: string;
}

export interface ProviderPaymentStatus {
  providerRef: string;
  state: 'authorised' | 'captured' | 'voided' | 'refunded' | 'partially_refunded';
  amountMinor: number;
  capturedMinor: number;
}

export interface WebhookEvent {
  /** Unique per event; duplicates carry the same id. */
  eventId: string;
  type:
    | 'payment.authorised'
    | 'payment.captured'
    | 'payment.voided'
    | 'payment.refunded'
    | 'payment.failed'
    /** Verified, but of no concern to us (acknowledged and recorded once). */
    | 'ignored';
  providerRef: string;
  amountMinor: number;
  /** Our payment id, when the provider echoes it (Stripe: metadata.reference). */
  reference?: string;
  /** payment.voided: the provider let the authorisation lapse (not a void we asked for). */
  expired?: boolean;
}

export type PaymentErrorCode =
  | 'CARD_DECLINED'
  | 'INSUFFICIENT_FUNDS'
  | 'PAYMENT_UNAVAILABLE'
  | 'PAYMENT_REFUSED'
  | 'AUTHORISATION_EXPIRED'
  /** An off-session authorisation the card's issuer wants the renter to confirm (3-D Secure). */
  | 'AUTHENTICATION_REQUIRED'
  | 'WEBHOOK_INVALID';

export class PaymentError extends Error {
  constructor(
    readonly code: PaymentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PaymentError';
  }
  /** True when the outcome is unknown and a retry with the same key is safe. */
  get retryable(): boolean {
    return this.code === 'PAYMENT_UNAVAILABLE';
  }
}
