import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatBytes } from '../lib/format.js';
import { Button, ErrorBox, Field, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';

/** Content packages: list and add. */
export function ContentPage() {
  const api = useApi();
  const list = useAsync(() => api.opsContent(), []);
  const [form, setForm] = useState({ id: '', title: '', version: '', sizeBytes: '' });
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  usePageTitle(t('ops.contentTitle'), t('app.opsTitle'));
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const size = Number(form.sizeBytes);
    if (
      !form.id.trim() ||
      !form.title.trim() ||
      !form.version.trim() ||
      !Number.isInteger(size) ||
      size < 0
    ) {
      setError(new Error(t('ops.contentInvalid')));
      return;
    }
    setBusy(true);
    try {
      await api.opsAddContent({
        id: form.id.trim(),
        title: form.title.trim(),
        version: form.version.trim(),
        sizeBytes: size,
      });
      setStatus(t('ops.contentAdded', { id: form.id.trim() }));
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <h1>{t('ops.contentTitle')}</h1>
      <ErrorBox error={list.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('ops.colId')}</th>
              <th scope="col">{t('ops.colTitle')}</th>
              <th scope="col">{t('ops.colVersion')}</th>
              <th scope="col">{t('ops.colSize')}</th>
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((c) => (
              <tr key={c.id}>
                <th scope="row">{c.id}</th>
                <td>{c.title}</td>
                <td>{c.version}</td>
                <td>{formatBytes(c.sizeBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="card" onSubmit={submit} noValidate>
        <h2>{t('ops.addContent')}</h2>
        <Field label={t('ops.id')} value={form.id} onInput={(id) => setForm({ ...form, id })} />
        <Field
          label={t('ops.title')}
          value={form.title}
          onInput={(title) => setForm({ ...form, title })}
        />
        <Field
          label={t('ops.version')}
          value={form.version}
          onInput={(version) => setForm({ ...form, version })}
        />
        <Field
          label={t('ops.size')}
          inputMode="numeric"
          value={form.sizeBytes}
          onInput={(sizeBytes) => setForm({ ...form, sizeBytes })}
        />
        <ErrorBox error={error} />
        <Button type="submit" busy={busy}>
          {t('ops.add')}
        </Button>
      </form>
      <LiveStatus>{status}</LiveStatus>
    </main>
  );
}
