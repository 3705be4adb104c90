import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { describeReasons } from '../lib/errors.js';
import { formatDateTime, formatDuration, formatMoney } from '../lib/format.js';
import { takePreloadedOffer } from '../lib/preload.js';
import type { DiskType, KioskSession, ReservationBrief, Terms } from '../lib/types.js';
import { Badge, Button, ErrorBox, Loading } from '../ui/components.js';
import { useApi, useSignedIn } from '../ui/context.js';
import { Directions } from '../ui/directions.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { Link, navigate, useLocation } from '../ui/router.js';
import { holdSentence } from '../ui/terms.js';
import { AuthForm } from './auth-form.js';
import { DiskTypeList, diskTypeName } from './disk-type-list.js';
import { RentForm } from './rent-form.js';

/**
 * The page a kiosk's QR code opens (/k/<kioskId>, mode rent) and the reservation page of a
 * kiosk found on the map (/reserve/<kioskId>). It sells before it asks: the kiosk's public
 * offer (name, address, online, disk types with titles, prices, stock, deposit and late
 * policy) is shown to anyone; login and the deposit come inside checkout. Signed in, the 1st
 * instruction (kiosk session) says whether the renter may rent here and shows any
 * reservation ready for pickup.
 */
export function KioskPage({ kioskId, mode }: { kioskId: string; mode: 'rent' | 'reserve' }) {
  const api = useApi();
  // The page may be on screen before the session is known (the hub rendered it): it follows.
  const [authed, setAuthed] = useSignedIn(api);
  // The hub put the offer into the page (/k/<id>): shown without waiting for the API.
  const offer = useAsync(() => api.kioskOffer(kioskId), [kioskId], takePreloadedOffer(kioskId));
  const session = useAsync<KioskSession | null>(
    () => (authed ? api.kioskSession(kioskId) : Promise.resolve(null)),
    [kioskId, authed],
  );
  // The chosen disk type is in the address (?type=<id>): Back returns to the list, a reload
  // (or the registration link) comes back to the form.
  const { query } = useLocation();
  const chosenId = query.get('type');
  const setChosen = (d: DiskType | undefined) =>
    navigate(d ? `${location.pathname}?type=${encodeURIComponent(d.id)}` : location.pathname);
  const [pickupError, setPickupError] = useState<unknown>();
  const [pickingUp, setPickingUp] = useState<string>();
  usePageTitle(offer.data?.kiosk.name ?? t('kiosk.title', { id: kioskId }));

  if (!offer.data) {
    return (
      <main>
        <h1>{t('kiosk.title', { id: kioskId })}</h1>
        {offer.loading ? <Loading what={t('kiosk.theKiosk')} /> : null}
        <ErrorBox error={offer.error} />
        {offer.error ? (
          <p class="actions">
            <Button onClick={offer.reload}>{t('common.tryAgain')}</Button>
            <Link class="button" href="/kiosks">
              {t('common.findKiosk')}
            </Link>
          </p>
        ) : null}
      </main>
    );
  }
  const o = offer.data;
  const s = session.data ?? undefined;
  const kiosk = s ? { ...o.kiosk, ...s.kiosk } : o.kiosk;
  const types = s?.diskTypes ?? o.diskTypes;
  const chosen = chosenId ? types.find((d) => d.id === chosenId) : undefined;
  const allowed = s ? (mode === 'rent' ? s.canRent : s.canReserve) : true;
  const reasons = s ? (mode === 'rent' ? s.reasons : s.reserveReasons) : [];
  const ready = s?.reservations.filter((r) => r.state === 'ready') ?? [];
  const pickup = async (r: ReservationBrief) => {
    setPickupError(undefined);
    setPickingUp(r.id);
    try {
      const out = await api.pickup(r.id);
      navigate(`/orders/${encodeURIComponent(out.order.id)}`);
    } catch (err) {
      setPickupError(err);
    } finally {
      setPickingUp(undefined);
    }
  };
  const depositText = formatMoney(o.terms.depositMinor, o.terms.currency);

  return (
    <main>
      <h1>{kiosk.name}</h1>
      <p class="muted kiosk-where">
        {kiosk.address ? <span>{kiosk.address} </span> : null}
        <Directions lat={o.kiosk.lat} lng={o.kiosk.lng} name={kiosk.name} />{' '}
        {kiosk.online ? (
          <Badge tone="ok">
            {t('common.online')} · {t('kiosk.openNow')}
          </Badge>
        ) : (
          <Badge tone="bad">
            {t('common.offline')} · {t('kiosk.offlineNow')}
          </Badge>
        )}
      </p>
      {s && !allowed ? (
        <div class="notice" role="alert">
          <p>{t(mode === 'rent' ? 'kiosk.cannot_rent' : 'kiosk.cannot_reserve')}</p>
          <ul>
            {describeReasons(reasons).map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          {reasons.includes('NO_DEPOSIT') ? (
            <p>
              <strong>{t('kiosk.depositNeeded', { amount: depositText })}</strong>{' '}
              <Link href={`/me?next=${encodeURIComponent(location.pathname)}#deposit-title`}>
                {t('kiosk.payDeposit', { amount: depositText })}
              </Link>
            </p>
          ) : (
            <Link href="/me">{t('kiosk.goToAccount')}</Link>
          )}
        </div>
      ) : null}
      <ErrorBox error={session.error} />
      {ready.length > 0 && mode === 'rent' ? (
        <section class="card" aria-labelledby="ready-title">
          <h2 id="ready-title">{t('kiosk.readyTitle')}</h2>
          {ready.map((r) => (
            <div key={r.id} class="reservation-ready">
              <p>
                {r.slot
                  ? t('kiosk.readyIn', { slot: r.slot, until: formatDateTime(r.holdUntil) })
                  : t('kiosk.ready', { until: formatDateTime(r.holdUntil) })}
              </p>
              <Button class="primary" busy={pickingUp === r.id} onClick={() => pickup(r)}>
                {t('kiosk.pickUp')}
              </Button>
            </div>
          ))}
          <ErrorBox error={pickupError} />
        </section>
      ) : null}
      {chosen ? (
        authed ? (
          !s ? (
            <Loading what={t('kiosk.theKiosk')} />
          ) : allowed ? (
            <RentForm
              kiosk={kiosk}
              terms={o.terms}
              type={chosen}
              mode={mode}
              onCancel={() => setChosen(undefined)}
            />
          ) : (
            <Button onClick={() => setChosen(undefined)}>{t('kiosk.chooseOther')}</Button>
          )
        ) : (
          <section class="card" aria-labelledby="checkout-title">
            <h2 id="checkout-title">
              {t(`kiosk.checkoutTitle_${mode}`, { what: diskTypeName(chosen) })}
            </h2>
            <AuthForm
              intro={t('kiosk.loginToRent', { amount: depositText })}
              onDone={() => setAuthed(true)}
            />
            <Button onClick={() => setChosen(undefined)}>{t('kiosk.chooseOther')}</Button>
          </section>
        )
      ) : (
        <section aria-labelledby="types-title">
          <h2 id="types-title">{t(mode === 'rent' ? 'kiosk.typesRent' : 'kiosk.typesReserve')}</h2>
          <DiskTypeList types={types} mode={mode} disabled={!!s && !allowed} onChoose={setChosen} />
        </section>
      )}
      <TermsBox terms={o.terms} mode={mode} />
    </main>
  );
}

/** The deposit, late and lost-disk policy, stated before anyone pays. */
export function TermsBox({ terms, mode }: { terms: Terms; mode: 'rent' | 'reserve' }) {
  const money = (m: number) => formatMoney(m, terms.currency);
  return (
    <section class="card terms" aria-labelledby="terms-title">
      <h2 id="terms-title">{t('kiosk.termsTitle')}</h2>
      <ul>
        <li>{t('kiosk.deposit', { amount: money(terms.depositMinor) })}</li>
        <li>{t('kiosk.returnAnywhere')}</li>
        <li>{t('kiosk.lateFee', { fee: money(terms.overdueFeePerDayMinor) })}</li>
        <li>
          {t('kiosk.lost', {
            days: terms.overdueMaxDays,
            charge: money(terms.lostDiskChargeMinor),
          })}
        </li>
        <li>{t('kiosk.pickupWindow', { window: formatDuration(terms.pickupWindowSeconds) })}</li>
        {mode === 'reserve' ? <li>{holdSentence(terms)}</li> : null}
      </ul>
    </section>
  );
}
