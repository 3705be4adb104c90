import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../lib/format.js';
import { Button, ErrorBox, Field, focusFirstInvalid } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';

/** Creates a kiosk and shows its one-time enrolment token (the hub keeps only a hash). */
export function Enrol() {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [idError, setIdError] = useState<string>();
  usePageTitle(t('ops.enrolTitle'), t('app.opsTitle'));
  const [out, setOut] = useState<{ id: string; token: string; expiresAt: string }>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (!id.trim()) {
      setIdError(t('ops.kioskIdRequired'));
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setIdError(undefined);
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
        <Link href="/ops">{t('ops.backToFleet')}</Link>
      </p>
      <h1>{t('ops.enrolTitle')}</h1>
      {out ? (
        <section class="card" role="status">
          <h2>{t('ops.created', { id: out.id })}</h2>
          <p>{t('ops.tokenOnce', { at: formatDateTime(out.expiresAt) })}</p>
          <p>
            <code class="token" data-testid="enrolment-token">
              {out.token}
            </code>
          </p>
          <Link href={`/ops/kiosks/${encodeURIComponent(out.id)}`}>
            {t('ops.openKiosk', { id: out.id })}
          </Link>
        </section>
      ) : (
        <form class="card" onSubmit={submit} noValidate>
          <Field
            label={t('ops.kioskId')}
            required
            hint={t('ops.kioskIdHint')}
            error={idError}
            value={id}
            onInput={setId}
          />
          <Field label={t('ops.name')} value={name} onInput={setName} />
          <ErrorBox error={error} />
          <Button type="submit" class="primary" busy={busy}>
            {t('ops.create')}
          </Button>
        </form>
      )}
    </main>
  );
}
