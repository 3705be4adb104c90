// The payment providers the money invariants run against, seen the same way: the gateway's
// own books (what it holds, captured, voided), a way to lose the next answer, and its signed
// webhooks. `sandbox` is the built-in provider; `stripe` is the Stripe provider talking to the
// local stand-in (test/helpers/stripe-standin.ts).
import pino from 'pino';
import type { PaymentProvider } from '../../../../cloud-lite/rental/payments/provider.js';
import type { SandboxProvider } from '../../../../cloud-lite/rental/payments/sandbox/sandbox-provider.js';
import { StripeProvider } from '../../../../cloud-lite/rental/payments/stripe/stripe-provider.js';
import { STANDIN_SECRET_KEY, StripeStandin } from '../../../helpers/stripe-standin.js';
import { CARD, type TestClock } from './rental-hub.js';

export interface GatewayPayment {
  id: string;
  amountMinor: number;
  state: 'authorised' | 'captured' | 'voided' | 'refunded' | 'declined';
  captures: number;
}

export interface Gateway {
  name: 'sandbox' | 'stripe';
  /** The provider to give the hub (undefined: the configured sandbox). */
  provider?: PaymentProvider;
  /** What a renter pays with: approved, declined, insufficient funds. */
  pay: { approve: unknown; decline: unknown; poor: unknown };
  /** The hub's sandbox provider, once the hub is up (sandbox only). */
  bind(provider: PaymentProvider): void;
  payments(): Promise<GatewayPayment[]>;
  /** Amounts authorised, one per authorisation made. */
  authorisations(): Promise<number[]>;
  /** The next `op` is done at the gateway but its answer is lost (an unknown outcome). */
  loseNextAnswer(op: 'authorise' | 'capture'): void;
  /** Signed webhooks not yet taken, with the headers to POST them with. */
  takeWebhooks(): { type: string; body: string; headers: Record<string, string> }[];
  webhookPath: string;
}

export const WHSEC = 'whsec_test_0123456789abcdef';

export function sandboxGateway(): Gateway {
  let sb: SandboxProvider | undefined;
  const must = () => {
    if (!sb) throw new Error('sandbox gateway not bound to a hub');
    return sb;
  };
  return {
    name: 'sandbox',
    pay: {
      approve: CARD,
      decline: { paymentMethod: 'pm_card_chargeDeclined' },
      poor: { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' },
    },
    bind(p) {
      sb = p as SandboxProvider;
    },
    async payments() {
      return (await must().payments()).map((p) => ({
        id: p.id,
        amountMinor: p.amountMinor,
        state: p.state === 'partially_refunded' ? 'refunded' : p.state,
        captures: p.captures,
      }));
    },
    async authorisations() {
      return (await must().ledger()).filter((e) => e.op === 'authorise').map((e) => e.amountMinor);
    },
    loseNextAnswer(op) {
      must().injectFault({ op, mode: 'timeout_after' });
    },
    takeWebhooks() {
      return must()
        .takeWebhooks()
        .map((w) => ({
          type: w.event.type,
          body: w.body,
          headers: { 'x-sandbox-signature': w.signature, 'content-type': 'application/json' },
        }));
    },
    webhookPath: '/api/payments/webhook/sandbox',
  };
}

/** The Stripe provider on a stand-in that runs on `clock` (stopped in teardown). */
export async function stripeGateway(
  t: { teardown(fn: () => unknown): void },
  clock: TestClock,
): Promise<Gateway & { standin: StripeStandin }> {
  const standin = new StripeStandin({ webhookSecret: WHSEC, now: () => clock.now().getTime() });
  const api = await standin.start();
  t.teardown(() => standin.stop());
  const provider = new StripeProvider({
    secretKey: STANDIN_SECRET_KEY,
    webhookSecret: WHSEC,
    logger: pino({ level: 'silent' }),
    now: clock.now,
    api,
    maxNetworkRetries: 0,
  });
  const STATE = {
    requires_capture: 'authorised',
    succeeded: 'captured',
    canceled: 'voided',
    requires_payment_method: 'declined',
    // Left waiting for an authentication step nobody takes: nothing is held.
    requires_action: 'declined',
  } as const;
  return {
    name: 'stripe',
    standin,
    provider,
    pay: {
      approve: { paymentMethod: 'pm_card_visa' },
      decline: { paymentMethod: 'pm_card_chargeDeclined' },
      poor: { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' },
    },
    bind() {},
    async payments() {
      standin.expireAuthorisations();
      const refunded = (id: string) =>
        standin.movements
          .filter((m) => m.intent === id && m.op === 'refund')
          .reduce((n, m) => n + m.amount, 0);
      return [...standin.intents.values()].map((pi) => ({
        id: pi.id,
        amountMinor: pi.amount,
        // A refunded intent stays `succeeded` at Stripe; its charge carries the refunds.
        state:
          pi.status === 'succeeded' && refunded(pi.id) >= pi.amount_received
            ? 'refunded'
            : STATE[pi.status],
        captures: standin.movements.filter((m) => m.intent === pi.id && m.op === 'capture').length,
      }));
    },
    async authorisations() {
      return standin.movements.filter((m) => m.op === 'authorise').map((m) => m.amount);
    },
    loseNextAnswer(op) {
      standin.injectFault({ op, mode: 'error_after' });
    },
    takeWebhooks() {
      return standin.takeWebhooks().map((w) => ({
        type: w.type,
        body: w.body,
        headers: { 'stripe-signature': w.signature, 'content-type': 'application/json' },
      }));
    },
    webhookPath: '/api/payments/webhook/stripe',
  };
}
