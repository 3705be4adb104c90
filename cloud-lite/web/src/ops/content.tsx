import type { ComponentChildren } from 'preact';
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
type Form = { id: string } & Record<string, string>;

/**
 * The catalogue: the rental terms (deposit, late fee, lost-disk charge), disk types (capacity,
 * content, price per day, days) and content packages (titles, sizes), each listed and editable
 * (the hub validates and audits every change).
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
      <RowEditor
        spec={diskTypeRows(api, content.data ?? [])}
        list={types.data ?? []}
        error={types.error}
        reload={types.reload}
      />
      <RowEditor
        spec={contentRows(api)}
        list={content.data ?? []}
        error={content.error}
        reload={content.reload}
      />
    </main>
  );
}

/**
 * What the row editor needs of one kind of catalogue record: its table (id, columns, an Edit
 * button per row) and its form (the id, then the kind's own fields), checked here, saved by the
 * hub (which validates and audits again).
 */
interface RowSpec<T extends { id: string }, F extends Form> {
  /** The section's heading (and its element id) and the form's element id. */
  title: string;
  titleId: string;
  formId: string;
  /** The attribute naming each row's record (`data-disk-type`, `data-content`). */
  rowAttr: string;
  /** Column headings between the id and the action, and a row's cells under them. */
  columns: string[];
  cells: (item: T) => ComponentChildren[];
  empty: F;
  toForm: (item: T) => F;
  /** What is wrong with each field (none: it may be saved). */
  check: (f: F) => Errors<keyof F & string>;
  /** Saves the form (`editing`: the record it edits); the status to announce. */
  save: (f: F, editing: T | undefined) => Promise<string>;
  addTitle: string;
  submitLabel: (editing: boolean) => string;
  /** The form's fields after the id. */
  fields: (
    f: F,
    set: (patch: Partial<F>) => void,
    errs: Errors<keyof F & string>,
  ) => ComponentChildren;
}

