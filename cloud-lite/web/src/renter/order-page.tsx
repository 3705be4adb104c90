import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { describeFailure } from '../lib/errors.js';
import { formatClock, formatDateTime, formatMoney, formatRelative } from '../lib/format.js';
import type { KioskOffer, Order, Rental } from '../lib/types.js';
import { Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';
import { useTerms } from '../ui/terms.js';
import { useFollow } from '../ui/use-follow.js';
import { diskTypeName } from './disk-type-list.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The headline for an order's state: what the renter should do now. */
export function orderHeadline(o: Order): string {
  switch (o.state) {
    case 'created':
      return t('order.created');
    case 'authorised':
      return t('order.authorised');
    case 'dispensing':
      return o.slot ? t('order.dispensingSlot', { slot: o.slot }) : t('order.dispensing');
    case 'jam_hold':
      return o.slot ? t('order.jamSlot', { slot: o.slot }) : t('order.jam');
    case 'kiosk_unreachable':
      return o.releaseAt
        ? t('order.unreachableBy', { at: formatDateTime(o.releaseAt) })
        : t('order.unreachable');
    case 'completed':
      return o.slot ? t('order.completedSlot', { slot: o.slot }) : t('order.completed');
    case 'cancelled':
      return t('order.cancelled');
    case 'failed':
      return t('order.failed', { why: describeFailure(o.failureReason) });
  }
}

/** When the pickup window of a dispensing order ends: its `dispensing` step plus the window. */
export function pickupDeadline(o: Order, windowSeconds: number | undefined): number | undefined {
  if (o.state !== 'dispensing' || !windowSeconds) return undefined;
  const step = o.steps.findLast((s) => s.state === 'dispensing');
  return step ? Date.parse(step.at) + windowSeconds * 1000 : undefined;
}

/** Seconds left until `deadline` (ms since the epoch), ticking every second. */
function useSecondsLeft(deadline: number | undefined): number | undefined {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (deadline === undefined) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [deadline]);
  return deadline === undefined ? undefined : Math.max(0, (deadline - now) / 1000);
}

/**
 * When the renter may say "I didn't get my disk": the kiosk lost its link or jammed while
 * handing it out, or the pickup window is over and the kiosk has not reported yet.
 */
function mayReport(o: Order, left: number | undefined): boolean {
  return (
    o.state === 'kiosk_unreachable' ||
    o.state === 'jam_hold' ||
    (o.state === 'dispensing' && left === 0)
  );
}

