import { describeFailure } from '../lib/errors.js';
import { formatDateTime, formatMoney } from '../lib/format.js';
import type { Order } from '../lib/types.js';
import { ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { Link } from '../ui/router.js';
import { useFollow } from '../ui/use-follow.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The headline for an order's state: what the renter should do now. */
export function orderHeadline(o: Order): string {
  switch (o.state) {
    case 'created':
      return 'Checking your payment…';
    case 'authorised':
      return 'Payment approved. Asking the kiosk for your disk…';
    case 'dispensing':
      return o.slot ? `Take your disk from slot ${o.slot}` : 'The kiosk is pushing your disk out…';
    case 'jam_hold':
      return o.slot
        ? `Slot ${o.slot} jammed. If your disk sticks out, you may pull it out: it is then rented to you. If not, nothing is charged and the payment is released.`
        : 'The kiosk jammed. If nothing comes out, nothing is charged.';
    case 'kiosk_unreachable':
      return `The kiosk lost its connection while handing out your disk. If you took the disk, it is rented to you once the kiosk is back; if not, nothing is charged and the payment is released${o.releaseAt ? ` by ${formatDateTime(o.releaseAt)}` : ''}.`;
    case 'completed':
      return o.slot ? `Done: you took your disk from slot ${o.slot}. Enjoy!` : 'Done. Enjoy!';
    case 'cancelled':
      return 'Order cancelled. Nothing was charged.';
    case 'failed':
      return `The rental did not go through. ${describeFailure(o.failureReason)}`;
  }
}

/** Follows one order live (3rd instruction and the kiosk's result): /orders/<id>. */
export function OrderPage({ orderId }: { orderId: string }) {
  const api = useApi();
  const { value: order, error } = useFollow<Order>({
    api,
    load: () => api.order(orderId),
    streamPath: `/api/orders/${encodeURIComponent(orderId)}/events`,
    key: 'order',
    isDone: (o) => TERMINAL.has(o.state),
  });
  return (
    <main>
      <h1>Your disk</h1>
      {!order && !error ? <Loading what="your order" /> : null}
      <ErrorBox error={error} />
      <LiveStatus id="order-status">
        {order ? (
          <p class={`headline state-${order.state}`} data-state={order.state}>
            {orderHeadline(order)}
          </p>
        ) : null}
      </LiveStatus>
      {order ? (
        <section class="card">
          {order.state === 'dispensing' && order.slot ? (
            <p class="slot-big" aria-hidden="true">
              {order.slot}
            </p>
          ) : null}
          <dl>
            <dt>Order</dt>
            <dd>{order.id}</dd>
            <dt>Kiosk</dt>
            <dd>{order.kioskId}</dd>
            <dt>Days</dt>
            <dd>{order.days}</dd>
            <dt>Write-protected</dt>
            <dd>{order.writeProtect ? 'yes' : 'no'}</dd>
            <dt>Amount</dt>
            <dd>{formatMoney(order.amountMinor, order.currency)}</dd>
          </dl>
          <h2>Progress</h2>
          <ol class="steps">
            {order.steps.map((s) => (
              <li key={`${s.at}-${s.state}`}>
                <time dateTime={s.at}>{formatDateTime(s.at)}</time> {s.message}
              </li>
            ))}
          </ol>
          {TERMINAL.has(order.state) ? <Link href="/me">See my rentals</Link> : null}
        </section>
      ) : null}
    </main>
  );
}
