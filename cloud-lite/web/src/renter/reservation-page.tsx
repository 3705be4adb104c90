import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { describeFailure } from '../lib/errors.js';
import { formatBytes, formatDateTime, formatDuration, formatMoney } from '../lib/format.js';
import type { Reservation } from '../lib/types.js';
import { Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';
import { useFollow } from '../ui/use-follow.js';

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
      return t('res.cancelled');
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
  usePageTitle(t('res.title'));
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
            {p
              ? t('res.progressOf', {
                  step: p.step,
                  done: formatBytes(p.bytesDone),
                  total: formatBytes(p.bytesTotal),
                })
              : t('res.waiting')}
          </label>
          <progress id="prep" max={100} value={p ? p.percent : undefined}>
            {p ? `${Math.round(p.percent)}%` : ''}
          </progress>
          {p && p.etaSeconds > 0 ? (
            <p class="muted">{t('res.eta', { left: formatDuration(p.etaSeconds) })}</p>
          ) : null}
        </div>
      ) : null}
      {r ? (
        <section class="card">
          <dl>
            <dt>{t('res.kiosk')}</dt>
            <dd>{r.kioskId}</dd>
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
          {r.state === 'preparing' || r.state === 'ready' ? (
            <Button
              busy={busy}
              onClick={async () => {
                setCancelError(undefined);
                setBusy(true);
                try {
                  setOverride(await api.cancelReservation(r.id));
                } catch (err) {
                  setCancelError(err);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {t('res.cancel')}
            </Button>
          ) : null}
          <ErrorBox error={cancelError} />
        </section>
      ) : null}
    </main>
  );
}
