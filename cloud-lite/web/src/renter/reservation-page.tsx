import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { describeFailure } from '../lib/errors.js';
import { formatBytes, formatDateTime, formatDuration, formatMoney } from '../lib/format.js';
import type { Reservation } from '../lib/types.js';
import { Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { Directions } from '../ui/directions.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';
import { useFollow } from '../ui/use-follow.js';
import { diskTypeName } from './disk-type-list.js';

/** The kiosk's preparation steps in order (protocol PREPARE_STEPS; the page imports no protocol code). */
const PREPARE_STEPS = [
  'fetching',
  'formatting',
  'copying',
  'flushing',
  'verifying',
  'configuring',
] as const;

function focusSoon(selector: string) {
  setTimeout(() => document.querySelector<HTMLElement>(selector)?.focus(), 0);
}
function focusStatus() {
  focusSoon('main h1');
}

const TERMINAL = new Set(['picked_up', 'cancelled', 'expired', 'failed']);

export function reservationHeadline(r: Reservation): string {
  switch (r.state) {
    case 'preparing':
      return r.progress
        ? t('res.preparingPct', { pct: Math.round(r.progress.percent) })
        : t('res.preparing');
    case 'ready':
      return r.slot
        ? t('res.readySlot', { slot: r.slot, until: formatDateTime(r.holdUntil) })
        : t('res.ready', { until: formatDateTime(r.holdUntil) });
    case 'picked_up':
      return t('res.pickedUp');
    case 'cancelled':
      return r.failureReason === 'CANCELLED_BY_RENTER'
        ? t('res.cancelledAmount', { amount: formatMoney(r.amountMinor, r.currency) })
        : t('res.cancelled');
    case 'expired':
      return t('res.expired');
    case 'failed':
      return t('res.failed', { why: describeFailure(r.failureReason ?? 'PREPARE_FAILED') });
  }
}

/** Follows one reservation (5th instruction: the kiosk prepares the disk): /reservations/<id>. */
export function ReservationPage({ reservationId }: { reservationId: string }) {
  const api = useApi();
  const [override, setOverride] = useState<Reservation>();
  const [cancelError, setCancelError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const followed = useFollow<Reservation>({
    api,
    load: () => api.reservation(reservationId),
    streamPath: `/api/reservations/${encodeURIComponent(reservationId)}/events`,
    key: 'reservation',
    isDone: (r) => TERMINAL.has(r.state),
  });
  const r = override && TERMINAL.has(override.state) ? override : followed.value;
  const p = r?.progress;
  const [confirming, setConfirming] = useState(false);
  // The kiosk's public offer: its name, address and position, and the content's title.
  const offer = useAsync(
    () => (r ? api.kioskOffer(r.kioskId) : Promise.resolve(undefined)),
    [r?.kioskId],
  );
  const kiosk = offer.data?.kiosk;
  const type = offer.data?.diskTypes.find((d) => d.id === r?.diskTypeId);
  const stepNo = p ? PREPARE_STEPS.indexOf(p.step as (typeof PREPARE_STEPS)[number]) + 1 : 0;
  usePageTitle(t('res.title'));
  const cancel = async () => {
    if (!r) return;
    setCancelError(undefined);
    setBusy(true);
    try {
      setOverride(await api.cancelReservation(r.id));
      setConfirming(false);
      focusStatus();
    } catch (err) {
      setCancelError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <h1>{t('res.title')}</h1>
      {!r && !followed.error ? <Loading what={t('res.yours')} /> : null}
      <ErrorBox error={followed.error} />
      <LiveStatus id="reservation-status">
        {r ? (
          <p class={`headline state-${r.state}`} data-state={r.state}>
            {reservationHeadline(r)}
          </p>
        ) : null}
      </LiveStatus>
      {r && r.state === 'preparing' ? (
        <div class="progress">
          <label for="prep">
            {p && stepNo > 0
              ? t('res.stepOf', {
                  n: stepNo,
                  total: PREPARE_STEPS.length,
                  step: t(`res.step.${p.step}`),
                })
              : t('res.waiting')}
          </label>
          <progress id="prep" max={100} value={p ? p.percent : undefined}>
            {p ? `${Math.round(p.percent)}%` : ''}
          </progress>
          {p && p.bytesTotal > 0 ? (
            <p class="muted" data-testid="step-bytes">
              {t('res.bytesOf', {
                done: formatBytes(p.bytesDone),
                total: formatBytes(p.bytesTotal),
              })}
            </p>
          ) : null}
          {p && p.etaSeconds > 0 ? (
            <p class="muted">{t('res.eta', { left: formatDuration(p.etaSeconds) })}</p>
          ) : null}
        </div>
      ) : null}
      {r ? (
        <section class="card">
          <dl>
            <dt>{t('res.kiosk')}</dt>
            <dd data-testid="res-kiosk">
              {kiosk ? (
                <>
                  <Link href={`/k/${encodeURIComponent(r.kioskId)}`}>{kiosk.name}</Link>
                  {kiosk.address ? <span class="block">{kiosk.address}</span> : null}
                  <Directions lat={kiosk.lat} lng={kiosk.lng} name={kiosk.name} />
                </>
              ) : (
                r.kioskId
              )}
            </dd>
            <dt>{t('res.content')}</dt>
            <dd data-testid="res-content">{type ? diskTypeName(type) : r.diskTypeId}</dd>
            <dt>{t('res.heldUntil')}</dt>
            <dd>{formatDateTime(r.holdUntil)}</dd>
            {r.amountMinor !== undefined ? (
              <>
                <dt>{t('res.amount')}</dt>
                <dd>{formatMoney(r.amountMinor, r.currency)}</dd>
              </>
            ) : null}
          </dl>
          {r.fees.length > 0 ? (
            <>
              <h2>{t('res.fees')}</h2>
              <ul>
                {r.fees.map((f) => (
                  <li key={`${f.kind}-${f.at}`}>
                    {f.message ?? f.kind}: {formatMoney(f.amountMinor, f.currency ?? r.currency)}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {r.state === 'ready' && r.pickupCode ? (
            <div class="pickup-code">
              <h2>{t('res.codeTitle')}</h2>
              <p class="code">
                <output>
                  {r.pickupCode.slice(0, 4)} {r.pickupCode.slice(4)}
                </output>
              </p>
              <p>{t('res.codeHelp', { until: formatDateTime(r.holdUntil) })}</p>
            </div>
          ) : null}
          {r.state === 'ready' ? (
            <p>
              {r.pickupCode ? t('res.orScan') : t('res.scan')}{' '}
              <Link href={`/k/${encodeURIComponent(r.kioskId)}`}>{t('res.kioskPage')}</Link>{' '}
              {t('res.choosePickUp')}
            </p>
          ) : null}
          {(r.state === 'preparing' || r.state === 'ready') && !confirming ? (
            <Button
              onClick={() => {
                setConfirming(true);
                focusSoon('#cancel-confirm');
              }}
            >
              {t('res.cancel')}
            </Button>
          ) : null}
          {(r.state === 'preparing' || r.state === 'ready') && confirming ? (
            <div
              class="notice confirm"
              id="cancel-confirm"
              tabIndex={-1}
              data-testid="cancel-confirm"
            >
              <p>{t('res.confirmCancel', { amount: formatMoney(r.amountMinor, r.currency) })}</p>
              <div class="actions">
                <Button class="danger" busy={busy} onClick={cancel}>
                  {t('res.confirmYes')}
                </Button>
                <Button onClick={() => setConfirming(false)}>{t('res.keep')}</Button>
              </div>
            </div>
          ) : null}
          <ErrorBox error={cancelError} />
          {TERMINAL.has(r.state) && r.state !== 'picked_up' ? (
            <p class="actions">
              <Link class="button" href={`/reserve/${encodeURIComponent(r.kioskId)}`}>
                {t('res.reserveAgain')}
              </Link>
              <Link class="button" href="/kiosks">
                {t('res.findOther')}
              </Link>
            </p>
          ) : null}
          {r.state === 'picked_up' && r.orderId ? (
            <p>
              <Link href="/me">{t('common.myRentals')}</Link>
            </p>
          ) : null}
        </section>
      ) : null}
    </main>
  );
}
