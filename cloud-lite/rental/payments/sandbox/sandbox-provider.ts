import { randomBytes, randomUUID } from 'node:crypto';
import type { SandboxPaymentRecord, Store } from '../../../store/types.js';
import {
  type CardInput,
  PaymentError,
  type PaymentProvider,
  type ProviderPaymentStatus,
  type ProviderResult,
  type WebhookEvent,
} from '../provider.js';
import { signWebhook, verifyWebhookSignature } from '../webhook-signature.js';

/** Test card numbers the sandbox provider recognises (the demo prints them). */
export const SANDBOX_CARDS = {
  approve: '4242424242424242',
  decline: '4000000000000002',
  insufficientFunds: '4000000000009995',
  timeout: '4000000000000119',
} as const;

/**
 * Payment-method ids that stand for a test card without entering it, as Stripe's test mode has
 * (`pm_card_visa`, …): scripts and API clients pay with these; `pm_card_sandboxTimeout` is the
 * sandbox's own (its answer is lost).
 */
export const SANDBOX_PAYMENT_METHODS: Record<string, string> = {
  pm_card_visa: SANDBOX_CARDS.approve,
  pm_card_mastercard: '5555555555554444',
  pm_card_chargeDeclined: SANDBOX_CARDS.decline,
  pm_card_chargeDeclinedInsufficientFunds: SANDBOX_CARDS.insufficientFunds,
  pm_card_sandboxTimeout: SANDBOX_CARDS.timeout,
};

export type SandboxOp = 'authorise' | 'capture' | 'void' | 'refund' | 'lookup';

/**
 * A fault to inject into the next call(s) of `op`: `timeout_before` rejects PAYMENT_UNAVAILABLE
 * without doing anything; `timeout_after` does the operation, then rejects PAYMENT_UNAVAILABLE
 * (the answer was "lost").
 */
export interface SandboxFault {
  op: SandboxOp;
  mode: 'timeout_before' | 'timeout_after';
  times?: number;
}

export interface SandboxProviderDeps {
  store: Store;
  webhookSecret: string;
  /** Capture answers `pending`; the outcome is only told by the webhook. */
  asyncCapture?: boolean;
  now?: () => Date;
}

export interface SignedWebhook {
  body: string;
  signature: string;
  event: WebhookEvent;
}

