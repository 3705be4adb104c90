import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { Link, navigate } from '../ui/router.js';
import { takeNext } from './next-page.js';

/**
 * /register/confirm#<token>: the link of the registration message. The token travels in the
 * fragment (never sent to a server, never in its logs) and leaves the address bar at once.
 */
export function ConfirmRegistrationPage() {
  const api = useApi();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const token = location.hash.slice(1);
    history.replaceState(null, '', location.pathname);
    if (!token) {
      setError(new Error('This link is incomplete. Open the link from the message again.'));
      return;
    }
    api.confirmRegistration(token).then(
      () => navigate(takeNext(), { replace: true }),
      (err: unknown) => setError(err),
    );
  }, [api]);
  return (
    <main>
      <h1>Finishing your registration</h1>
      {error ? (
        <>
          <ErrorBox error={error} />
          <p>
            <Link href="/login">Log in or register again</Link>
          </p>
        </>
      ) : (
        <Loading what="your account" />
      )}
    </main>
  );
}
