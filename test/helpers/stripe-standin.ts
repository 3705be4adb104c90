// A local stand-in for the parts of Stripe's HTTP API the Stripe provider uses, following
// Stripe's published behaviour (https://docs.stripe.com/api): PaymentIntents with manual
// capture (create + confirm, capture up to the capturable amount, cancel, search by metadata),
// refunds (full and partial), customers and payment methods (the test ids `pm_card_visa`,
// `pm_card_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`), Stripe's error bodies
// and status codes, idempotency keys (a replay returns the first answer; the same key with other
// parameters is a 400 idempotency_error; keys are forgotten after 24 hours), authorisations that
// lapse 7 days after they were made (the charge expires, the intent is canceled), and signed
// webhooks (`Stripe-Signature: t=…,v1=…`) that tests deliver twice and out of order.
// State is in memory, per instance; time is the injected clock.
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAYMENT_FRAME, STANDIN_PUBLISHABLE_KEY, STRIPE_JS } from './stripe-js-standin.js';

export { STANDIN_PUBLISHABLE_KEY };

export const STANDIN_SECRET_KEY = 'sk_test_standin_0123456789';
export const DAY_MS = 24 * 3600 * 1000;
/** How long an uncaptured online card authorisation lasts on Stripe. */
export const AUTH_LIFETIME_MS = 7 * DAY_MS;
const IDEMPOTENCY_TTL_MS = DAY_MS;

type Obj = Record<string, unknown>;

export interface StandinIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status:
    | 'requires_payment_method'
    | 'requires_action'
    | 'requires_capture'
    | 'succeeded'
    | 'canceled';
  capture_method: 'manual' | 'automatic';
  customer: string | null;
  payment_method: string | null;
  metadata: Record<string, string>;
  latest_charge: string | null;
  cancellation_reason: string | null;
  created: number;
  livemode: false;
}

interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  refunded: boolean;
  status: 'succeeded' | 'failed';
  payment_intent: string;
  payment_method: string;
  payment_method_details: {
    type: 'card';
    card: { brand: string; last4: string; capture_before: number };
  };
  created: number;
}

interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  payment_intent: string;
  currency: string;
  status: 'succeeded';
  reason: string | null;
  metadata: Record<string, string>;
  created: number;
}

interface PaymentMethod {
  id: string;
  object: 'payment_method';
  type: 'card';
  customer: string | null;
  card: { brand: string; last4: string; exp_month: number; exp_year: number };
  /** What authorising it does (from the test card it stands for). */
  outcome: 'approve' | 'card_declined' | 'insufficient_funds';
}

/** One money movement the stand-in made (the equivalent of the sandbox's ledger). */
export interface StandinMovement {
  intent: string;
  op: 'authorise' | 'capture' | 'cancel' | 'refund' | 'expire';
  amount: number;
}

export type StandinOp = 'authorise' | 'capture' | 'cancel' | 'refund' | 'search';

/**
 * A fault for the next call(s) of `op`: `error_before` answers 500 api_error having done
 * nothing (no idempotent result is saved, as when a request never started executing);
 * `error_after` does the operation, then answers 500 (and saves that answer for the key, as
 * Stripe does), so the caller does not know the outcome.
 */
export interface StandinFault {
  op: StandinOp;
  mode: 'error_before' | 'error_after';
  times?: number;
}

export interface SignedEvent {
  id: string;
  type: string;
  body: string;
  signature: string;
}

/** Test payment methods Stripe recognises in test mode, and what they do here. */
const TEST_METHODS: Record<string, { last4: string; outcome: PaymentMethod['outcome'] }> = {
  pm_card_visa: { last4: '4242', outcome: 'approve' },
  pm_card_mastercard: { last4: '4444', outcome: 'approve' },
  pm_card_chargeDeclined: { last4: '0002', outcome: 'card_declined' },
  pm_card_chargeDeclinedInsufficientFunds: { last4: '9995', outcome: 'insufficient_funds' },
};

/** Stripe's test card numbers (docs.stripe.com/testing), as Stripe.js would send them. */
const TEST_CARDS: Record<string, PaymentMethod['outcome']> = {
  '4242424242424242': 'approve',
  '5555555555554444': 'approve',
  '4000000000000002': 'card_declined',
  '4000000000009995': 'insufficient_funds',
};

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Obj,
  ) {
    super(String(body.message));
  }
}

