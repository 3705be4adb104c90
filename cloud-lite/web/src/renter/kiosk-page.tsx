import { useState } from 'preact/hooks';
import { describeReasons } from '../lib/errors.js';
import { formatDateTime } from '../lib/format.js';
import type { DiskType, ReservationBrief } from '../lib/types.js';
import { Badge, Button, ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { Link, navigate } from '../ui/router.js';
import { AuthForm } from './auth-form.js';
import { DiskTypeList } from './disk-type-list.js';
import { RentForm } from './rent-form.js';

/**
 * The page a kiosk's QR code opens (/k/<kioskId>, mode rent) and the reservation page of a
 * kiosk found on the map (/reserve/<kioskId>). Runs the 1st instruction (kiosk session) and
 * lists what the renter may rent, and any reservation ready for pickup here.
 */
export function KioskPage({ kioskId, mode }: { kioskId: string; mode: 'rent' | 'reserve' }) {
  const api = useApi();
  const [authed, setAuthed] = useState(api.signedIn);
  if (!authed) {
    return (
      <main>
        <h1>{mode === 'rent' ? 'Rent a disk here' : 'Reserve a disk'}</h1>
        <AuthForm
          intro={`Log in or create an account to ${mode === 'rent' ? 'rent a disk at' : 'reserve at'} kiosk ${kioskId}.`}
          onDone={() => setAuthed(true)}
        />
      </main>
    );
  }
  return <KioskSessionView kioskId={kioskId} mode={mode} />;
}

function KioskSessionView({ kioskId, mode }: { kioskId: string; mode: 'rent' | 'reserve' }) {
  const api = useApi();
  const session = useAsync(() => api.kioskSession(kioskId), [kioskId]);
  const [chosen, setChosen] = useState<DiskType>();
  const [pickupError, setPickupError] = useState<unknown>();
  const [pickingUp, setPickingUp] = useState<string>();

  if (session.loading && !session.data)
    return (
      <main>
        <h1>Kiosk {kioskId}</h1>
        <Loading what="the kiosk" />
      </main>
    );
  if (!session.data) {
    return (
      <main>
        <h1>Kiosk {kioskId}</h1>
        <ErrorBox error={session.error} />
        <Button onClick={session.reload}>Try again</Button>
      </main>
    );
  }
  const s = session.data;
  const allowed = mode === 'rent' ? s.canRent : s.canReserve;
  const reasons = mode === 'rent' ? s.reasons : s.reserveReasons;
  const ready = s.reservations.filter((r) => r.state === 'ready');
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

  return (
    <main>
      <h1>{s.kiosk.name}</h1>
      <p class="muted">
        {s.kiosk.address}{' '}
        {s.kiosk.online ? <Badge tone="ok">online</Badge> : <Badge tone="bad">offline</Badge>}
      </p>
      {!allowed ? (
        <div class="notice" role="alert">
          <p>You cannot {mode === 'rent' ? 'rent' : 'reserve'} here now:</p>
          <ul>
            {describeReasons(reasons).map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          <Link href="/me">Go to my account</Link>
        </div>
      ) : null}
      {ready.length > 0 && mode === 'rent' ? (
        <section class="card" aria-labelledby="ready-title">
          <h2 id="ready-title">Your reservation is ready</h2>
          {ready.map((r) => (
            <div key={r.id} class="reservation-ready">
              <p>
                Reserved disk waiting{r.slot ? ` in slot ${r.slot}` : ''}, held until{' '}
                {formatDateTime(r.holdUntil)}.
              </p>
              <Button class="primary" busy={pickingUp === r.id} onClick={() => pickup(r)}>
                Pick up my reserved disk
              </Button>
            </div>
          ))}
          <ErrorBox error={pickupError} />
        </section>
      ) : null}
      {chosen ? (
        <RentForm
          kioskId={s.kiosk.id}
          type={chosen}
          mode={mode}
          onCancel={() => setChosen(undefined)}
        />
      ) : (
        <section aria-labelledby="types-title">
          <h2 id="types-title">
            {mode === 'rent' ? 'Disks you can rent here' : 'Disks you can reserve'}
          </h2>
          <DiskTypeList types={s.diskTypes} mode={mode} disabled={!allowed} onChoose={setChosen} />
        </section>
      )}
    </main>
  );
}
