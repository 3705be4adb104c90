import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { PaymentProvider } from './provider.js';
import { SandboxProvider } from './sandbox/sandbox-provider.js';
import { StripeProvider } from './stripe/stripe-provider.js';

/** How long an uncaptured online card authorisation lasts at Stripe (docs.stripe.com/payments/place-a-hold-on-a-payment-method). */
export const STRIPE_AUTHORISATION_DAYS = 7;

export class PaymentConfigError extends Error {
  readonly code = 'EPAYMENTCONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'PaymentConfigError';
  }
}

/**
 * The configured payment provider. Secrets come from files or the environment (never from
 * the log: only their presence is reported); a real provider without its keys, or hold
 * windows that would outlive its authorisations, refuse to start (EPAYMENTCONFIG).
 */
export function createProvider(
  config: RentalConfig,
  deps: { store: Store; logger: Logger; now: () => Date; env?: NodeJS.ProcessEnv },
): PaymentProvider {
  const pc = config.payments;
  const env = deps.env ?? process.env;
  const webhookSecret =
    (pc.webhookSecretFile && readSecret(pc.webhookSecretFile, 'webhookSecretFile')) ||
    pc.webhookSecret ||
    (pc.provider === 'stripe' ? env.STRIPE_WEBHOOK_SECRET : undefined);
  if (pc.provider === 'sandbox')
    return new SandboxProvider({
      store: deps.store,
      webhookSecret: webhookSecret ?? randomBytes(24).toString('base64url'),
      asyncCapture: pc.sandboxAsyncCapture,
      now: deps.now,
    });
  const secretKey =
    (pc.stripe.secretKeyFile && readSecret(pc.stripe.secretKeyFile, 'stripe.secretKeyFile')) ||
    env.STRIPE_SECRET_KEY;
  if (!secretKey)
    throw new PaymentConfigError(
      'payments.provider is stripe but no secret key: set rental.payments.stripe.secretKeyFile or STRIPE_SECRET_KEY',
    );
  if (!webhookSecret)
    throw new PaymentConfigError(
      'payments.provider is stripe but no webhook secret: set rental.payments.webhookSecretFile or STRIPE_WEBHOOK_SECRET',
    );
  const longest = config.prepareDeadlineSeconds + config.holdWindowSeconds;
  const lifetime = STRIPE_AUTHORISATION_DAYS * 24 * 3600 - pc.stripe.lapseMarginSeconds;
  if (longest >= lifetime)
    throw new PaymentConfigError(
      `a reservation may hold its authorisation ${longest} s (prepareDeadlineSeconds + holdWindowSeconds), longer than Stripe keeps it (${STRIPE_AUTHORISATION_DAYS} days less lapseMarginSeconds); shorten the hold window`,
    );
  deps.logger.info(
    {
      provider: 'stripe',
      api: pc.stripe.api?.host ?? 'api.stripe.com',
      livemode: secretKey.startsWith('sk_live_'),
    },
    'payment provider configured (keys not logged)',
  );
  return new StripeProvider({
    secretKey,
    webhookSecret,
    logger: deps.logger,
    now: deps.now,
    ...(pc.stripe.api ? { api: pc.stripe.api } : {}),
    maxNetworkRetries: pc.stripe.maxNetworkRetries,
    timeoutMs: pc.stripe.timeoutMs,
  });
}

function readSecret(file: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new PaymentConfigError(
      `cannot read ${key} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path and its permissions`,
    );
  }
  if (!text) throw new PaymentConfigError(`${key} is empty`);
  return text;
}