/** The "I didn't get my disk" report: one tap, then what happens next, in words. */
function NotReceived({ orderId }: { orderId: string }) {
  const api = useApi();
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (sent) {
    return (
      <p class="notice" role="status" data-testid="not-received">
        {t('order.reported')}
      </p>
    );
  }
  return (
    <div class="actions">
      <Button
        busy={busy}
        onClick={async () => {
          setError(undefined);
          setBusy(true);
          try {
            await api.reportNotReceived(orderId);
            setSent(true);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {t('order.notReceived')}
      </Button>
      <ErrorBox error={error} />
    </div>
  );
}

/** Follows one order live (3rd instruction and the kiosk's result): /orders/<id>. */
export function OrderPage({ orderId }: { orderId: string }) {
  const api = useApi();
  const terms = useTerms();
  const { value: order, error } = useFollow<Order>({
    api,
    load: () => api.order(orderId),
    streamPath: `/api/orders/${encodeURIComponent(orderId)}/events`,
    key: 'order',
    isDone: (o) => TERMINAL.has(o.state),
  });
  const kioskId = order?.kioskId;
  const offer = useAsync<KioskOffer | null>(
    () => (kioskId ? api.kioskOffer(kioskId) : Promise.resolve(null)),
    [kioskId],
  );
  const done = order?.state === 'completed';
  const rentals = useAsync<Rental[] | null>(
    () => (done ? api.myRentals() : Promise.resolve(null)),
    [done],
  );
  const left = useSecondsLeft(
    order ? pickupDeadline(order, terms?.pickupWindowSeconds) : undefined,
  );
  usePageTitle(t('order.title'));
  const type = offer.data?.diskTypes.find((d) => d.id === order?.diskTypeId);
  const rental = rentals.data?.find((r) => r.id === order?.rentalId || r.orderId === orderId);
  const kioskName = offer.data?.kiosk.name ?? order?.kioskId;
  const money = (m: number) => formatMoney(m, order?.currency);

  return (
    <main>
      <h1>{t('order.title')}</h1>
      {!order && !error ? <Loading what={t('order.yourOrder')} /> : null}
      <ErrorBox error={error} />
      <LiveStatus id="order-status">
        {order ? (
          <p class={`headline state-${order.state}`} data-state={order.state}>
            {orderHeadline(order)}
          </p>
        ) : null}
      </LiveStatus>
      {order && left !== undefined ? (
        <p class="countdown" data-testid="pickup-countdown">
          {left > 0 ? t('order.pickupLeft', { clock: formatClock(left) }) : t('order.pickupOver')}
        </p>
      ) : null}
      {order && mayReport(order, left) ? <NotReceived orderId={order.id} /> : null}
      {order?.state === 'failed' ? (
        <p>
          <Link class="button primary" href={`/k/${encodeURIComponent(order.kioskId)}`}>
            {t('order.tryAgain')}
          </Link>
        </p>
      ) : null}
      {order && done ? (
        <section class="card" aria-labelledby="due-title">
          <h2 id="due-title">{t('order.dueTitle')}</h2>
          <dl>
            {rental ? (
              <>
                <dt>{t('order.due')}</dt>
                <dd data-testid="due-at">
                  {t('order.dueIn', {
                    at: formatDateTime(rental.dueAt),
                    rel: formatRelative(rental.dueAt),
                  })}
                </dd>
              </>
            ) : null}
            {terms ? (
              <>
                <dt>{t('order.lateFee')}</dt>
                {/* The rental's own terms (what was shown when paying), else today's. */}
                <dd>
                  {t('order.lateFeeValue', {
                    fee: money(rental?.overdueFeePerDayMinor ?? terms.overdueFeePerDayMinor),
                  })}
                </dd>
                <dt>{t('order.lostCharge')}</dt>
                <dd>
                  {t('order.lostChargeValue', {
                    days: terms.overdueMaxDays,
                    charge: money(rental?.lostDiskChargeMinor ?? terms.lostDiskChargeMinor),
                  })}
                </dd>
              </>
            ) : null}
          </dl>
          <p>
            <strong>{t('order.returnAnywhere')}</strong>
          </p>
        </section>
      ) : null}
      {order ? (
        <section class="card receipt" aria-labelledby="receipt-title">
          {order.state === 'dispensing' && order.slot ? (
            <p class="slot-big" aria-hidden="true">
              {order.slot}
            </p>
          ) : null}
          <h2 id="receipt-title">
            {TERMINAL.has(order.state) ? t('order.receipt') : t('order.order')}
          </h2>
          <dl>
            <dt>{t('order.order')}</dt>
            <dd class="id">{order.id}</dd>
            <dt>{t('order.kiosk')}</dt>
            <dd>{kioskName}</dd>
            {type ? (
              <>
                <dt>{t('order.disk')}</dt>
                <dd>{diskTypeName(type)}</dd>
              </>
            ) : null}
            <dt>{t('order.days')}</dt>
            <dd>{order.days}</dd>
            <dt>{t('order.writeProtected')}</dt>
            <dd>{order.writeProtect ? t('common.yes') : t('common.no')}</dd>
            <dt>{order.state === 'completed' ? t('order.charged') : t('order.amount')}</dt>
            <dd data-testid="order-amount">
              {order.state === 'failed' || order.state === 'cancelled'
                ? t('order.nothingCharged')
                : money(order.amountMinor)}
            </dd>
            {(order.refunds ?? []).flatMap((r) => [
              <dt key={`${r.id}-t`}>{t('order.refunded')}</dt>,
              <dd key={r.id} data-testid="order-refund">
                {r.state === 'refunded'
                  ? money(r.amountMinor)
                  : t('order.refundPending', { amount: money(r.amountMinor) })}
                {r.reason ? (
                  <>
                    {' '}
                    <span data-testid="order-refund-reason">
                      {t('order.refundReason', { reason: r.reason })}
                    </span>
                  </>
                ) : null}
              </dd>,
            ])}
          </dl>
          {done ? <Button onClick={() => print()}>{t('order.print')}</Button> : null}
          <h2>{t('order.progress')}</h2>
          <ol class="steps">
            {order.steps.map((s) => (
              <li key={`${s.at}-${s.state}`}>
                <time dateTime={s.at}>{formatDateTime(s.at)}</time> {s.message}
              </li>
            ))}
          </ol>
          {TERMINAL.has(order.state) ? <Link href="/me">{t('order.seeRentals')}</Link> : null}
        </section>
      ) : null}
    </main>
  );
}
