import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import type { TokenStore } from '../lib/api-client.js';
import { useApi } from '../ui/context.js';
import { LanguageSwitch, useLanguage } from '../ui/language.js';
import { Link, match, navigate, useLocation } from '../ui/router.js';
import { ContentPage } from './content.js';
import { Enrol } from './enrol.js';
import { Fleet } from './fleet.js';
import { KioskDetail } from './kiosk-detail.js';
import { OpsLogin } from './login.js';
import { OrdersPage } from './orders.js';
import { ConfigPage } from './remote-config.js';
import { UpdatesPage } from './updates.js';

/** The operator dashboard under /ops. */
export function OpsApp({ bearer, staff }: { bearer: TokenStore; staff: boolean }) {
  const api = useApi();
  const { path } = useLocation();
  const [authed, setAuthed] = useState(staff);
  useLanguage(); // re-renders every page when the operator switches language
  useEffect(() => {
    // Only a lost session changes the page here; a login says so through onDone.
    const update = () => {
      if (!api.signedIn) setAuthed(false);
    };
    addEventListener('dk:session', update);
    return () => removeEventListener('dk:session', update);
  }, [api]);

  const detail = match('/ops/kiosks/:id', path);
  let page: preact.JSX.Element;
  if (!authed) page = <OpsLogin bearer={bearer} onDone={() => setAuthed(true)} />;
  else if (detail) page = <KioskDetail key={detail.id} kioskId={detail.id!} />;
  else if (path === '/ops/enrol') page = <Enrol />;
  else if (path === '/ops/orders') page = <OrdersPage />;
  else if (path === '/ops/content') page = <ContentPage />;
  else if (path === '/ops/updates') page = <UpdatesPage />;
  else if (path === '/ops/config') page = <ConfigPage />;
  else page = <Fleet />;

  return (
    <div class="ops">
      <a class="skip" href="#content">
        {t('app.skip')}
      </a>
      <header class="top">
        <Link href="/ops" class="brand">
          {t('ops.brand')}
        </Link>
        {authed ? (
          <nav aria-label={t('ops.nav')}>
            <Link href="/ops">{t('ops.fleet')}</Link>
            <Link href="/ops/orders">{t('ops.orders')}</Link>
            <Link href="/ops/content">{t('ops.content')}</Link>
            <Link href="/ops/updates">{t('ops.updates')}</Link>
            <Link href="/ops/config">{t('rc.nav')}</Link>
            <Link href="/ops/enrol">{t('ops.enrol')}</Link>
            <button
              type="button"
              class="link"
              onClick={async () => {
                await api.logout().catch(() => undefined);
                navigate('/ops');
              }}
            >
              {t('nav.logOut')}
            </button>
          </nav>
        ) : null}
        <LanguageSwitch />
      </header>
      <div id="content">{page}</div>
    </div>
  );
}
