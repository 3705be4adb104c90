// A stand-in for the parts of Stripe.js (https://js.stripe.com/v3/) the renter page uses,
// served by StripeStandin (stripe-standin.ts) from its own origin, so the browser tests run
// without the network: `Stripe(pk).elements({...}).create('payment').mount(el)` puts the card
// fields in a frame of the stand-in's origin (as Stripe's Payment Element lives in Stripe's
// frames: the page cannot read them); `elements.submit()` checks them and
// `createPaymentMethod({elements})` has the frame POST the card to the stand-in's
// /v1/payment_methods with the publishable key, answering `{ paymentMethod: { id } }`.
// The page talks to the frame only by postMessage, as with Stripe.

/** The publishable key the stand-in accepts for /v1/payment_methods. */
export const STANDIN_PUBLISHABLE_KEY = 'pk_test_standin_0123456789';

export const STRIPE_JS = `(() => {
  const origin = new URL(document.currentScript.src).origin;
  const pending = new Map();
  const changed = new Set();
  let seq = 0;
  let frame = null;
  addEventListener('message', (e) => {
    if (e.origin !== origin || !e.data) return;
    if (e.data.event === 'change') return changed.forEach((fn) => fn({}));
    const done = pending.get(e.data.id);
    if (done) { pending.delete(e.data.id); done(e.data.result); }
  });
  const call = (op) => new Promise((resolve) => {
    if (!frame) return resolve({ error: { message: 'the Payment Element is not mounted' } });
    const id = ++seq;
    pending.set(id, resolve);
    frame.contentWindow.postMessage({ id, op }, origin);
  });
  window.Stripe = (key) => ({
    elements: (opts) => ({
      create: (type) => ({
        mount(host) {
          frame = document.createElement('iframe');
          frame.name = 'stripe-standin-' + type;
          frame.title = 'Secure payment input frame';
          frame.src = origin + '/elements/payment?key=' + encodeURIComponent(key) +
            '&amount=' + opts.amount + '&currency=' + opts.currency;
          host.appendChild(frame);
        },
        destroy() { frame?.remove(); frame = null; },
        on(event, fn) { if (event === 'change') changed.add(fn); },
      }),
      update(o) { Object.assign(opts, o); },
      submit: () => call('submit'),
    }),
    createPaymentMethod: () => call('create'),
  });
})();
`;

export const PAYMENT_FRAME = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Payment</title></head>
<body>
<label>Card number <input id="number" autocomplete="cc-number" inputmode="numeric"></label>
<label>Expiration date <input id="exp" placeholder="MM / YY"></label>
<label>Security code <input id="cvc" inputmode="numeric"></label>
<script>
const key = new URLSearchParams(location.search).get('key');
const val = (id) => document.getElementById(id).value.trim();
addEventListener('input', () => parent.postMessage({ event: 'change' }, '*'));
addEventListener('message', async (e) => {
  if (e.source !== parent || !e.data) return;
  let result = {};
  const exp = /^(\\d{1,2})\\s*\\/\\s*(\\d{2})$/.exec(val('exp'));
  if (!val('number') || !exp || !val('cvc'))
    result = { error: { type: 'validation_error', message: 'Your card details are incomplete.' } };
  else if (e.data.op === 'create') {
    const body = new URLSearchParams({
      type: 'card',
      'card[number]': val('number').replace(/\\D/g, ''),
      'card[exp_month]': exp[1],
      'card[exp_year]': '20' + exp[2],
      'card[cvc]': val('cvc'),
    });
    const r = await fetch('/v1/payment_methods', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + key, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const j = await r.json();
    result = r.ok ? { paymentMethod: j } : { error: j.error };
  }
  e.source.postMessage({ id: e.data.id, result }, e.origin);
});
</script>
</body></html>
`;
