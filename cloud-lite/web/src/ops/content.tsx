import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import {
  formatBytes,
  formatMoney,
  formatWriteProtect,
  moneyForInput,
  parseMoney,
  parseSize,
  sizeForInput,
} from '../lib/format.js';
import type { ContentPackage, OpsDiskType } from '../lib/types.js';
import { Button, ErrorBox, Field, focusFirstInvalid, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { RentalSettingsForm } from './rental-settings.js';

type Errors<K extends string> = Partial<Record<K, string>>;

/**
 * The catalogue: the rental terms (deposit, late fee, lost-disk charge), disk types (capacity,
 * content, price per day, days) and content packages (titles, sizes), each listed and editable (the hub validates and audits every change).
 * Sizes are shown and typed in human units ("40 GB", "37.25 GiB").
 */
export function ContentPage() {
  const api = useApi();
  const content = useAsync(() => api.opsContent(), []);
  const types = useAsync(() => api.opsDiskTypes(), []);
  usePageTitle(t('ops.contentTitle'), t('app.opsTitle'));
  return (
    <main>
      <h1>{t('ops.contentTitle')}</h1>
      <RentalSettingsForm />
      <DiskTypes
        list={types.data ?? []}
        content={content.data ?? []}
        error={types.error}
        reload={types.reload}
      />
      <ContentPackages list={content.data ?? []} error={content.error} reload={content.reload} />
    </main>
  );
}

const WRITE_PROTECT = ['allowed', 'forced', 'off'] as const;
const emptyType = {
  id: '',
  capacity: '',
  contentId: '',
  writeProtect: 'allowed' as (typeof WRITE_PROTECT)[number],
  price: '',
  defaultDays: '1',
  maxDays: '30',
};

function DiskTypes(props: {
  list: OpsDiskType[];
  content: ContentPackage[];
  error: unknown;
  reload: () => void;
}) {
  const api = useApi();
  const [f, setF] = useState(emptyType);
  const [editing, setEditing] = useState<OpsDiskType>();
  const [errs, setErrs] = useState<Errors<keyof typeof emptyType>>({});
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const titleOf = (id: string) => props.content.find((c) => c.id === id)?.title ?? id;
  const edit = (d: OpsDiskType) => {
    setEditing(d);
    setErrs({});
    setF({
      id: d.id,
      capacity: sizeForInput(d.capacityBytes),
      contentId: d.contentId,
      writeProtect: d.writeProtect,
      price: moneyForInput(d.pricePerDayMinor),
      defaultDays: String(d.defaultDays),
      maxDays: String(d.maxDays),
    });
    document.getElementById('dt-form')?.scrollIntoView();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const capacityBytes = parseSize(f.capacity);
    const pricePerDayMinor = parseMoney(f.price);
    const days = (v: string) => (/^\d{1,3}$/.test(v.trim()) && Number(v) >= 1 ? Number(v) : 0);
    const next: Errors<keyof typeof emptyType> = {
      id: f.id.trim() ? undefined : t('ops.idRequired'),
      capacity: capacityBytes ? undefined : t('ops.sizeInvalid'),
      contentId: f.contentId ? undefined : t('ops.contentRequired'),
      price: pricePerDayMinor === undefined ? t('ops.priceInvalid') : undefined,
      defaultDays: days(f.defaultDays) ? undefined : t('ops.daysInvalid'),
      maxDays:
        days(f.maxDays) && days(f.maxDays) >= days(f.defaultDays)
          ? undefined
          : t('ops.maxDaysInvalid'),
    };
    setErrs(next);
    if (Object.values(next).some(Boolean)) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    try {
      await api.opsPutDiskType({
        id: f.id.trim(),
        capacityBytes: capacityBytes!,
        contentId: f.contentId,
        writeProtect: f.writeProtect,
        pricePerDayMinor: pricePerDayMinor!,
        defaultDays: days(f.defaultDays),
        maxDays: days(f.maxDays),
        ...(editing?.currency ? { currency: editing.currency } : {}),
        ...(editing?.kioskIds ? { kioskIds: editing.kioskIds } : {}),
      });
      setStatus(t('ops.typeSaved', { id: f.id.trim() }));
      setEditing(undefined);
      setF(emptyType);
      props.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="dt-title">
      <h2 id="dt-title">{t('ops.diskTypes')}</h2>
      <ErrorBox error={props.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('ops.colId')}</th>
              <th scope="col">{t('ops.colCapacity')}</th>
              <th scope="col">{t('ops.colContent')}</th>
              <th scope="col">{t('ops.colPricePerDay')}</th>
              <th scope="col">{t('ops.colDays')}</th>
              <th scope="col">{t('ops.colAction')}</th>
            </tr>
          </thead>
          <tbody>
            {props.list.map((d) => (
              <tr key={d.id} data-disk-type={d.id}>
                <th scope="row">{d.id}</th>
                <td>{formatBytes(d.capacityBytes)}</td>
                <td>
                  {titleOf(d.contentId)} · {formatWriteProtect(d.writeProtect)}
                </td>
                <td>{formatMoney(d.pricePerDayMinor, d.currency)}</td>
                <td>{t('ops.daysRange', { def: d.defaultDays, max: d.maxDays })}</td>
                <td>
                  <Button onClick={() => edit(d)}>{t('ops.editThing', { id: d.id })}</Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form id="dt-form" class="card" onSubmit={submit} noValidate>
        <h3>{editing ? t('ops.editThing', { id: editing.id }) : t('ops.addDiskType')}</h3>
        <Field
          label={t('ops.id')}
          error={errs.id}
          value={f.id}
          readOnly={!!editing}
          onInput={(id) => setF({ ...f, id })}
        />
        <Field
          label={t('ops.capacity')}
          hint={t('ops.sizeHint')}
          error={errs.capacity}
          value={f.capacity}
          onInput={(capacity) => setF({ ...f, capacity })}
        />
        <div class="field">
          <label for="dt-content">{t('ops.colContent')}</label>
          <select
            id="dt-content"
            value={f.contentId}
            aria-invalid={errs.contentId ? 'true' : undefined}
            aria-describedby={errs.contentId ? 'dt-content-error' : undefined}
            onChange={(e) => setF({ ...f, contentId: (e.target as HTMLSelectElement).value })}
          >
            <option value="">{t('ops.chooseContent')}</option>
            {props.content.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title} ({formatBytes(c.sizeBytes)})
              </option>
            ))}
          </select>
          {errs.contentId ? (
            <small id="dt-content-error" class="field-error">
              {errs.contentId}
            </small>
          ) : null}
        </div>
        <div class="field">
          <label for="dt-wp">{t('ops.writeProtect')}</label>
          <select
            id="dt-wp"
            value={f.writeProtect}
            onChange={(e) =>
              setF({
                ...f,
                writeProtect: (e.target as HTMLSelectElement).value as typeof f.writeProtect,
              })
            }
          >
            {WRITE_PROTECT.map((w) => (
              <option key={w} value={w}>
                {formatWriteProtect(w)}
              </option>
            ))}
          </select>
        </div>
        <Field
          label={t('ops.pricePerDay')}
          hint={t('ops.priceHint')}
          error={errs.price}
          inputMode="decimal"
          value={f.price}
          onInput={(price) => setF({ ...f, price })}
        />
        <Field
          label={t('ops.defaultDays')}
          error={errs.defaultDays}
          inputMode="numeric"
          value={f.defaultDays}
          onInput={(defaultDays) => setF({ ...f, defaultDays })}
        />
        <Field
          label={t('ops.maxDays')}
          error={errs.maxDays}
          inputMode="numeric"
          value={f.maxDays}
          onInput={(maxDays) => setF({ ...f, maxDays })}
        />
        <ErrorBox error={error} />
        <Button type="submit" busy={busy}>
          {t('ops.save')}
        </Button>
        <LiveStatus>{status}</LiveStatus>
      </form>
    </section>
  );
}

const emptyContent = { id: '', title: '', version: '', size: '' };

function ContentPackages(props: { list: ContentPackage[]; error: unknown; reload: () => void }) {
  const api = useApi();
  const [f, setF] = useState(emptyContent);
  const [editing, setEditing] = useState<string>();
  const [errs, setErrs] = useState<Errors<keyof typeof emptyContent>>({});
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const sizeBytes = parseSize(f.size);
    const next: Errors<keyof typeof emptyContent> = {
      id: f.id.trim() ? undefined : t('ops.idRequired'),
      title: f.title.trim() ? undefined : t('ops.titleRequired'),
      version: f.version.trim() ? undefined : t('ops.versionRequired'),
      size: sizeBytes === undefined ? t('ops.sizeInvalid') : undefined,
    };
    setErrs(next);
    if (Object.values(next).some(Boolean)) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    try {
      await api.opsAddContent({
        id: f.id.trim(),
        title: f.title.trim(),
        version: f.version.trim(),
        sizeBytes: sizeBytes!,
      });
      setStatus(t('ops.contentAdded', { id: f.id.trim() }));
      setEditing(undefined);
      setF(emptyContent);
      props.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="c-title">
      <h2 id="c-title">{t('ops.contentH')}</h2>
      <ErrorBox error={props.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('ops.colId')}</th>
              <th scope="col">{t('ops.colTitle')}</th>
              <th scope="col">{t('ops.colVersion')}</th>
              <th scope="col">{t('ops.colSize')}</th>
              <th scope="col">{t('ops.colAction')}</th>
            </tr>
          </thead>
          <tbody>
            {props.list.map((c) => (
              <tr key={c.id} data-content={c.id}>
                <th scope="row">{c.id}</th>
                <td>{c.title}</td>
                <td>{c.version}</td>
                <td>{formatBytes(c.sizeBytes)}</td>
                <td>
                  <Button
                    onClick={() => {
                      setEditing(c.id);
                      setErrs({});
                      setF({
                        id: c.id,
                        title: c.title,
                        version: c.version,
                        size: sizeForInput(c.sizeBytes),
                      });
                    }}
                  >
                    {t('ops.editThing', { id: c.id })}
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="card" onSubmit={submit} noValidate>
        <h3>{editing ? t('ops.editThing', { id: editing }) : t('ops.addContent')}</h3>
        <Field
          label={t('ops.id')}
          error={errs.id}
          value={f.id}
          readOnly={!!editing}
          onInput={(id) => setF({ ...f, id })}
        />
        <Field
          label={t('ops.title')}
          error={errs.title}
          value={f.title}
          onInput={(title) => setF({ ...f, title })}
        />
        <Field
          label={t('ops.version')}
          error={errs.version}
          value={f.version}
          onInput={(version) => setF({ ...f, version })}
        />
        <Field
          label={t('ops.size')}
          hint={t('ops.sizeHint')}
          error={errs.size}
          value={f.size}
          onInput={(size) => setF({ ...f, size })}
        />
        <ErrorBox error={error} />
        <Button type="submit" busy={busy}>
          {editing ? t('ops.save') : t('ops.add')}
        </Button>
        <LiveStatus>{status}</LiveStatus>
      </form>
    </section>
  );
}
