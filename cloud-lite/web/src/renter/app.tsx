import { useEffect, useState } from 'preact/hooks';
import { useApi } from '../ui/context.js';
import { Link, match, navigate, useLocation } from '../ui/router.js';
import { AuthForm } from './auth-form.js';
import { ConfirmRegistrationPage } from './confirm-page.js';
import { KioskPage } from './kiosk-page.js';
import { MePage } from './me-page.js';
import { NearbyPage } from './nearby-page.js';
import { safeNext } from './next-page.js';
import { OrderPage } from './order-page.js';
import { ReservationPage } from './reservation-page.js';

/** The renter web app: routes and the header. */
export function RenterApp() {
  const api = useApi();
  const { path, query } = useLocation();
  const [authed, setAuthed] = useState(api.signedIn);
  useEffect(() => {
    const update = () => setAuthed(api.signedIn);
    addEventListener('dk:session', update);
    return () => removeEventListener('dk:session', update);
  }, [api]);

  const page = renterPage(path, query);

  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Disk rental
        </Link>
        <nav aria-label="Main">
          <Link href="/kiosks">Kiosks</Link>
          <Link href="/me">My rentals</Link>
          {authed ? (
            <button
              type="button"
              class="link"
              onClick={async () => {
                await api.logout().catch(() => undefined);
                navigate('/');
              }}
            >
              Log out
            </button>
          ) : (
            <Link href={`/login?next=${encodeURIComponent(path)}`}>Log in</Link>
          )}
        </nav>
      </header>
      <div id="content">{page}</div>
    </>
  );
}

function renterPage(path: string, query: URLSearchParams): preact.JSX.Element {
  const kiosk = match('/k/:id', path);
  if (kiosk) return <KioskPage key={`k-${kiosk.id}`} kioskId={kiosk.id!} mode="rent" />;
  const reserve = match('/reserve/:id', path);
  if (reserve) return <KioskPage key={`r-${reserve.id}`} kioskId={reserve.id!} mode="reserve" />;
  const order = match('/orders/:id', path);
  if (order) return <OrderPage key={order.id} orderId={order.id!} />;
  const res = match('/reservations/:id', path);
  if (res) return <ReservationPage key={res.id} reservationId={res.id!} />;
  if (path === '/me' || path.startsWith('/me/')) return <MePage />;
  if (path === '/register/confirm') return <ConfirmRegistrationPage />;
  if (path === '/login') {
    return (
      <main>
        <h1>Welcome</h1>
        <AuthForm onDone={() => navigate(safeNext(query.get('next')), { replace: true })} />
      </main>
    );
  }
  if (path === '/' || path === '/kiosks') return <NearbyPage />;
  return (
    <main>
      <h1>Page not found</h1>
      <p>
        <Link href="/">Find a kiosk</Link>
      </p>
    </main>
  );
}

export { safeNext } from './next-page.js';
