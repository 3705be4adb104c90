import { useState } from 'preact/hooks';
import { formatDateTime } from '../lib/format.js';
import { Button, ErrorBox, Field } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { Link } from '../ui/router.js';

/** Creates a kiosk and shows its one-time enrolment token (the hub keeps only a hash). */
export function Enrol() {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [out, setOut] = useState<{ id: string; token: string; expiresAt: string }>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const r = await api.opsCreateKiosk(id.trim(), name.trim() || undefined);
      setOut({ id: r.kiosk.id, token: r.enrolmentToken, expiresAt: r.expiresAt });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <p>
        <Link href="/ops">← Fleet</Link>
      </p>
      <h1>Enrol a kiosk</h1>
      {out ? (
        <section class="card" role="status">
          <h2>Kiosk {out.id} created</h2>
          <p>
            Its enrolment token is shown <strong>only now</strong>. Enter it on the kiosk (kioskctl
            enrol) before {formatDateTime(out.expiresAt)}.
          </p>
          <p>
            <code class="token" data-testid="enrolment-token">
              {out.token}
            </code>
          </p>
          <Link href={`/ops/kiosks/${encodeURIComponent(out.id)}`}>Open kiosk {out.id}</Link>
        </section>
      ) : (
        <form class="card" onSubmit={submit} noValidate>
          <Field
            label="Kiosk id"
            required
            hint="Letters, digits and . _ : - (at most 64)."
            value={id}
            onInput={setId}
          />
          <Field label="Name (optional)" value={name} onInput={setName} />
          <ErrorBox error={error} />
          <Button type="submit" class="primary" busy={busy}>
            Create kiosk and show the token
          </Button>
        </form>
      )}
    </main>
  );
}