/** One catalogue table with its add/edit form (disk types, content packages). */
function RowEditor<T extends { id: string }, F extends Form>(props: {
  spec: RowSpec<T, F>;
  list: T[];
  error: unknown;
  reload: () => void;
}) {
  const { spec } = props;
  const [f, setF] = useState<F>(spec.empty);
  const [editing, setEditing] = useState<T>();
  const [errs, setErrs] = useState<Errors<keyof F & string>>({});
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<F>) => setF({ ...f, ...patch });
  const edit = (item: T) => {
    setEditing(item);
    setErrs({});
    setF(spec.toForm(item));
    document.getElementById(spec.formId)?.scrollIntoView();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const next = spec.check(f);
    setErrs(next);
    if (Object.values(next).some(Boolean)) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    try {
      setStatus(await spec.save(f, editing));
      setEditing(undefined);
      setF(spec.empty);
      props.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby={spec.titleId}>
      <h2 id={spec.titleId}>{spec.title}</h2>
      <ErrorBox error={props.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('ops.colId')}</th>
              {spec.columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
              <th scope="col">{t('ops.colAction')}</th>
            </tr>
          </thead>
          <tbody>
            {props.list.map((item) => (
              <tr key={item.id} {...{ [spec.rowAttr]: item.id }}>
                <th scope="row">{item.id}</th>
                {spec.cells(item).map((cell, i) => (
                  <td key={spec.columns[i]}>{cell}</td>
                ))}
                <td>
                  <Button onClick={() => edit(item)}>{t('ops.editThing', { id: item.id })}</Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form id={spec.formId} class="card" onSubmit={submit} noValidate>
        <h3>{editing ? t('ops.editThing', { id: editing.id }) : spec.addTitle}</h3>
        <Field
          label={t('ops.id')}
          error={errs.id}
          value={f.id}
          readOnly={!!editing}
          onInput={(id) => set({ id } as Partial<F>)}
        />
        {spec.fields(f, set, errs)}
        <ErrorBox error={error} />
        <Button type="submit" busy={busy}>
          {spec.submitLabel(!!editing)}
        </Button>
        <LiveStatus>{status}</LiveStatus>
      </form>
    </section>
  );
}

type Api = ReturnType<typeof useApi>;
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
/** A whole number of days from 1 to 999, else 0. */
const days = (v: string) => (/^\d{1,3}$/.test(v.trim()) && Number(v) >= 1 ? Number(v) : 0);

/** Disk types: capacity, content, write protection, price per day, default and longest days. */
function diskTypeRows(api: Api, content: ContentPackage[]): RowSpec<OpsDiskType, typeof emptyType> {
  const titleOf = (id: string) => content.find((c) => c.id === id)?.title ?? id;
  return {
    title: t('ops.diskTypes'),
    titleId: 'dt-title',
    formId: 'dt-form',
    rowAttr: 'data-disk-type',
    columns: [t('ops.colCapacity'), t('ops.colContent'), t('ops.colPricePerDay'), t('ops.colDays')],
    cells: (d) => [
      formatBytes(d.capacityBytes),
      `${titleOf(d.contentId)} · ${formatWriteProtect(d.writeProtect)}`,
      formatMoney(d.pricePerDayMinor, d.currency),
      t('ops.daysRange', { def: d.defaultDays, max: d.maxDays }),
    ],
    empty: emptyType,
    toForm: (d) => ({
      id: d.id,
      capacity: sizeForInput(d.capacityBytes),
      contentId: d.contentId,
      writeProtect: d.writeProtect,
      price: moneyForInput(d.pricePerDayMinor),
      defaultDays: String(d.defaultDays),
      maxDays: String(d.maxDays),
    }),
    check: (f) => ({
      id: f.id.trim() ? undefined : t('ops.idRequired'),
      capacity: parseSize(f.capacity) ? undefined : t('ops.sizeInvalid'),
      contentId: f.contentId ? undefined : t('ops.contentRequired'),
      price: parseMoney(f.price) === undefined ? t('ops.priceInvalid') : undefined,
      defaultDays: days(f.defaultDays) ? undefined : t('ops.daysInvalid'),
      maxDays:
        days(f.maxDays) && days(f.maxDays) >= days(f.defaultDays)
          ? undefined
          : t('ops.maxDaysInvalid'),
    }),
    async save(f, editing) {
      await api.opsPutDiskType({
        id: f.id.trim(),
        capacityBytes: parseSize(f.capacity)!,
        contentId: f.contentId,
        writeProtect: f.writeProtect,
        pricePerDayMinor: parseMoney(f.price)!,
        defaultDays: days(f.defaultDays),
        maxDays: days(f.maxDays),
        ...(editing?.currency ? { currency: editing.currency } : {}),
        ...(editing?.kioskIds ? { kioskIds: editing.kioskIds } : {}),
      });
      return t('ops.typeSaved', { id: f.id.trim() });
    },
    addTitle: t('ops.addDiskType'),
    submitLabel: () => t('ops.save'),
    fields: (f, set, errs) => (
      <>
        <Field
          label={t('ops.capacity')}
          hint={t('ops.sizeHint')}
          error={errs.capacity}
          value={f.capacity}
          onInput={(capacity) => set({ capacity })}
        />
        <div class="field">
          <label for="dt-content">{t('ops.colContent')}</label>
          <select
            id="dt-content"
            value={f.contentId}
            aria-invalid={errs.contentId ? 'true' : undefined}
            aria-describedby={errs.contentId ? 'dt-content-error' : undefined}
            onChange={(e) => set({ contentId: (e.target as HTMLSelectElement).value })}
          >
            <option value="">{t('ops.chooseContent')}</option>
            {content.map((c) => (
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
              set({
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
          onInput={(price) => set({ price })}
        />
        <Field
          label={t('ops.defaultDays')}
          error={errs.defaultDays}
          inputMode="numeric"
          value={f.defaultDays}
          onInput={(defaultDays) => set({ defaultDays })}
        />
        <Field
          label={t('ops.maxDays')}
          error={errs.maxDays}
          inputMode="numeric"
          value={f.maxDays}
          onInput={(maxDays) => set({ maxDays })}
        />
      </>
    ),
  };
}

const emptyContent = { id: '', title: '', version: '', size: '' };

/** Content packages: title, version, size. */
function contentRows(api: Api): RowSpec<ContentPackage, typeof emptyContent> {
  return {
    title: t('ops.contentH'),
    titleId: 'c-title',
    formId: 'c-form',
    rowAttr: 'data-content',
    columns: [t('ops.colTitle'), t('ops.colVersion'), t('ops.colSize')],
    cells: (c) => [c.title, c.version, formatBytes(c.sizeBytes)],
    empty: emptyContent,
    toForm: (c) => ({
      id: c.id,
      title: c.title,
      version: c.version,
      size: sizeForInput(c.sizeBytes),
    }),
    check: (f) => ({
      id: f.id.trim() ? undefined : t('ops.idRequired'),
      title: f.title.trim() ? undefined : t('ops.titleRequired'),
      version: f.version.trim() ? undefined : t('ops.versionRequired'),
      size: parseSize(f.size) === undefined ? t('ops.sizeInvalid') : undefined,
    }),
    async save(f) {
      await api.opsAddContent({
        id: f.id.trim(),
        title: f.title.trim(),
        version: f.version.trim(),
        sizeBytes: parseSize(f.size)!,
      });
      return t('ops.contentAdded', { id: f.id.trim() });
    },
    addTitle: t('ops.addContent'),
    submitLabel: (editing) => (editing ? t('ops.save') : t('ops.add')),
    fields: (f, set, errs) => (
      <>
        <Field
          label={t('ops.title')}
          error={errs.title}
          value={f.title}
          onInput={(title) => set({ title })}
        />
        <Field
          label={t('ops.version')}
          error={errs.version}
          value={f.version}
          onInput={(version) => set({ version })}
        />
        <Field
          label={t('ops.size')}
          hint={t('ops.sizeHint')}
          error={errs.size}
          value={f.size}
          onInput={(size) => set({ size })}
        />
      </>
    ),
  };
}
