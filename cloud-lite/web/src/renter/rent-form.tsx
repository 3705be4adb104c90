import { useMemo, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import type { RentRequest } from '../lib/api-client.js';
import { formatMoney, formatWriteProtect, totalPrice } from '../lib/format.js';
import { IdempotencyKeys } from '../lib/idempotency.js';
import type { DiskType, KioskBrief, Terms } from '../lib/types.js';
import { Button, ErrorBox, FieldError, focusFirstInvalid } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { PaymentCollector, PaymentFields } from '../ui/payment-fields.js';
import { navigate } from '../ui/router.js';
import { holdSentence } from '../ui/terms.js';
import { TermsLinks } from '../ui/terms-links.js';
import { diskTypeName } from './disk-type-list.js';

/**
 * Days, write protection and card for one disk type, then the 2nd instruction (rent now:
 * POST /api/orders) or the 4th (reserve: POST /api/reservations). A retry of the same
 * request reuses its idempotency key.
 */
export function RentForm({
  kiosk,
  terms,
  type,
  mode,
  onCancel,
}: {
  kiosk: KioskBrief;
  terms: Terms;
  type: DiskType;
  mode: 'rent' | 'reserve';
  onCancel: () => void;
}) {
  const api = useApi();
  const keys = useMemo(() => new IdempotencyKeys(), []);
  // Days and write protection live in the address too (?type=..&days=3&wp=0): a reload or
  // Back-then-Forward keeps them. The card never goes there.
  const [days, setDaysState] = useState(() => {
    const d = Number(new URLSearchParams(location.search).get('days'));
    return Number.isInteger(d) && d > 0 ? d : type.defaultDays;
  });
  const [wp, setWpState] = useState(() => {
    const v = new URLSearchParams(location.search).get('wp');
    return v === null ? type.writeProtect !== 'off' : v === '1';
  });
  const keepInAddress = (key: string, value: string) => {
    const q = new URLSearchParams(location.search);
    q.set(key, value);
    history.replaceState(history.state, '', `${location.pathname}?${q}`);
  };
  const setDays = (d: number) => {
    setDaysState(d);
    if (Number.isFinite(d)) keepInAddress('days', String(d));
  };
  const setWp = (v: boolean) => {
    setWpState(v);
    keepInAddress('wp', v ? '1' : '0');
  };
  const payment = useMemo(() => new PaymentCollector(), []);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const writeProtect =
    type.writeProtect === 'forced' ? true : type.writeProtect === 'off' ? false : wp;

  // The total only for days within the type's limits: beyond them the field says why instead.
  const daysOk = Number.isInteger(days) && days >= 1 && days <= type.maxDays;
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setTouched(true);
    if (!daysOk) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    try {
      // The card goes to the provider's form; the hub gets only its payment-method id.
      const paid = await payment.collect();
      const req: RentRequest = {
        kioskId: kiosk.id,
        diskTypeId: type.id,
        writeProtect,
        days,
        card: { paymentMethod: paid.paymentMethod },
        ...(paid.save ? { saveCard: true } : {}),
      };
      if (mode === 'rent') {
        const order = await api.createOrder(req, keys.keyFor(req));
        navigate(`/orders/${encodeURIComponent(order.id)}`);
      } else {
        const r = await api.createReservation(req, keys.keyFor(req));
        navigate(`/reservations/${encodeURIComponent(r.id)}`);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const daysError =
    (touched || days > type.maxDays) && !daysOk
      ? t('rent.daysError', { max: type.maxDays })
      : undefined;
  return (
    <section class="card" aria-labelledby="rent-title">
      <h2 id="rent-title">{t(`kiosk.checkoutTitle_${mode}`, { what: diskTypeName(type) })}</h2>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="days">{t('rent.days', { max: type.maxDays })}</label>
          <input
            id="days"
            type="number"
            inputMode="numeric"
            min={1}
            max={type.maxDays}
            required
            aria-invalid={daysError ? 'true' : undefined}
            aria-describedby={daysError ? 'days-error' : undefined}
            value={Number.isFinite(days) ? String(days) : ''}
            onInput={(e) => setDays(Number((e.currentTarget as HTMLInputElement).value))}
          />
          <FieldError id="days" error={daysError} />
        </div>
        <div class="field check">
          <input
            id="wp"
            type="checkbox"
            checked={writeProtect}
            disabled={type.writeProtect !== 'allowed'}
            onChange={(e) => setWp((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="wp">{t('rent.wp')}</label>
          {type.writeProtect !== 'allowed' ? (
            <small class="hint">
              {t('rent.always', { what: formatWriteProtect(type.writeProtect) })}
            </small>
          ) : null}
        </div>
        <p class="total" aria-live="polite">
          {daysOk ? (
            <>
              {t('rent.total', { count: days })}{' '}
              <strong>{formatMoney(totalPrice(type.pricePerDayMinor, days), type.currency)}</strong>
            </>
          ) : (
            t('rent.totalNone')
          )}{' '}
          <span class="muted">
            {t('rent.perDay', { price: formatMoney(type.pricePerDayMinor, type.currency) })}
          </span>
        </p>
        {mode === 'reserve' ? (
          <div class="notice reserve-terms" data-testid="reserve-terms">
            <p>
              <strong>{t('rent.reserveAt', { name: kiosk.name })}</strong>
              {kiosk.address ? <span class="block">{kiosk.address}</span> : null}
            </p>
            <p>{t('rent.content', { what: diskTypeName(type) })}</p>
            <p>{holdSentence(terms)}</p>
          </div>
        ) : null}
        <p class="hint">{t('rent.authorised')}</p>
        <PaymentFields
          collector={payment}
          amountMinor={daysOk ? totalPrice(type.pricePerDayMinor, days) : type.pricePerDayMinor}
          currency={type.currency}
        />
        <ErrorBox error={error} />
        <TermsLinks />
        <div class="actions">
          <Button type="submit" class="primary" busy={busy}>
            {mode === 'rent' ? t('rent.payRent') : t('rent.payReserve')}
          </Button>
          <Button onClick={onCancel}>{t('common.back')}</Button>
        </div>
      </form>
    </section>
  );
}
