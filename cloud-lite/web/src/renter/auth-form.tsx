import { useState } from 'preact/hooks';
import { Button, ErrorBox, Field } from '../ui/components.js';
import { useApi } from '../ui/context.js';

/** Log in or create an account; calls `onDone` once a session token is stored. */
export function AuthForm({ onDone, intro }: { onDone: () => void; intro?: string }) {
  const api = useApi();
  const [mode, setMode] = useState<'login' | 'register'>('login');
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
      if (mode === 'login') await api.login(login.trim(), password);
      else {
        const id = login.trim();
        await api.register({
          ...(id.includes('@') ? { email: id } : { phone: id }),
          password,
          ...(name.trim() ? { name: name.trim() } : {}),
        });
      }
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

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
          hint={mode === 'register' ? 'At least 10 characters.' : undefined}
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
