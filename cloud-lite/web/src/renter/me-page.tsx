import { useMemo, useState } from 'preact/hooks';
import { type CardInput, parseCard } from '../lib/card.js';
import { ApiError, describeReasons } from '../lib/errors.js';
import { formatDateTime, formatMoney, formatRelative } from '../lib/format.js';
import { IdempotencyKeys } from '../lib/idempotency.js';
import type { ExtensionQuote, Rental } from '../lib/types.js';
import { CardFields, EMPTY_CARD } from '../ui/card-fields.js';
import { Badge, Button, ErrorBox, Field, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { Link } from '../ui/router.js';
import { AuthForm } from './auth-form.js';

/** My account: deposit (top-up, refund), rentals (due dates, extend, charges), reservations. */
export function MePage() {
  const api = useApi();
  const [authed, setAuthed] = useState(api.signedIn);
  if (!authed) {
    return (
      <main>
        <h1>My rentals</h1>
        <AuthForm onDone={() => setAuthed(true)} />
      </main>
    );
  }
  return <MeView />;
}

function MeView() {
  const api = useApi();
  const me = useAsync(() => api.me(), []);
  const rentals = useAsync(() => api.myRentals(), []);
  const reservations = useAsync(() => api.myReservations(), []);
  return (
    <main>
      <h1>My rentals</h1>
      {me.data ? (
        <p class="muted">
          Logged in as {me.data.user.name ?? me.data.user.email ?? me.data.user.phone}
        </p>
      ) : null}
      <ErrorBox error={me.error} />
      {me.data && !me.data.canRent ? (
        <div class="notice">
          <p>You cannot rent yet:</p>
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
      <section aria-labelledby="rentals-title">
        <h2 id="rentals-title">Disks</h2>
        {rentals.loading && !rentals.data ? <Loading what="your rentals" /> : null}
        <ErrorBox error={rentals.error} />
        {rentals.data?.length === 0 ? <p>No rentals yet.</p> : null}
        <ul class="rentals">
          {rentals.data?.map((r) => (
            <RentalItem key={r.id} rental={r} onChange={rentals.reload} />
          ))}
        </ul>
      </section>
      <section aria-labelledby="res-title">
        <h2 id="res-title">Reservations</h2>
        <ErrorBox error={reservations.error} />
        {reservations.data?.length === 0 ? <p>No reservations.</p> : null}
        <ul>
          {reservations.data?.map((r) => (
            <li key={r.id}>
              <Link href={`/reservations/${encodeURIComponent(r.id)}`}>
                {r.kioskId}: {r.state.replace('_', ' ')}
              </Link>{' '}
              <span class="muted">held until {formatDateTime(r.holdUntil)}</span>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

function RentalItem({ rental: r, onChange }: { rental: Rental; onChange: () => void }) {
  const api = useApi();
  const keys = useMemo(() => new IdempotencyKeys(), []);
  const [days, setDays] = useState('1');
  const [quote, setQuote] = useState<ExtensionQuote>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const tone = r.state === 'open' ? 'info' : r.state === 'returned' ? 'ok' : 'bad';
  // First the price (nothing charged), then the renter confirms that price.
  const ask = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setQuote(undefined);
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1) {
      setError(new Error('Enter a whole number of days, 1 or more.'));
      return;
    }
    setBusy(true);
    try {
      setQuote(await api.extensionQuote(r.id, n));
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
      setStatus(`Extended: now due ${formatDateTime(out.dueAt)}.`);
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
  return (
    <li class="card rental" data-rental={r.id}>
      <h3>
        Disk {r.diskId} <Badge tone={tone}>{r.state}</Badge>
      </h3>
      <dl>
        <dt>Rented</dt>
        <dd>
          {formatDateTime(r.startedAt)} at {r.kioskId}
        </dd>
        {r.returnedAt ? (
          <>
            <dt>Returned</dt>
            <dd>
              {formatDateTime(r.returnedAt)}
              {r.returnKioskId ? ` at ${r.returnKioskId}` : ''}
            </dd>
          </>
        ) : (
          <>
            <dt>Due</dt>
            <dd>
              {formatDateTime(r.dueAt)} ({formatRelative(r.dueAt)})
            </dd>
          </>
        )}
      </dl>
      {r.charges.length > 0 ? (
        <ul class="charges">
          {r.charges.map((c) => (
            <li key={`${c.kind}-${c.at}`}>
              {c.kind}: {formatMoney(c.amountMinor, c.currency)}{' '}
              <span class="muted">{formatDateTime(c.at)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {r.state === 'open' || r.state === 'overdue' ? (
        <form onSubmit={ask} class="inline">
          <Field label="Extend by days" type="number" min={1} value={days} onInput={setDays} />
          <Button type="submit" busy={busy}>
            Extend
          </Button>
        </form>
      ) : null}
      {quote ? (
        <div class="notice quote" data-testid="extension-quote">
          <p>
            {quote.days} more {quote.days === 1 ? 'day' : 'days'}:{' '}
            <strong>{formatMoney(quote.amountMinor, quote.currency)}</strong>,{' '}
            {quote.payWith === 'card'
              ? `charged to your card${quote.cardLast4 ? ` ending ${quote.cardLast4}` : ''}`
              : 'taken from your deposit'}
            . New due date: {formatDateTime(quote.newDueAt)}.
          </p>
          <div class="actions">
            <Button class="primary" busy={busy} onClick={confirm}>
              Confirm and pay
            </Button>
            <Button onClick={() => setQuote(undefined)}>Cancel</Button>
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
  const [amount, setAmount] = useState('50');
  const [card, setCard] = useState<CardInput>(EMPTY_CARD);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const topUp = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const major = Number(amount.replace(',', '.'));
    if (!Number.isFinite(major) || major <= 0) {
      setError(new Error('Enter an amount above zero.'));
      return;
    }
    const parsed = parseCard(card);
    if ('error' in parsed) {
      setError(new Error(parsed.error));
      return;
    }
    setBusy(true);
    try {
      const d = await api.topUpDeposit(Math.round(major * 100), parsed.card, !!card.save);
      setStatus(`Deposit paid: ${formatMoney(d.heldMinor, d.currency)} held.`);
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
      setStatus(`Deposit refunded: ${formatMoney(d.heldMinor, d.currency)} held now.`);
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="deposit-title">
      <h2 id="deposit-title">Deposit</h2>
      <p>
        Held: <strong data-testid="deposit-held">{formatMoney(held, currency)}</strong>
      </p>
      <form onSubmit={topUp} noValidate>
        <Field
          label={`Top up (${currency})`}
          inputMode="decimal"
          value={amount}
          onInput={setAmount}
        />
        <CardFields value={card} onChange={setCard} />
        <div class="actions">
          <Button type="submit" class="primary" busy={busy}>
            Pay deposit
          </Button>
          {held > 0 ? (
            <Button busy={busy} onClick={refund}>
              Refund deposit
            </Button>
          ) : null}
        </div>
      </form>
      <LiveStatus>{status}</LiveStatus>
      <ErrorBox error={error} />
    </section>
  );
}
