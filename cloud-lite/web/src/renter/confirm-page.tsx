import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { usePageTitle } from '../ui/language.js';
import { Link, navigate } from '../ui/router.js';
import { takeNext } from './next-page.js';

/**
 * /register/confirm#<token>: the link of the registration message. The token travels in the
 * fragment (never sent to a server, never in its logs) and leaves the address bar at once.
 */
export function ConfirmRegistrationPage() {
  const api = useApi();
  const [error, setError] = useState<unknown>();
  usePageTitle(t('auth.finishing'));
  useEffect(() => {
    const token = location.hash.slice(1);
    history.replaceState(null, '', location.pathname);
    if (!token) {
      setError(new Error(t('auth.incomplete')));
      return;
    }
    api.confirmRegistration(token).then(
      () => navigate(takeNext(), { replace: true }),
      (err: unknown) => setError(err),
    );
  }, [api]);
  return (
    <main>
      <h1>{t('auth.finishing')}</h1>
      {error ? (
        <>
          <ErrorBox error={error} />
          <p>
            <Link href="/login">{t('auth.again')}</Link>
          </p>
        </>
      ) : (
        <Loading what={t('auth.yourAccount')} />
      )}
    </main>
  );
}
