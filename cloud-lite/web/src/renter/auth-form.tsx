import { useState } from 'preact/hooks';
import { Button, ErrorBox, Field } from '../ui/components.js';
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

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (mode === 'register' && password.length < 10) {
      setError(new Error('Choose a longer password: at least 10 characters.'));
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
        <h2 id="auth-title">Check your messages</h2>
        <p role="status">
          We sent a link to {sentTo}. Open it to finish creating your account; it brings you back
          here. (If this address already has an account, the message says so: log in instead.)
        </p>
      </section>
    );
  }
  return (
    <section class="card" aria-labelledby="auth-title">
      <h2 id="auth-title">{mode === 'login' ? 'Log in' : 'Create an account'}</h2>
      {intro ? <p>{intro}</p> : null}
      <form onSubmit={submit} noValidate>
        {mode === 'register' ? (
          <Field label="Your name (optional)" autocomplete="name" value={name} onInput={setName} />
        ) : null}
        <Field
          label="E-mail or phone number"
          autocomplete="username"
          required
          value={login}
          onInput={setLogin}
        />
        <Field
          label="Password"
          type="password"
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
          required
          hint={
            mode === 'register'
              ? 'At least 10 characters; not a common password, nor your e-mail or phone.'
              : undefined
          }
          value={password}
          onInput={setPassword}
        />
        <ErrorBox error={error} />
        <Button type="submit" class="primary" busy={busy}>
          {mode === 'login' ? 'Log in' : 'Create account'}
        </Button>
      </form>
      <p>
        {mode === 'login' ? 'New here? ' : 'Have an account? '}
        <button
          type="button"
          class="link"
          onClick={() => {
            setMode(mode === 'login' ? 'register' : 'login');
            setError(undefined);
          }}
        >
          {mode === 'login' ? 'Create an account' : 'Log in'}
        </button>
      </p>
    </section>
  );
}
