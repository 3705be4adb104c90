import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import type { ApiClient } from '../lib/api-client.js';
import { type CardInput, parseCard, SANDBOX_CARDS } from '../lib/card.js';
import { loadStripe, type StripeElements, type StripeJs } from '../lib/stripe-js.js';
import type { PaymentsConfig } from '../lib/types.js';
import { ErrorBox, Field } from './components.js';
import { useApi } from './context.js';

/** What the form pays with: the provider's payment-method id, and whether to save the card. */
export interface CollectedPayment {
  paymentMethod: string;
  save: boolean;
}

/**
 * The form's handle on the payment fields: `collect()` has the provider's card form make a
 * payment-method id (the card goes to the provider, never to the hub's rental routes).
 * Rejects with a sentence to show (a field to correct, a declined card).
 */
export class PaymentCollector {
  /** Set by the mounted PaymentFields. */
  create?: () => Promise<CollectedPayment>;
  collect(): Promise<CollectedPayment> {
    return this.create ? this.create() : Promise.reject(new Error(t('pay.notReady')));
  }
}

/**
 * The card form of the configured payment provider (GET /api/payments/config): Stripe's
 * Payment Element (Stripe.js from the configured URL), or the sandbox's card fields, which post
 * the card to the sandbox's own endpoint (its stand-in for hosted fields). Either way the page
 * then sends the hub only the payment-method id. "Save this card" for both.
 */
export function PaymentFields({
  collector,
  amountMinor,
  currency,
}: {
  collector: PaymentCollector;
  /** What will be authorised (Stripe's Element shows wallets and limits by it). */
  amountMinor: number;
  currency: string;
}) {
  const api = useApi();
  const [config, setConfig] = useState<PaymentsConfig>();
  const [error, setError] = useState<unknown>();
  const [save, setSave] = useState(false);
  useEffect(() => {
    api.paymentsConfig().then(setConfig, setError);
  }, [api]);
  let fields = null;
  if (error) fields = <ErrorBox error={error} />;
  else if (!config) fields = <p class="muted">{t('pay.loading')}</p>;
  else if (config.stripe)
    fields = (
      <StripeFields
        stripe={config.stripe}
        collector={collector}
        amountMinor={amountMinor}
        currency={currency}
        save={save}
      />
    );
  else if (config.sandbox)
    fields = (
      <SandboxFields
        url={config.sandbox.paymentMethodsUrl}
        collector={collector}
        save={save}
        api={api}
      />
    );
  return (
    <fieldset class="card-fields">
      <legend>Card</legend>
      {fields}
      <div class="field check">
        <input
          id="save-card"
          type="checkbox"
          checked={save}
          onChange={(e) => setSave((e.currentTarget as HTMLInputElement).checked)}
        />
        <label for="save-card">Save this card for later payments (only once it is accepted)</label>
      </div>
      <p class="hint">{t('pay.providerNote')}</p>
    </fieldset>
  );
}

/**
 * The sandbox's card form. The payment-method id is kept for the card as typed, so a retry of
 * the same payment sends the same id (and the page's idempotency key stays the same).
 */
function SandboxFields({
  url,
  collector,
  save,
  api,
}: {
  url: string;
  collector: PaymentCollector;
  save: boolean;
  api: ApiClient;
}) {
  const [value, setValue] = useState<CardInput>({ number: '', expiry: '', cvc: '' });
  const made = useRef(new Map<string, string>());
  collector.create = async () => {
    const parsed = parseCard(value);
    if ('error' in parsed) throw new Error(parsed.error);
    const key = JSON.stringify(parsed.card);
    let pm = made.current.get(key);
    if (!pm) {
      pm = await api.sandboxPaymentMethod(url, parsed.card);
      made.current.set(key, pm);
    }
    return { paymentMethod: pm, save };
  };
  return (
    <div class="sandbox-card" data-provider="sandbox">
      <Field
        label="Card number"
        name="cc-number"
        autocomplete="cc-number"
        inputMode="numeric"
        required
        value={value.number}
        onInput={(number) => setValue({ ...value, number })}
      />
      <div class="row">
        <Field
          label="Expiry (MM/YY)"
          name="cc-exp"
          autocomplete="cc-exp"
          placeholder="MM/YY"
          required
          value={value.expiry}
          onInput={(expiry) => setValue({ ...value, expiry })}
        />
        <Field
          label="CVC"
          name="cc-csc"
          autocomplete="cc-csc"
          inputMode="numeric"
          required
          value={value.cvc}
          onInput={(cvc) => setValue({ ...value, cvc })}
        />
      </div>
      <details class="sandbox-hint">
        <summary>Test cards (sandbox payments)</summary>
        <ul>
          {SANDBOX_CARDS.map((c) => (
            <li key={c.number}>
              <code>{c.number}</code>: {c.outcome}
            </li>
          ))}
        </ul>
        <p>Any future expiry date and any 3-digit CVC.</p>
      </details>
    </div>
  );
}

/**
 * Stripe's Payment Element, mounted in Stripe's own frames: the page never reads the card.
 * The payment-method id is kept until the renter changes the card.
 */
function StripeFields({
  stripe,
  collector,
  amountMinor,
  currency,
  save,
}: {
  stripe: NonNullable<PaymentsConfig['stripe']>;
  collector: PaymentCollector;
  amountMinor: number;
  currency: string;
  save: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const ready = useRef<{ js: StripeJs; elements: StripeElements }>();
  const made = useRef<string>();
  const [error, setError] = useState<unknown>();
  const amount = Math.max(1, amountMinor);
  useEffect(() => {
    const key = stripe.publishableKey;
    if (!key) return setError(new Error(t('pay.notConfigured')));
    let element: { destroy(): void } | undefined;
    let gone = false;
    loadStripe(stripe.jsUrl).then(
      (Stripe) => {
        if (gone || !host.current) return;
        const js = Stripe(key);
        const elements = js.elements({
          mode: 'payment',
          amount,
          currency: currency.toLowerCase(),
          captureMethod: 'manual',
          paymentMethodCreation: 'manual',
        });
        const pe = elements.create('payment');
        pe.on('change', () => {
          made.current = undefined;
        });
        pe.mount(host.current);
        element = pe;
        ready.current = { js, elements };
      },
      () => setError(new Error(t('pay.loadFailed'))),
    );
    return () => {
      gone = true;
      element?.destroy();
      ready.current = undefined;
    };
  }, [stripe.jsUrl, stripe.publishableKey, currency]);
  useEffect(() => ready.current?.elements.update({ amount }), [amount]);
  collector.create = async () => {
    const r = ready.current;
    if (!r) throw new Error(t('pay.notReady'));
    if (!made.current) {
      const submitted = await r.elements.submit();
      if (submitted.error) throw new Error(submitted.error.message ?? t('pay.notReady'));
      const out = await r.js.createPaymentMethod({ elements: r.elements });
      if (out.error || !out.paymentMethod)
        throw new Error(out.error?.message ?? t('errors.CARD_DECLINED'));
      made.current = out.paymentMethod.id;
    }
    return { paymentMethod: made.current, save };
  };
  return (
    <>
      <div ref={host} class="stripe-payment-element" data-provider="stripe" />
      <ErrorBox error={error} />
    </>
  );
}
