import { t } from '../i18n/i18n.js';
import { formatDateTime, formatMoney } from '../lib/format.js';
import { ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { navigate, useLocation } from '../ui/router.js';
import { useKioskNames } from './kiosk-names.js';

const ORDER_STATES = [
  'created',
  'authorised',
  'dispensing',
  'jam_hold',
  'kiosk_unreachable',
  'completed',
  'failed',
  'cancelled',
] as const;

/**
 * Recent orders (time, renter, kiosk by name, state with a filter kept in the URL, and the
 * amount actually charged: a failed order shows nothing charged) and reservations.
 */
export function OrdersPage() {
  const api = useApi();
  const { query } = useLocation();
  const state = query.get('state') ?? '';
  const orders = useAsync(() => api.opsOrders(state || undefined), [state]);
  const reservations = useAsync(() => api.opsReservations(), []);
  const kioskName = useKioskNames(api);
  usePageTitle(t('ops.ordersTitle'), t('app.opsTitle'));
  return (
    <main>
      <h1>{t('ops.ordersTitle')}</h1>
      <section aria-labelledby="o-title">
        <h2 id="o-title">{t('ops.ordersH')}</h2>
        <div class="field">
          <label for="order-state">{t('ops.stateFilter')}</label>
          <select
            id="order-state"
            value={state}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              navigate(v ? `/ops/orders?state=${encodeURIComponent(v)}` : '/ops/orders');
            }}
          >
            <option value="">{t('ops.allStates')}</option>
            {ORDER_STATES.map((s) => (
              <option key={s} value={s}>
                {t(`me.orderState.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <ErrorBox error={orders.error} />
        {orders.loading && !orders.data ? <Loading what={t('ops.ordersH')} /> : null}
        {orders.data?.length === 0 ? <p>{t('ops.noOrders')}</p> : null}
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('ops.colTime')}</th>
                <th scope="col">{t('ops.colRenter')}</th>
                <th scope="col">{t('ops.colKiosk')}</th>
                <th scope="col">{t('ops.colState')}</th>
                <th scope="col">{t('ops.colSlot')}</th>
                <th scope="col">{t('ops.colCharged')}</th>
              </tr>
            </thead>
            <tbody>
              {(orders.data ?? []).map((o) => (
                <tr key={o.id} data-order={o.id} data-state={o.state}>
                  <th scope="row">
                    <time dateTime={o.createdAt}>{formatDateTime(o.createdAt)}</time>
                    <div class="muted">{o.id}</div>
                  </th>
                  <td>{o.renter.label}</td>
                  <td>{kioskName(o.kioskId)}</td>
                  <td>
                    {t(`me.orderState.${o.state}`)}
                    {o.failureReason ? ` (${o.failureReason})` : ''}
                  </td>
                  <td>{o.slot ?? '–'}</td>
                  <td>
                    {o.chargedMinor > 0
                      ? formatMoney(o.chargedMinor, o.currency)
                      : t('ops.nothingCharged')}
                    {o.chargedMinor === 0 && !['failed', 'cancelled'].includes(o.state) ? (
                      <div class="muted">
                        {t('ops.heldNotCharged', {
                          amount: formatMoney(o.amountMinor, o.currency),
                        })}
                      </div>
                    ) : null}
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
                  <td>{kioskName(r.kioskId)}</td>
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
