import { useEffect, useMemo, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { ApiError, describeReasons } from '../lib/errors.js';
import { formatBytes, formatDateTime, formatMoney, formatRelative } from '../lib/format.js';
import { IdempotencyKeys } from '../lib/idempotency.js';
import type { ExtensionQuote, Rental } from '../lib/types.js';
import {
  Badge,
  Button,
  ErrorBox,
  Field,
  focusFirstInvalid,
  LiveStatus,
  Loading,
} from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { PaymentCollector, PaymentFields } from '../ui/payment-fields.js';
import { Link } from '../ui/router.js';
import { useTerms } from '../ui/terms.js';
import { TermsLinks } from '../ui/terms-links.js';
import { AuthForm } from './auth-form.js';
import { MailSettings } from './mail-settings.js';

/** My account: rentals (the disk out now first), deposit, reservations, orders. */
export function MePage() {
  const api = useApi();
  const [authed, setAuthed] = useState(api.signedIn);
  usePageTitle(t('me.title'));
  if (!authed) {
    return (
      <main>
        <h1>{t('me.title')}</h1>
        <AuthForm onDone={() => setAuthed(true)} />
      </main>
    );
  }
  return <MeView />;
}

const ACTIVE = new Set(['open', 'overdue']);

function MeView() {
  const api = useApi();
  const me = useAsync(() => api.me(), []);
  const rentals = useAsync(() => api.myRentals(), []);
  const reservations = useAsync(() => api.myReservations(), []);
  const orders = useAsync(() => api.myOrders(), []);
  const active = rentals.data?.filter((r) => ACTIVE.has(r.state)) ?? [];
  const past = rentals.data?.filter((r) => !ACTIVE.has(r.state)) ?? [];
  const reload = () => {
    rentals.reload();
    orders.reload();
    me.reload();
  };
  return (
    <main>
      <h1>{t('me.title')}</h1>
      {me.data ? (
        <p class="muted">
          {t('me.loggedInAs', {
            who: me.data.user.name ?? me.data.user.email ?? me.data.user.phone,
          })}
        </p>
      ) : null}
      <ErrorBox error={me.error} />
      {rentals.loading && !rentals.data ? <Loading what={t('me.yourRentals')} /> : null}
      <ErrorBox error={rentals.error} />
      {active.length > 0 ? (
        <section aria-labelledby="active-title">
          <h2 id="active-title">
            {t(active.length > 1 ? 'me.activeTitle_many' : 'me.activeTitle')}
          </h2>
          <ul class="rentals">
            {active.map((r) => (
              <RentalItem key={r.id} rental={r} onChange={reload} />
            ))}
          </ul>
        </section>
      ) : null}
      {me.data && !me.data.canRent ? (
        <div class="notice">
          <p>{t('me.cannotRent')}</p>
          <ul>
            {describeReasons(me.data.reasons).map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {me.data ? (
        <Deposit
          held={me.data.deposit.heldMinor}
          currency={me.data.deposit.currency}
          onChange={me.reload}
        />
      ) : null}
      <MailSettings />
      <section aria-labelledby="rentals-title">
        <h2 id="rentals-title">{t('me.pastTitle')}</h2>
        {rentals.data?.length === 0 ? <p>{t('me.none')}</p> : null}
        <ul class="rentals">
          {past.map((r) => (
            <RentalItem key={r.id} rental={r} onChange={reload} />
          ))}
        </ul>
      </section>
      <section aria-labelledby="res-title">
        <h2 id="res-title">{t('me.reservationsTitle')}</h2>
        <ErrorBox error={reservations.error} />
        {reservations.data?.length === 0 ? <p>{t('me.noReservations')}</p> : null}
        <ul>
          {reservations.data?.map((r) => (
            <li key={r.id}>
              <Link href={`/reservations/${encodeURIComponent(r.id)}`}>
                {r.kioskId}: {t(`me.resState.${r.state}`)}
              </Link>{' '}
              <span class="muted">{t('me.heldUntil', { at: formatDateTime(r.holdUntil) })}</span>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="orders-title">
        <h2 id="orders-title">{t('me.ordersTitle')}</h2>
        <ErrorBox error={orders.error} />
        {orders.data?.length === 0 ? <p>{t('me.noOrders')}</p> : null}
        <ul class="orders">
          {orders.data?.map((o) => (
            <li key={o.id} data-order={o.id} data-state={o.state}>
              <Link href={`/orders/${encodeURIComponent(o.id)}`}>
                {formatDateTime(o.createdAt)}: {t(`me.orderState.${o.state}`)}
              </Link>{' '}
              <span class="muted">
                {o.state === 'failed' || o.state === 'cancelled'
                  ? t('me.nothingCharged')
                  : formatMoney(o.amountMinor, o.currency)}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

/** Ticks `now` every `ms` while mounted. */
function useNow(ms: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

function RentalItem({ rental: r, onChange }: { rental: Rental; onChange: () => void }) {
  const api = useApi();
  const terms = useTerms();
  const keys = useMemo(() => new IdempotencyKeys(), []);
  const [days, setDays] = useState('1');
  const [quote, setQuote] = useState<ExtensionQuote>();
  const [error, setError] = useState<unknown>();
  const [daysError, setDaysError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const now = useNow(30_000);
  const active = ACTIVE.has(r.state);
  const tone = r.state === 'open' ? 'info' : r.state === 'returned' ? 'ok' : 'bad';
  // First the price (nothing charged), then the renter confirms that price.
  const ask = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setQuote(undefined);
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1) {
      setDaysError(t('me.wholeDays'));
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setDaysError(undefined);
    setBusy(true);
    try {
      setQuote(await api.extensionQuote(r.id, n));
      setTimeout(() => document.getElementById(`confirm-${r.id}`)?.focus(), 0);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    if (!quote) return;
    setError(undefined);
    setBusy(true);
    try {
      const key = keys.keyFor({ id: r.id, days: quote.days, amount: quote.amountMinor });
      const out = await api.extendRental(r.id, quote.days, quote.amountMinor, key);
      keys.reset();
      setQuote(undefined);
      setStatus(t('me.extended', { at: formatDateTime(out.dueAt) }));
      onChange();
    } catch (err) {
      // A definite refusal: the next try is a new request (a lost answer keeps the key).
      if (err instanceof ApiError && err.status > 0 && err.status < 500) {
        keys.reset();
        setQuote(undefined);
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const name = r.capacityBytes
    ? `${formatBytes(r.capacityBytes)} · ${r.contentTitle}`
    : r.contentTitle;
  return (
    <li class={`card rental${active ? ' active' : ''}`} data-rental={r.id}>
      <h3>
        {name} <Badge tone={tone}>{t(`me.state.${r.state}`)}</Badge>
      </h3>
      {active ? (
        <p class="due" data-testid="due">
          <strong>{t('me.dueIn', { rel: formatRelative(r.dueAt, now) })}</strong>{' '}
          <span class="muted">({t('me.dueAt', { at: formatDateTime(r.dueAt) })})</span>
          <br />
          {r.state === 'overdue' && terms
            ? t('me.overdueSince', {
                at: formatDateTime(r.dueAt),
                // The fee this rental was paid under (the terms of the day for older rentals).
                fee: formatMoney(
                  r.overdueFeePerDayMinor ?? terms.overdueFeePerDayMinor,
                  terms.currency,
                ),
              })
            : t('me.returnAnywhere')}
        </p>
      ) : null}
      <dl>
        <dt>{t('me.rented')}</dt>
        <dd>{t('me.rentedAt', { at: formatDateTime(r.startedAt), kiosk: r.kioskName })}</dd>
        {r.returnedAt ? (
          <>
            <dt>{t('me.returned')}</dt>
            <dd>
              {r.returnKioskId
                ? t('me.returnedAt', { at: formatDateTime(r.returnedAt), kiosk: r.returnKioskId })
                : formatDateTime(r.returnedAt)}
            </dd>
          </>
        ) : null}
      </dl>
      {r.charges.length > 0 ? (
        <table class="charges">
          <caption>{t('me.charges')}</caption>
          <tbody>
            {r.charges.map((c) => (
              <tr key={`${c.kind}-${c.at}`}>
                <th scope="row">{t(`me.charge.${c.kind}`, { defaultValue: c.kind })}</th>
                <td>{formatDateTime(c.at)}</td>
                <td class="amount">{formatMoney(c.amountMinor, c.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t('me.total')}</th>
              <td />
              <td class="amount">{formatMoney(r.totalMinor, r.charges[0]?.currency)}</td>
            </tr>
          </tfoot>
        </table>
      ) : null}
      {active ? (
        <form onSubmit={ask} class="inline" noValidate>
          <Field
            label={t('me.extendBy')}
            type="number"
            inputMode="numeric"
            min={1}
            error={daysError}
            value={days}
            onInput={setDays}
          />
          <Button type="submit" busy={busy}>
            {t('me.extend')}
          </Button>
        </form>
      ) : null}
      {quote ? (
        <div class="notice quote" data-testid="extension-quote">
          <p>
            <strong>
              {t('me.quote', {
                count: quote.days,
                amount: formatMoney(quote.amountMinor, quote.currency),
              })}
            </strong>
            ,{' '}
            {quote.payWith === 'card'
              ? quote.cardLast4
                ? t('me.payCardEnding', { last4: quote.cardLast4 })
                : t('me.payCard')
              : t('me.payDeposit')}
            . {t('me.newDue', { at: formatDateTime(quote.newDueAt) })}
          </p>
          <TermsLinks />
          <div class="actions">
            <Button class="primary" id={`confirm-${r.id}`} busy={busy} onClick={confirm}>
              {t('me.confirm')}
            </Button>
            <Button onClick={() => setQuote(undefined)}>{t('common.cancel')}</Button>
          </div>
        </div>
      ) : null}
      <LiveStatus>{status}</LiveStatus>
      <ErrorBox error={error} />
    </li>
  );
}

function Deposit({
  held,
  currency,
  onChange,
}: {
  held: number;
  currency: string;
  onChange: () => void;
}) {
  const api = useApi();
  const terms = useTerms();
  const [amount, setAmount] = useState(terms ? String(terms.depositMinor / 100) : '50');
  const payment = useMemo(() => new PaymentCollector(), []);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const topUp = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const major = Number(amount.replace(',', '.'));
    if (!Number.isFinite(major) || major <= 0) {
      setError(new Error(t('me.amountError')));
      return;
    }
    setBusy(true);
    try {
      // The card goes to the provider's form; the hub gets only its payment-method id.
      const paid = await payment.collect();
      const d = await api.topUpDeposit(
        Math.round(major * 100),
        { paymentMethod: paid.paymentMethod },
        paid.save,
      );
      setStatus(t('me.paid', { amount: formatMoney(d.heldMinor, d.currency) }));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const refund = async () => {
    setError(undefined);
    setBusy(true);
    try {
      const d = await api.refundDeposit();
      setStatus(t('me.refunded', { amount: formatMoney(d.heldMinor, d.currency) }));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="deposit-title">
      <h2 id="deposit-title">{t('me.depositTitle')}</h2>
      <p>
        {t('me.held')} <strong data-testid="deposit-held">{formatMoney(held, currency)}</strong>
      </p>
      {held === 0 && terms ? (
        <p>{t('me.depositNeeded', { amount: formatMoney(terms.depositMinor, terms.currency) })}</p>
      ) : null}
      <form onSubmit={topUp} noValidate>
        <Field
          label={t('me.topUp', { currency })}
          inputMode="decimal"
          value={amount}
          onInput={setAmount}
        />
        <PaymentFields
          collector={payment}
          amountMinor={Math.max(1, Math.round(Number(amount.replace(',', '.')) * 100) || 0)}
          currency={currency}
        />
        <TermsLinks />
        <div class="actions">
          <Button type="submit" class="primary" busy={busy}>
            {t('me.payDepositButton')}
          </Button>
          {held > 0 ? (
            <Button busy={busy} onClick={refund}>
              {t('me.refund')}
            </Button>
          ) : null}
        </div>
      </form>
      <LiveStatus>{status}</LiveStatus>
      <ErrorBox error={error} />
    </section>
  );
}
