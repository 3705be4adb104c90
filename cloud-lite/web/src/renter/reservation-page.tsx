import { useState } from 'preact/hooks';
import { describeFailure } from '../lib/errors.js';
import { formatBytes, formatDateTime, formatDuration, formatMoney } from '../lib/format.js';
import type { Reservation } from '../lib/types.js';
import { Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { Link } from '../ui/router.js';
import { useFollow } from '../ui/use-follow.js';

const TERMINAL = new Set(['picked_up', 'cancelled', 'expired', 'failed']);

export function reservationHeadline(r: Reservation): string {
  switch (r.state) {
    case 'preparing':
      return r.progress
        ? `Preparing your disk: ${Math.round(r.progress.percent)}%`
        : 'The kiosk is preparing your disk…';
    case 'ready':
      return `Your disk is ready${r.slot ? ` in slot ${r.slot}` : ''}. Pick it up by ${formatDateTime(r.holdUntil)}.`;
    case 'picked_up':
      return 'Picked up. Enjoy!';
    case 'cancelled':
      return 'Reservation cancelled. Your payment is refunded.';
    case 'expired':
      return 'The hold time passed and the reservation expired.';
    case 'failed':
      return `The disk could not be prepared. ${describeFailure(r.failureReason ?? 'PREPARE_FAILED')}`;
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
  return (
    <main>
      <h1>Your reservation</h1>
      {!r && !followed.error ? <Loading what="your reservation" /> : null}
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
              ? `${p.step}: ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`
              : 'Waiting for the kiosk'}
          </label>
          <progress id="prep" max={100} value={p ? p.percent : undefined}>
            {p ? `${Math.round(p.percent)}%` : ''}
          </progress>
          {p && p.etaSeconds > 0 ? (
            <p class="muted">About {formatDuration(p.etaSeconds)} left.</p>
          ) : null}
        </div>
      ) : null}
      {r ? (
        <section class="card">
          <dl>
            <dt>Kiosk</dt>
            <dd>{r.kioskId}</dd>
            <dt>Held until</dt>
            <dd>{formatDateTime(r.holdUntil)}</dd>
            {r.amountMinor !== undefined ? (
              <>
                <dt>Amount</dt>
                <dd>{formatMoney(r.amountMinor, r.currency)}</dd>
              </>
            ) : null}
          </dl>
          {r.fees.length > 0 ? (
            <>
              <h2>Fees</h2>
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
              <h2>Your pickup code</h2>
              <p class="code">
                <output>
                  {r.pickupCode.slice(0, 4)} {r.pickupCode.slice(4)}
                </output>
              </p>
              <p>
                Type these 8 digits on the kiosk's keypad: the disk comes out after the 8th digit
                (no Enter needed; <kbd>Backspace</kbd> removes a digit, <kbd>.</kbd> or <kbd>*</kbd>{' '}
                starts again). The code works even when the kiosk is offline, once, until{' '}
                {formatDateTime(r.holdUntil)}. After 5 wrong codes the keypad waits a little before
                it takes another.
              </p>
            </div>
          ) : null}
          {r.state === 'ready' ? (
            <p>
              {r.pickupCode ? 'Or, at the kiosk, scan' : 'At the kiosk, scan'} its QR code or open{' '}
              <Link href={`/k/${encodeURIComponent(r.kioskId)}`}>the kiosk page</Link> and choose
              “Pick up”.
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
              Cancel reservation
            </Button>
          ) : null}
          <ErrorBox error={cancelError} />
        </section>
      ) : null}
    </main>
  );
}
