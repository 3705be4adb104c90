import { useEffect } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { useApi, useSignedIn } from '../ui/context.js';
import { LanguageSwitch, useLanguage, usePageTitle } from '../ui/language.js';
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
  const [authed, setAuthed] = useSignedIn(api);
  useLanguage(); // re-renders every page when the renter switches language

  // Pages of an account: logged out (a deep link, an expired session), they ask for the login
  // in place and show the page once it is done (the address never changes, so reload works).
  const needsAccount = /^\/(orders|reservations)\//.test(path);
  const page =
    needsAccount && !authed ? (
      <LoginGate key="gate" onDone={() => setAuthed(true)} />
    ) : (
      renterPage(path, query, authed)
    );
  const here = path + (query.size > 0 ? `?${query}` : '');

  return (
    <>
      <a class="skip" href="#content">
        {t('app.skip')}
      </a>
      <header class="top">
        <Link href="/" class="brand">
          {t('app.renterTitle')}
        </Link>
        <nav aria-label={t('nav.main')}>
          <Link href="/kiosks">{t('nav.kiosks')}</Link>
          <Link href="/me">{t('nav.me')}</Link>
          {authed ? (
            <button
              type="button"
              class="link"
              onClick={async () => {
                await api.logout().catch(() => undefined);
                navigate('/');
              }}
            >
              {t('nav.logOut')}
            </button>
          ) : (
            <Link href={path === '/login' ? here : `/login?next=${encodeURIComponent(here)}`}>
              {t('nav.logIn')}
            </Link>
          )}
        </nav>
        <LanguageSwitch />
      </header>
      <div id="content">{page}</div>
    </>
  );
}

function renterPage(path: string, query: URLSearchParams, authed: boolean): preact.JSX.Element {
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
  if (path === '/login') return <LoginPage next={query.get('next')} authed={authed} />;
  if (path === '/' || path === '/kiosks') return <NearbyPage />;
  return <NotFoundPage />;
}

/** /login?next=<path>: after login (or the registration link) the renter lands on `next`. */
function LoginPage({ next, authed }: { next: string | null; authed: boolean }) {
  usePageTitle(t('nav.logIn'));
  useEffect(() => {
    if (authed) navigate(safeNext(next), { replace: true });
  }, [authed, next]);
  return (
    <main>
      <h1>{t('nav.welcome')}</h1>
      <AuthForm onDone={() => navigate(safeNext(next), { replace: true })} />
    </main>
  );
}

/** A page of an account opened logged out: the login, then the page itself. */
function LoginGate({ onDone }: { onDone: () => void }) {
  usePageTitle(t('nav.logIn'));
  return (
    <main>
      <h1>{t('nav.logIn')}</h1>
      <p>{t('auth.loginToSee')}</p>
      <AuthForm onDone={onDone} />
    </main>
  );
}

function NotFoundPage() {
  usePageTitle(t('common.notFoundTitle'));
  return (
    <main>
      <h1>{t('common.notFoundTitle')}</h1>
      <p>{t('common.notFoundText')}</p>
      <p class="actions">
        <Link class="button primary" href="/kiosks">
          {t('common.findKiosk')}
        </Link>
        <Link class="button" href="/me">
          {t('common.myRentals')}
        </Link>
      </p>
    </main>
  );
}

export { safeNext } from './next-page.js';
