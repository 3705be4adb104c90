import { useState } from 'preact/hooks';
import { language, t } from '../i18n/i18n.js';
import { Button, ErrorBox, Field, focusFirstInvalid } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { rememberNext } from './next-page.js';

/**
 * Log in (calls `onDone` once the session cookie is set) or ask for an account (the hub sends
 * a link to the e-mail or phone; the form says so, and the link brings the renter back here).
 */
export function AuthForm({ onDone, intro }: { onDone: () => void; intro?: string }) {
  const api = useApi();
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [sentTo, setSentTo] = useState<string>();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const [fieldErrors, setFieldErrors] = useState<{ login?: string; password?: string }>({});

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    // Every field's problem at once, tied to its field; focus goes to the first.
    const errs: { login?: string; password?: string } = {};
    if (!login.trim()) errs.login = t('auth.required');
    if (!password) errs.password = t('auth.passwordRequired');
    else if (mode === 'register' && password.length < 10) errs.password = t('auth.tooShort');
    setFieldErrors(errs);
    if (errs.login || errs.password) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    try {
      if (mode === 'login') {
        await api.login(login.trim(), password);
        onDone();
      } else {
        const id = login.trim();
        await api.register({
          ...(id.includes('@') ? { email: id } : { phone: id }),
          password,
          ...(name.trim() ? { name: name.trim() } : {}),
          // The e-mails (this link's first) in the language the renter reads the page in.
          language: language(),
        });
        rememberNext(location.pathname + location.search);
        setSentTo(id);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (sentTo) {
    return (
      <section class="card" aria-labelledby="auth-title">
        <h2 id="auth-title">{t('auth.checkMessages')}</h2>
        <p role="status">{t('auth.sentLink', { to: sentTo })}</p>
      </section>
    );
  }
  return (
    <section class="card" aria-labelledby="auth-title">
      <h2 id="auth-title">{mode === 'login' ? t('auth.logIn') : t('auth.createAccount')}</h2>
      {intro ? <p>{intro}</p> : null}
      <form onSubmit={submit} noValidate>
        {mode === 'register' ? (
          <Field label={t('auth.name')} autocomplete="name" value={name} onInput={setName} />
        ) : null}
        <Field
          label={t('auth.login')}
          autocomplete="username"
          required
          error={fieldErrors.login}
          value={login}
          onInput={setLogin}
        />
        <Field
          label={t('auth.password')}
          type="password"
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
          required
          hint={mode === 'register' ? t('auth.passwordHint') : undefined}
          error={fieldErrors.password}
          value={password}
          onInput={setPassword}
        />
        <ErrorBox error={error} />
        <Button type="submit" class="primary" busy={busy}>
          {mode === 'login' ? t('auth.logIn') : t('auth.createButton')}
        </Button>
      </form>
      {mode === 'login' ? (
        <p>
          {/* The hub's own page (docs/http-edge.md): a link by e-mail, in the page's language. */}
          <a href="/forgot-password">{t('auth.forgotPassword')}</a>
        </p>
      ) : null}
      <p>
        {mode === 'login' ? t('auth.newHere') : t('auth.haveAccount')}{' '}
        <button
          type="button"
          class="link"
          onClick={() => {
            setMode(mode === 'login' ? 'register' : 'login');
            setError(undefined);
            setFieldErrors({});
          }}
        >
          {mode === 'login' ? t('auth.createAccount') : t('auth.logIn')}
        </button>
      </p>
    </section>
  );
}
