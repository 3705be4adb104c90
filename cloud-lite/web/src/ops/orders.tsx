import { formatDateTime, formatMoney } from '../lib/format.js';
import { ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';

/** Recent orders and reservations (rental domain's operator routes). */
export function OrdersPage() {
  const api = useApi();
  const orders = useAsync(() => api.opsOrders(), []);
  const reservations = useAsync(() => api.opsReservations(), []);
  return (
    <main>
      <h1>Orders and reservations</h1>
      <section aria-labelledby="o-title">
        <h2 id="o-title">Orders</h2>
        <ErrorBox error={orders.error} />
        {orders.loading && !orders.data ? <Loading what="orders" /> : null}
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Kiosk</th>
                <th scope="col">State</th>
                <th scope="col">Slot</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {(orders.data ?? []).map((o) => (
                <tr key={o.id}>
                  <th scope="row">{o.id}</th>
                  <td>{o.kioskId}</td>
                  <td>
                    {o.state}
                    {o.failureReason ? ` (${o.failureReason})` : ''}
                  </td>
                  <td>{o.slot ?? '–'}</td>
                  <td>{formatMoney(o.amountMinor, o.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="r-title">
        <h2 id="r-title">Reservations</h2>
        <ErrorBox error={reservations.error} />
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Reservation</th>
                <th scope="col">Kiosk</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Held until</th>
              </tr>
            </thead>
            <tbody>
              {(reservations.data ?? []).map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.id}</th>
                  <td>{r.kioskId}</td>
                  <td>
                    {r.state}
                    {r.failureReason ? ` (${r.failureReason})` : ''}
                  </td>
                  <td>{r.progress ? `${Math.round(r.progress.percent)}%` : '–'}</td>
                  <td>{formatDateTime(r.holdUntil)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </main>
  );
}