const invalid = (message: string, extra: Obj = {}) =>
  new StripeHttpError(400, { type: 'invalid_request_error', message, ...extra });

export class StripeStandin {
  private server?: http.Server;
  readonly intents = new Map<string, StandinIntent>();
  private readonly charges = new Map<string, Charge>();
  private readonly refunds = new Map<string, Refund>();
  private readonly methods = new Map<string, PaymentMethod>();
  private readonly customers = new Map<string, Obj>();
  private readonly idem = new Map<
    string,
    { route: string; params: string; status: number; body: string; at: number }
  >();
  private readonly faults: StandinFault[] = [];
  private readonly pending: SignedEvent[] = [];
  readonly movements: StandinMovement[] = [];
  /** The parameters of every PaymentIntent created, by intent id (`off_session`, `confirm`...). */
  readonly created = new Map<string, Obj>();
  /** How many of the next confirmations the card's issuer wants authenticated (3-D Secure). */
  private authenticate = 0;
  /** Every request the stand-in answered (method, path, idempotency key). */
  readonly requests: { method: string; path: string; key?: string; status: number }[] = [];

  constructor(
    private readonly opts: { webhookSecret: string; now?: () => number; secretKey?: string },
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  async start(): Promise<{ host: string; port: number; protocol: 'http' }> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return {
      host: '127.0.0.1',
      port: (this.server.address() as AddressInfo).port,
      protocol: 'http',
    };
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /**
   * The card's issuer wants the next `times` confirmations authenticated (as Stripe's test card
   * 4000 0027 6000 3184 does): on session the intent goes to `requires_action`; off session
   * (`off_session=true`) the creation answers 402 card_error `authentication_required`, the
   * intent left in `requires_payment_method` (docs.stripe.com/payments/save-and-reuse).
   */
  requireAuthentication(times = 1): void {
    this.authenticate += times;
  }

  injectFault(f: StandinFault): void {
    this.faults.push({ times: 1, ...f });
  }

  private takeFault(op: StandinOp): StandinFault['mode'] | undefined {
    const f = this.faults.find((x) => x.op === op && (x.times ?? 1) > 0);
    if (!f) return undefined;
    f.times = (f.times ?? 1) - 1;
    return f.mode;
  }

  /** Returns and clears the signed events not yet taken, oldest first. */
  takeWebhooks(): SignedEvent[] {
    return this.pending.splice(0);
  }

  /**
   * POSTs every pending event to `url` twice, newest first (Stripe delivers at least once and
   * in no guaranteed order); returns the HTTP statuses.
   */
  async deliverWebhooks(url: string): Promise<number[]> {
    const events = this.takeWebhooks();
    const order = [...events].reverse().concat(events);
    const out: number[] = [];
    for (const e of order) {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': e.signature },
        body: e.body,
      });
      await r.text();
      out.push(r.status);
    }
    return out;
  }

  /** Lapses every uncaptured authorisation older than its capture_before (call after moving the clock). */
  expireAuthorisations(): void {
    for (const pi of this.intents.values()) this.lapseIfExpired(pi);
  }

  private lapseIfExpired(pi: StandinIntent): void {
    if (pi.status !== 'requires_capture' || !pi.latest_charge) return;
    const ch = this.charges.get(pi.latest_charge)!;
    if (this.now() / 1000 < ch.payment_method_details.card.capture_before) return;
    pi.status = 'canceled';
    pi.cancellation_reason = 'automatic';
    pi.amount_capturable = 0;
    this.movements.push({ intent: pi.id, op: 'expire', amount: pi.amount });
    this.emit('charge.expired', ch);
    this.emit('payment_intent.canceled', pi);
  }

  private id(prefix: string): string {
    return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
  }

  private emit(type: string, object: unknown): void {
    const at = Math.floor(this.now() / 1000);
    const id = this.id('evt');
    const body = JSON.stringify({
      id,
      object: 'event',
      api_version: '2025-01-27.acacia',
      created: at,
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
    const mac = createHmac('sha256', this.opts.webhookSecret).update(`${at}.${body}`).digest('hex');
    this.pending.push({ id, type, body, signature: `t=${at},v1=${mac}` });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://standin');
    const raw = req.method === 'GET' ? url.search.slice(1) : Buffer.concat(chunks).toString();
    const params = parseForm(raw);
    const key = req.headers['idempotency-key'] as string | undefined;
    const send = (status: number, body: string, extra: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, key, status });
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': this.id('req'),
        ...extra,
      });
      res.end(body);
    };
    // Stripe.js and its Payment Element frame (stripe-js-standin.ts), served without a key.
    if (req.method === 'GET' && (url.pathname === '/v3/' || url.pathname === '/elements/payment')) {
      const js = url.pathname === '/v3/';
      this.requests.push({ method: 'GET', path: url.pathname, status: 200 });
      res.writeHead(200, {
        'content-type': js ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8',
      });
      res.end(js ? STRIPE_JS : PAYMENT_FRAME);
      return;
    }
    const auth = req.headers.authorization;
    // The publishable key may only make payment methods (as Stripe.js does), the secret key all.
    const publishable =
      auth === `Bearer ${STANDIN_PUBLISHABLE_KEY}` &&
      req.method === 'POST' &&
      url.pathname === '/v1/payment_methods';
    if (!publishable && auth !== `Bearer ${this.opts.secretKey ?? STANDIN_SECRET_KEY}`) {
      send(
        401,
        JSON.stringify({
          error: { type: 'invalid_request_error', message: 'Invalid API Key provided' },
        }),
      );
      return;
    }
    const routeKey = `${req.method} ${url.pathname}`;
    if (key && req.method === 'POST') {
      const prev = this.idem.get(key);
      if (prev && this.now() - prev.at < IDEMPOTENCY_TTL_MS) {
        if (prev.route !== routeKey || prev.params !== raw) {
          send(
            400,
            JSON.stringify({
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              },
            }),
          );
          return;
        }
        send(prev.status, prev.body, { 'idempotent-replayed': 'true' });
        return;
      }
    }
    const op = opOf(req.method ?? '', url.pathname);
    const fault = op ? this.takeFault(op) : undefined;
    const apiError = JSON.stringify({
      error: { type: 'api_error', message: 'An unknown error occurred' },
    });
    if (fault === 'error_before') {
      send(500, apiError, { 'stripe-should-retry': 'false' });
      return;
    }
    let status = 200;
    let body: string;
    try {
      body = JSON.stringify(this.route(req.method ?? '', url.pathname, params));
    } catch (err) {
      if (!(err instanceof StripeHttpError)) {
        status = 500;
        body = apiError;
      } else {
        status = err.status;
        body = JSON.stringify({ error: err.body });
      }
    }
    if (fault === 'error_after') {
      status = 500;
      body = apiError;
    }
    if (key && req.method === 'POST')
      this.idem.set(key, { route: routeKey, params: raw, status, body, at: this.now() });
    send(status, body, fault === 'error_after' ? { 'stripe-should-retry': 'false' } : {});
  }

  private route(method: string, path: string, p: Obj): unknown {
    const seg = path.split('/').filter(Boolean); // v1, resource, id, action
    if (seg[0] !== 'v1')
      throw new StripeHttpError(404, {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${path})`,
      });
    const [, res, id, action] = seg;
    if (res === 'payment_intents') {
      if (method === 'POST' && !id) return this.createIntent(p);
      if (method === 'GET' && id === 'search') return this.search(String(p.query ?? ''));
      const pi = this.intents.get(id ?? '');
      if (!pi)
        throw new StripeHttpError(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `No such payment_intent: '${id}'`,
          param: 'intent',
        });
      this.lapseIfExpired(pi);
      if (method === 'GET' && !action) return this.expand(pi, p);
      if (method === 'POST' && action === 'capture') return this.capture(pi, p);
      if (method === 'POST' && action === 'cancel') return this.cancel(pi);
    }
    if (res === 'refunds' && method === 'POST' && !id) return this.refund(p);
    if (res === 'refunds' && method === 'GET' && !id) {
      const data = [...this.refunds.values()].filter(
        (r) => !p.payment_intent || r.payment_intent === p.payment_intent,
      );
      return { object: 'list', data, has_more: false, url: '/v1/refunds' };
    }
    if (res === 'customers' && method === 'POST' && !id) {
      const c = {
        id: this.id('cus'),
        object: 'customer',
        email: p.email ?? null,
        metadata: p.metadata ?? {},
      };
      this.customers.set(c.id, c);
      return c;
    }
    if (res === 'payment_methods' && !id && method === 'POST') return strip(this.cardMethod(p));
    if (res === 'payment_methods' && id && method === 'GET' && !action) return this.method(id);
    if (res === 'payment_methods' && id && method === 'POST' && action === 'attach') {
      const customer = String(p.customer ?? '');
      if (!this.customers.has(customer))
        throw invalid(`No such customer: '${customer}'`, {
          code: 'resource_missing',
          param: 'customer',
        });
      const pm = this.method(id);
      // A test id stands for a card, not one payment method: attaching it makes a new one.
      const attached = TEST_METHODS[id] ? { ...pm, id: this.id('pm') } : pm;
      if (attached.customer && attached.customer !== customer)
        throw invalid('The payment method you provided has already been attached to a customer.', {
          code: 'payment_method_unexpected_state',
        });
      attached.customer = customer;
      this.methods.set(attached.id, attached);
      return strip(attached);
    }
    throw new StripeHttpError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path})`,
    });
  }

  /** A card payment method from card details (what Stripe.js sends; test card numbers only). */
  private cardMethod(p: Obj): PaymentMethod {
    const c = (p.card ?? {}) as Obj;
    const number = String(c.number ?? '');
    const outcome = TEST_CARDS[number];
    if (!outcome)
      throw new StripeHttpError(402, {
        type: 'card_error',
        code: 'incorrect_number',
        message: 'Your card number is incorrect.',
        param: 'number',
      });
    const pm: PaymentMethod = {
      id: this.id('pm'),
      object: 'payment_method',
      type: 'card',
      customer: null,
      card: {
        brand: number.startsWith('5') ? 'mastercard' : 'visa',
        last4: number.slice(-4),
        exp_month: Number(c.exp_month),
        exp_year: Number(c.exp_year),
      },
      outcome,
    };
    this.methods.set(pm.id, pm);
    return pm;
  }

  private method(id: string): PaymentMethod {
    const known = this.methods.get(id);
    if (known) return known;
    const t = TEST_METHODS[id];
    if (!t)
      throw invalid(`No such PaymentMethod: '${id}'`, {
        code: 'resource_missing',
        param: 'payment_method',
      });
    return {
      id,
      object: 'payment_method',
      type: 'card',
      customer: null,
      card: { brand: 'visa', last4: t.last4, exp_month: 12, exp_year: 2040 },
      outcome: t.outcome,
    };
  }

  private expand(pi: StandinIntent, p: Obj): unknown {
    const wanted = Object.values((p.expand as Obj) ?? {});
    if (!wanted.includes('latest_charge') || !pi.latest_charge) return pi;
    return { ...pi, latest_charge: this.charges.get(pi.latest_charge) };
  }

  private createIntent(p: Obj): unknown {
    const amount = Number(p.amount);
    if (!Number.isInteger(amount) || amount < 1)
      throw invalid('Invalid integer: amount', {
        code: 'parameter_invalid_integer',
        param: 'amount',
      });
    if (amount > 99_999_999)
      throw invalid('Amount must be no more than $999,999.99', {
        code: 'amount_too_large',
        param: 'amount',
      });
    const at = Math.floor(this.now() / 1000);
    const customer = p.customer ? String(p.customer) : null;
    const pi: StandinIntent = {
      id: this.id('pi'),
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      currency: String(p.currency ?? '').toLowerCase(),
      status: 'requires_payment_method',
      capture_method: p.capture_method === 'manual' ? 'manual' : 'automatic',
      customer,
      payment_method: null,
      metadata: (p.metadata as Record<string, string>) ?? {},
      latest_charge: null,
      cancellation_reason: null,
      created: at,
      livemode: false,
    };
    this.intents.set(pi.id, pi);
    this.created.set(pi.id, p);
    if (p.off_session === 'true' && p.confirm !== 'true')
      throw invalid('off_session can only be used with confirm=true', { param: 'off_session' });
    if (!p.payment_method || p.confirm !== 'true') return pi;
    const pm = this.method(String(p.payment_method));
    if (pm.customer && pm.customer !== customer)
      throw invalid(
        `The provided PaymentMethod ${pm.id} is attached to a customer; pass that customer to use it.`,
        { code: 'payment_method_unexpected_state', param: 'payment_method' },
      );
    pi.payment_method = pm.id;
    if (p.setup_future_usage && customer && !pm.customer && pm.outcome === 'approve') {
      if (!this.customers.has(customer))
        throw invalid(`No such customer: '${customer}'`, {
          code: 'resource_missing',
          param: 'customer',
        });
      // Kept for later payments: attached to the customer (a test id becomes a new method).
      const kept = { ...pm, id: TEST_METHODS[pm.id] ? this.id('pm') : pm.id, customer };
      this.methods.set(kept.id, kept);
      pi.payment_method = kept.id;
    }
    if (pm.outcome === 'approve' && this.authenticate > 0) {
      this.authenticate -= 1;
      if (p.off_session !== 'true') {
        pi.status = 'requires_action';
        return this.expand(pi, p);
      }
      this.emit('payment_intent.payment_failed', pi);
      throw new StripeHttpError(402, {
        type: 'card_error',
        code: 'authentication_required',
        decline_code: 'authentication_required',
        message: 'Your card was declined. This transaction requires authentication.',
        payment_intent: pi,
      });
    }
    if (pm.outcome !== 'approve') {
      this.emit('payment_intent.payment_failed', pi);
      throw new StripeHttpError(402, {
        type: 'card_error',
        code: 'card_declined',
        decline_code:
          pm.outcome === 'insufficient_funds' ? 'insufficient_funds' : 'generic_decline',
        message:
          pm.outcome === 'insufficient_funds'
            ? 'Your card has insufficient funds.'
            : 'Your card was declined.',
        payment_intent: pi,
      });
    }
    const ch: Charge = {
      id: this.id('ch'),
      object: 'charge',
      amount,
      amount_captured: 0,
      amount_refunded: 0,
      captured: false,
      refunded: false,
      status: 'succeeded',
      payment_intent: pi.id,
      payment_method: pm.id,
      payment_method_details: {
        type: 'card',
        card: {
          brand: pm.card.brand,
          last4: pm.card.last4,
          capture_before: at + AUTH_LIFETIME_MS / 1000,
        },
      },
      created: at,
    };
    this.charges.set(ch.id, ch);
    pi.latest_charge = ch.id;
    if (pi.capture_method === 'manual') {
      pi.status = 'requires_capture';
      pi.amount_capturable = amount;
      this.movements.push({ intent: pi.id, op: 'authorise', amount });
      this.emit('payment_intent.amount_capturable_updated', pi);
    } else {
      pi.status = 'succeeded';
      pi.amount_received = amount;
      ch.captured = true;
      ch.amount_captured = amount;
      this.movements.push({ intent: pi.id, op: 'capture', amount });
      this.emit('payment_intent.succeeded', pi);
    }
    return this.expand(pi, p);
  }

  private unexpected(pi: StandinIntent, what: string, allowed: string): StripeHttpError {
    return invalid(
      `This PaymentIntent could not be ${what} because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be ${what}: ${allowed}.`,
      { code: 'payment_intent_unexpected_state', payment_intent: pi },
    );
  }

  private capture(pi: StandinIntent, p: Obj): unknown {
    if (pi.status !== 'requires_capture') throw this.unexpected(pi, 'captured', 'requires_capture');
    const amount =
      p.amount_to_capture === undefined ? pi.amount_capturable : Number(p.amount_to_capture);
    if (!Number.isInteger(amount) || amount < 1)
      throw invalid('Invalid integer: amount_to_capture', {
        code: 'parameter_invalid_integer',
        param: 'amount_to_capture',
      });
    if (amount > pi.amount_capturable)
      throw invalid(
        `The amount to capture (${amount}) is greater than the amount capturable (${pi.amount_capturable}).`,
        { code: 'amount_too_large', param: 'amount_to_capture' },
      );
    const ch = this.charges.get(pi.latest_charge!)!;
    pi.status = 'succeeded';
    pi.amount_received = amount;
    pi.amount_capturable = 0;
    ch.captured = true;
    ch.amount_captured = amount;
    this.movements.push({ intent: pi.id, op: 'capture', amount });
    this.emit('charge.captured', ch);
    this.emit('payment_intent.succeeded', pi);
    return this.expand(pi, p);
  }

  private cancel(pi: StandinIntent): unknown {
    if (pi.status === 'succeeded' || pi.status === 'canceled')
      throw invalid(
        `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
        { code: 'payment_intent_unexpected_state', payment_intent: pi },
      );
    const authorised = pi.status === 'requires_capture';
    pi.status = 'canceled';
    pi.cancellation_reason = 'requested_by_customer';
    pi.amount_capturable = 0;
    if (authorised) this.movements.push({ intent: pi.id, op: 'cancel', amount: pi.amount });
    this.emit('payment_intent.canceled', pi);
    return pi;
  }

  private refund(p: Obj): unknown {
    const pi = this.intents.get(String(p.payment_intent ?? ''));
    if (!pi)
      throw invalid(`No such payment_intent: '${p.payment_intent}'`, {
        code: 'resource_missing',
        param: 'payment_intent',
      });
    if (pi.status !== 'succeeded' || !pi.latest_charge)
      throw invalid(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, {
        code: 'charge_not_refundable',
      });
    const ch = this.charges.get(pi.latest_charge)!;
    const left = ch.amount_captured - ch.amount_refunded;
    const amount = p.amount === undefined ? left : Number(p.amount);
    if (left === 0)
      throw invalid(`Charge ${ch.id} has already been refunded.`, {
        code: 'charge_already_refunded',
      });
    if (!Number.isInteger(amount) || amount < 1 || amount > left)
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        { code: 'amount_too_large', param: 'amount' },
      );
    ch.amount_refunded += amount;
    ch.refunded = ch.amount_refunded === ch.amount_captured;
    const r: Refund = {
      id: this.id('re'),
      object: 'refund',
      amount,
      charge: ch.id,
      payment_intent: pi.id,
      currency: pi.currency,
      status: 'succeeded',
      reason: p.reason ? String(p.reason) : null,
      metadata: (p.metadata as Record<string, string>) ?? {},
      created: Math.floor(this.now() / 1000),
    };
    this.refunds.set(r.id, r);
    this.movements.push({ intent: pi.id, op: 'refund', amount });
    this.emit('refund.created', r);
    this.emit('charge.refunded', ch);
    return r;
  }

  /** Search Query Language, the one clause the provider uses: `metadata['key']:'value'`. */
  private search(query: string): unknown {
    const m = /^metadata\['([^']+)'\]:'([^']*)'$/.exec(query.trim());
    if (!m) throw invalid(`Unsupported search query: ${query}`, { param: 'query' });
    const data = [...this.intents.values()].filter((pi) => pi.metadata[m[1]!] === m[2]);
    return {
      object: 'search_result',
      data,
      has_more: false,
      next_page: null,
      url: '/v1/payment_intents/search',
    };
  }
}

function opOf(method: string, path: string): StandinOp | undefined {
  if (method === 'GET' && path === '/v1/payment_intents/search') return 'search';
  if (method !== 'POST') return undefined;
  if (path === '/v1/payment_intents') return 'authorise';
  if (path.endsWith('/capture')) return 'capture';
  if (path.endsWith('/cancel')) return 'cancel';
  if (path === '/v1/refunds') return 'refund';
  return undefined;
}

function strip(pm: PaymentMethod): Obj {
  const { outcome: _o, ...rest } = pm;
  return rest;
}

/** Decodes Stripe's form encoding (`a[b]=1&expand[0]=x`) into nested objects. */
export function parseForm(raw: string): Obj {
  const out: Obj = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const path = k.replace(/\]/g, '').split('[');
    let o = out;
    for (const [i, part] of path.entries()) {
      if (i === path.length - 1) o[part] = v;
      else {
        if (typeof o[part] !== 'object') o[part] = {};
        o = o[part] as Obj;
      }
    }
  }
  return out;
}
