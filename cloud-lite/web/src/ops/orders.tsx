import { t } from '../i18n/i18n.js';
import { formatDateTime, formatMoney } from '../lib/format.js';
import { ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';

/** Recent orders and reservations (rental domain's operator routes). */
export function OrdersPage() {
  const api = useApi();
  const orders = useAsync(() => api.opsOrders(), []);
  const reservations = useAsync(() => api.opsReservations(), []);
  usePageTitle(t('ops.ordersTitle'), t('app.opsTitle'));
  return (
    <main>
      <h1>{t('ops.ordersTitle')}</h1>
      <section aria-labelledby="o-title">
        <h2 id="o-title">{t('ops.ordersH')}</h2>
        <ErrorBox error={orders.error} />
        {orders.loading && !orders.data ? <Loading what={t('ops.ordersH')} /> : null}
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('ops.colOrder')}</th>
                <th scope="col">{t('ops.colKiosk')}</th>
                <th scope="col">{t('ops.colState')}</th>
                <th scope="col">{t('ops.colSlot')}</th>
                <th scope="col">{t('ops.colAmount')}</th>
              </tr>
            </thead>
            <tbody>
              {(orders.data ?? []).map((o) => (
                <tr key={o.id}>
                  <th scope="row">{o.id}</th>
                  <td>{o.kioskId}</td>
                  <td>
                    {t(`me.orderState.${o.state}`)}
                    {o.failureReason ? ` (${o.failureReason})` : ''}
                  </td>
                  <td>{o.slot ?? '–'}</td>
                  <td>
                    {o.state === 'failed' || o.state === 'cancelled'
                      ? t('ops.nothingCharged')
                      : formatMoney(o.amountMinor, o.currency)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="r-title">
        <h2 id="r-title">{t('ops.reservationsH')}</h2>
        <ErrorBox error={reservations.error} />
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('ops.colReservation')}</th>
                <th scope="col">{t('ops.colKiosk')}</th>
                <th scope="col">{t('ops.colState')}</th>
                <th scope="col">{t('ops.colProgress')}</th>
                <th scope="col">{t('ops.colHeldUntil')}</th>
              </tr>
            </thead>
            <tbody>
              {(reservations.data ?? []).map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.id}</th>
                  <td>{r.kioskId}</td>
                  <td>
                    {t(`me.resState.${r.state}`)}
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
