import { useState } from 'preact/hooks';
import { formatBytes } from '../lib/format.js';
import { Button, ErrorBox, Field, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';

/** Content packages: list and add. */
export function ContentPage() {
  const api = useApi();
  const list = useAsync(() => api.opsContent(), []);
  const [form, setForm] = useState({ id: '', title: '', version: '', sizeBytes: '' });
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
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
      setError(new Error('Fill in id, title, version and a whole size in bytes.'));
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
      setStatus(`Content ${form.id.trim()} added.`);
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <h1>Content packages</h1>
      <ErrorBox error={list.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Title</th>
              <th scope="col">Version</th>
              <th scope="col">Size</th>
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
        <h2>Add content</h2>
        <Field label="Id" value={form.id} onInput={(id) => setForm({ ...form, id })} />
        <Field label="Title" value={form.title} onInput={(title) => setForm({ ...form, title })} />
        <Field
          label="Version"
          value={form.version}
          onInput={(version) => setForm({ ...form, version })}
        />
        <Field
          label="Size (bytes)"
          inputMode="numeric"
          value={form.sizeBytes}
          onInput={(sizeBytes) => setForm({ ...form, sizeBytes })}
        />
        <ErrorBox error={error} />
        <Button type="submit" busy={busy}>
          Add
        </Button>
      </form>
      <LiveStatus>{status}</LiveStatus>
    </main>
  );
}