/**
 * The built-in payment provider for the demo and tests. Its ledger (payments, cards,
 * idempotency keys, every money movement) lives in the hub's store, so it survives a hub
 * restart like a real gateway would. Each call runs in its own store transaction (never call
 * it from inside one). Webhooks are queued in memory, signed; take them with `takeWebhooks()`
 * and POST them to `/api/payments/webhook/sandbox` (as often as you like).
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  private readonly faults: SandboxFault[] = [];
  private readonly webhooks: SignedWebhook[] = [];

  constructor(private readonly deps: SandboxProviderDeps) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Injects a fault (see SandboxFault). */
  injectFault(f: SandboxFault): void {
    this.faults.push({ times: 1, ...f });
  }

  private takeFault(op: SandboxOp): SandboxFault['mode'] | undefined {
    const f = this.faults.find((x) => x.op === op && (x.times ?? 1) > 0);
    if (!f) return undefined;
    f.times = (f.times ?? 1) - 1;
    return f.mode;
  }

  /** Returns and clears the queued webhooks. */
  takeWebhooks(): SignedWebhook[] {
    return this.webhooks.splice(0);
  }

  private queueWebhook(
    type: WebhookEvent['type'],
    p: SandboxPaymentRecord,
    amountMinor: number,
  ): void {
    const event: WebhookEvent = {
      eventId: `evt_${randomUUID()}`,
      type,
      providerRef: p.id,
      amountMinor,
    };
    const body = JSON.stringify(event);
    this.webhooks.push({
      body,
      event,
      signature: signWebhook(this.deps.webhookSecret, body, this.now().getTime()),
    });
  }

  /** Every sandbox payment (the persisted ledger's state). */
  payments(): Promise<SandboxPaymentRecord[]> {
    return this.deps.store.transaction((tx) => tx.sandbox.listPayments());
  }

  /** Every money movement, in order. */
  ledger() {
    return this.deps.store.transaction((tx) => tx.sandbox.ledger());
  }

  /**
   * The sandbox's stand-in for a provider's hosted card fields (served at
   * /sandbox-provider/payment-methods, apart from the rental routes): keeps the card in the
   * sandbox's own ledger and answers a payment-method id (`pm_…`), the only thing the renter's
   * page sends to the hub. CARD_DECLINED for a number that is not one or an expired card.
   */
  async createPaymentMethod(card: CardInput): Promise<{ id: string; last4: string }> {
    const number = card.number.replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(number)) {
      throw new PaymentError(
        'CARD_DECLINED',
        'the card number is not valid; check it and try again',
      );
    }
    // As a gateway does: a card past the end of its expiry month is refused.
    if (Date.UTC(card.expYear, card.expMonth, 1) <= this.now().getTime()) {
      throw new PaymentError('CARD_DECLINED', 'the card has expired; use another card');
    }
    const id = `pm_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
    const last4 = number.slice(-4);
    await this.deps.store.transaction((tx) => tx.sandbox.insertCard(id, number, last4));
    return { id, last4 };
  }

  /** The card number behind a payment-method id (a stored one, or a test id). */
  private async cardNumber(
    tx: Parameters<Parameters<Store['transaction']>[0]>[0],
    token: string,
  ): Promise<string | undefined> {
    return SANDBOX_PAYMENT_METHODS[token] ?? (await tx.sandbox.getCard(token))?.number;
  }

  /** Runs `fn` once per idempotency key: a repeat returns the first result (or the first refusal). */
  private async idempotent(
    key: string,
    op: SandboxOp,
    fn: (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) => Promise<ProviderResult>,
  ): Promise<ProviderResult> {
    const fault = this.takeFault(op);
    if (fault === 'timeout_before') throw unavailable(op);
    const out = await this.deps.store.transaction(async (tx) => {
      const prev = await tx.sandbox.getIdempotent(key);
      if (prev) {
        if (prev.operation !== op) {
          return {
            error: {
              code: 'PAYMENT_REFUSED',
              message: `idempotency key ${key} was used for ${prev.operation}`,
            },
          };
        }
        return prev.result as { ok?: ProviderResult; error?: { code: string; message: string } };
      }
      let result: { ok?: ProviderResult; error?: { code: string; message: string } };
      try {
        result = { ok: await fn(tx) };
      } catch (err) {
        if (!(err instanceof PaymentError)) throw err;
        result = { error: { code: err.code, message: err.message } };
      }
      await tx.sandbox.putIdempotent(key, op, result);
      return result;
    });
    if (fault === 'timeout_after') throw unavailable(op);
    if (out.error)
      throw new PaymentError(out.error.code as PaymentError['code'], out.error.message);
    return out.ok as ProviderResult;
  }

  authorise(req: Parameters<PaymentProvider['authorise']>[0]): Promise<ProviderResult> {
    return this.idempotent(req.idempotencyKey, 'authorise', async (tx) => {
      const number = await this.cardNumber(tx, req.cardToken);
      if (!number)
        throw new PaymentError('CARD_DECLINED', 'unknown payment method; enter the card again');
      if (number === SANDBOX_CARDS.decline)
        throw new PaymentError('CARD_DECLINED', 'the card was declined; use another card');
      if (number === SANDBOX_CARDS.insufficientFunds)
        throw new PaymentError(
          'INSUFFICIENT_FUNDS',
          'the card has insufficient funds; use another card',
        );
      const at = this.now().toISOString();
      const p: SandboxPaymentRecord = {
        id: `sbp_${randomUUID()}`,
        reference: req.reference,
        cardToken: req.cardToken,
        amountMinor: req.amountMinor,
        currency: req.currency,
        state: 'authorised',
        capturedMinor: 0,
        refundedMinor: 0,
        captures: 0,
        createdAt: at,
        updatedAt: at,
      };
      await tx.sandbox.insertPayment(p);
      await tx.sandbox.addLedger({
        paymentId: p.id,
        op: 'authorise',
        amountMinor: p.amountMinor,
        at,
      });
      this.queueWebhook('payment.authorised', p, p.amountMinor);
      if (number === SANDBOX_CARDS.timeout) {
        // The authorisation happened, but its answer is "lost": the caller must look it up.
        throw new TimeoutAfterCommit(p.id);
      }
      return { providerRef: p.id, status: 'succeeded', last4: number.slice(-4) };
    }).catch((err) => {
      if (err instanceof PaymentError && err.code === ('TIMEOUT_AFTER_COMMIT' as never))
        throw unavailable('authorise');
      throw err;
    });
  }

  capture(req: Parameters<PaymentProvider['capture']>[0]): Promise<ProviderResult> {
    return this.idempotent(req.idempotencyKey, 'capture', async (tx) => {
      const p = await this.mustGet(tx, req.providerRef);
      if (p.state !== 'authorised')
        throw new PaymentError(
          'PAYMENT_REFUSED',
          `payment ${p.id} is ${p.state}; only an authorised payment can be captured`,
        );
      if (req.amountMinor > p.amountMinor || req.amountMinor < 0)
        throw new PaymentError(
          'PAYMENT_REFUSED',
          `capture of ${req.amountMinor} exceeds the authorised ${p.amountMinor}`,
        );
      const at = this.now().toISOString();
      await tx.sandbox.updatePayment(p.id, {
        state: 'captured',
        capturedMinor: req.amountMinor,
        captures: p.captures + 1,
        updatedAt: at,
      });
      await tx.sandbox.addLedger({
        paymentId: p.id,
        op: 'capture',
        amountMinor: req.amountMinor,
        at,
      });
      this.queueWebhook('payment.captured', p, req.amountMinor);
      return { providerRef: p.id, status: this.deps.asyncCapture ? 'pending' : 'succeeded' };
    });
  }

  void(req: Parameters<PaymentProvider['void']>[0]): Promise<ProviderResult> {
    return this.idempotent(req.idempotencyKey, 'void', async (tx) => {
      const p = await this.mustGet(tx, req.providerRef);
      if (p.state === 'voided') return { providerRef: p.id, status: 'succeeded' };
      if (p.state !== 'authorised')
        throw new PaymentError(
          'PAYMENT_REFUSED',
          `payment ${p.id} is ${p.state}; only an authorisation can be voided`,
        );
      const at = this.now().toISOString();
      await tx.sandbox.updatePayment(p.id, { state: 'voided', updatedAt: at });
      await tx.sandbox.addLedger({
        paymentId: p.id,
        op: 'void',
        amountMinor: p.amountMinor,
        at,
      });
      this.queueWebhook('payment.voided', p, p.amountMinor);
      return { providerRef: p.id, status: 'succeeded' };
    });
  }

  refund(req: Parameters<PaymentProvider['refund']>[0]): Promise<ProviderResult> {
    return this.idempotent(req.idempotencyKey, 'refund', async (tx) => {
      const p = await this.mustGet(tx, req.providerRef);
      const left = p.capturedMinor - p.refundedMinor;
      if (p.state !== 'captured' && p.state !== 'partially_refunded')
        throw new PaymentError(
          'PAYMENT_REFUSED',
          `payment ${p.id} is ${p.state}; nothing to refund`,
        );
      if (req.amountMinor <= 0 || req.amountMinor > left)
        throw new PaymentError(
          'PAYMENT_REFUSED',
          `refund of ${req.amountMinor} exceeds the ${left} left on ${p.id}`,
        );
      const at = this.now().toISOString();
      const refunded = p.refundedMinor + req.amountMinor;
      await tx.sandbox.updatePayment(p.id, {
        state: refunded === p.capturedMinor ? 'refunded' : 'partially_refunded',
        refundedMinor: refunded,
        updatedAt: at,
      });
      await tx.sandbox.addLedger({
        paymentId: p.id,
        op: 'refund',
        amountMinor: req.amountMinor,
        at,
      });
      this.queueWebhook('payment.refunded', p, req.amountMinor);
      return { providerRef: p.id, status: 'succeeded' };
    });
  }

  async lookup(reference: string): Promise<ProviderPaymentStatus | undefined> {
    if (this.takeFault('lookup')) throw unavailable('lookup');
    const p = await this.deps.store.transaction((tx) => tx.sandbox.findByReference(reference));
    return (
      p && {
        providerRef: p.id,
        state: p.state,
        amountMinor: p.amountMinor,
        capturedMinor: p.capturedMinor,
      }
    );
  }

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookEvent {
    const h = headers['x-sandbox-signature'];
    const sig = Array.isArray(h) ? h[0] : h;
    if (
      !verifyWebhookSignature(this.deps.webhookSecret, rawBody, sig, {
        nowMs: this.now().getTime(),
      })
    ) {
      throw new PaymentError('WEBHOOK_INVALID', 'webhook signature missing, invalid or too old');
    }
    let ev: WebhookEvent;
    try {
      ev = JSON.parse(rawBody.toString('utf8')) as WebhookEvent;
    } catch {
      throw new PaymentError('WEBHOOK_INVALID', 'webhook body is not JSON');
    }
    if (
      typeof ev?.eventId !== 'string' ||
      typeof ev.providerRef !== 'string' ||
      typeof ev.type !== 'string'
    )
      throw new PaymentError('WEBHOOK_INVALID', 'webhook body lacks eventId, type or providerRef');
    return ev;
  }

  private async mustGet(
    tx: Parameters<Parameters<Store['transaction']>[0]>[0],
    id: string,
  ): Promise<SandboxPaymentRecord> {
    const p = await tx.sandbox.getPayment(id);
    if (!p) throw new PaymentError('PAYMENT_REFUSED', `no sandbox payment ${id}`);
    return p;
  }
}

function unavailable(op: string): PaymentError {
  return new PaymentError(
    'PAYMENT_UNAVAILABLE',
    `the payment provider did not answer the ${op} in time; try again`,
  );
}

class TimeoutAfterCommit extends PaymentError {
  constructor(readonly providerRef: string) {
    super('TIMEOUT_AFTER_COMMIT' as never, 'authorisation done, answer lost');
  }
}
