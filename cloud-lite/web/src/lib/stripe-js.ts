// The few parts of Stripe.js (https://docs.stripe.com/js) the renter page uses: the Payment
// Element in "deferred intent" mode and createPaymentMethod, so the card stays in Stripe's
// frames and the page gets a payment-method id (docs.stripe.com/payments/finalize-payments-on-the-server).

export interface StripeError {
  message?: string;
}
export interface StripeElement {
  mount(el: HTMLElement): void;
  destroy(): void;
  on(event: 'change', handler: () => void): void;
}
export interface StripeElements {
  create(type: 'payment'): StripeElement;
  update(opts: { amount: number }): void;
  submit(): Promise<{ error?: StripeError }>;
}
export interface StripeJs {
  elements(opts: {
    mode: 'payment';
    amount: number;
    currency: string;
    captureMethod: 'manual';
    paymentMethodCreation: 'manual';
  }): StripeElements;
  createPaymentMethod(opts: {
    elements: StripeElements;
  }): Promise<{ paymentMethod?: { id: string }; error?: StripeError }>;
}

declare global {
  interface Window {
    Stripe?: (publishableKey: string) => StripeJs;
  }
}

const loading = new Map<string, Promise<NonNullable<Window['Stripe']>>>();

/**
 * Loads Stripe.js once from `url` (the hub's configured jsUrl, allowed by its
 * Content-Security-Policy) and resolves with its `Stripe` constructor.
 */
export function loadStripe(url: string): Promise<NonNullable<Window['Stripe']>> {
  let p = loading.get(url);
  if (!p) {
    p = new Promise((resolve, reject) => {
      if (window.Stripe) return resolve(window.Stripe);
      const s = document.createElement('script');
      s.src = url;
      s.async = true;
      s.onload = () =>
        window.Stripe ? resolve(window.Stripe) : reject(new Error('Stripe.js did not load'));
      s.onerror = () => reject(new Error('Stripe.js did not load'));
      document.head.appendChild(s);
    });
    p.catch(() => loading.delete(url));
    loading.set(url, p);
  }
  return p;
}
