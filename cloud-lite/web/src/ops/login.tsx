import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { ApiError } from '../lib/errors.js';
import { Button, ErrorBox, Field } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { usePageTitle } from '../ui/language.js';

/**
 * Operator login: an operator/admin account (a session cookie), or the hub's admin token (kept
 * in this page's memory only: a reload asks for it again).
 */
export function OpsLogin({
  bearer,
  onDone,
}: {
  bearer: { set(t: string | null): void };
  onDone: () => void;
}) {
  const api = useApi();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [adminToken, setAdminToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  usePageTitle(t('ops.loginTitle'), t('app.opsTitle'));

  const withAccount = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const user = await api.login(login.trim(), password);
      if (user.role !== 'operator' && user.role !== 'admin') {
        await api.logout().catch(() => undefined);
        throw new ApiError(403, 'FORBIDDEN', t('ops.notOperator'));
      }
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const withToken = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    bearer.set(adminToken.trim());
    try {
      await api.opsKiosks();
      onDone();
    } catch (err) {
      bearer.set(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <h1>{t('ops.loginTitle')}</h1>
      <section class="card">
        <h2>{t('ops.account')}</h2>
        <form onSubmit={withAccount} noValidate>
          <Field label={t('ops.login')} autocomplete="username" value={login} onInput={setLogin} />
          <Field
            label={t('ops.password')}
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={setPassword}
          />
          <Button type="submit" class="primary" busy={busy}>
            {t('ops.logIn')}
          </Button>
        </form>
      </section>
      <section class="card">
        <h2>{t('ops.adminToken')}</h2>
        <form onSubmit={withToken} noValidate>
          <Field
            label={t('ops.adminToken')}
            type="password"
            autocomplete="off"
            value={adminToken}
            onInput={setAdminToken}
          />
          <Button type="submit" busy={busy}>
            {t('ops.useToken')}
          </Button>
        </form>
      </section>
      <ErrorBox error={error} />
    </main>
  );
}
