import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { ApiError } from '../lib/errors.js';
import { formatDateTime } from '../lib/format.js';
import type { KioskRemoteConfig, RemoteConfigScope, SettingKey } from '../lib/types.js';
import {
  Badge,
  Button,
  ErrorBox,
  Field,
  focusFirstInvalid,
  LiveStatus,
  Loading,
} from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';

const STATE_TONE: Record<KioskRemoteConfig['state'], 'ok' | 'bad' | 'warn' | 'info'> = {
  in_sync: 'ok',
  restart_pending: 'warn',
  pending: 'info',
  rejected: 'bad',
  unknown: 'info',
};

/** The catalogue key of a setting's label (keys have dots, which the catalogue nests by). */
const settingLabel = (key: string) => t(`rc.setting_${key.replaceAll('.', '_')}`);

/** A value as an operator types it: JSON, or a bare word for a string (`debug`). */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
const showValue = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * One scope's settings (the fleet default or a kiosk's own) as one field per allowed setting;
 * an empty field is not set in this scope. Saving replaces the scope's settings; the hub's
 * refusal is shown under each field it names.
 */
function SettingsEditor(props: {
  scope: RemoteConfigScope | null;
  keys: SettingKey[];
  /** The value in force when the field is empty (the fleet default, for a kiosk). */
  fallback?: Record<string, unknown>;
  /** Why saving is not available (the kiosk cannot apply remote settings); absent: it is. */
  lacking?: string | undefined;
  save: (settings: Record<string, unknown>, expectedVersion: number) => Promise<unknown>;
  onSaved: () => void;
}) {
  const initial = Object.fromEntries(
    props.keys.map((k) => {
      const v = props.scope?.settings[k.key];
      return [k.key, v === undefined ? '' : showValue(v)];
    }),
  );
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget;
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values))
      if (v.trim() !== '') settings[k] = parseValue(v.trim());
    setBusy(true);
    setError(undefined);
    setErrors({});
    setStatus('');
    try {
      await props.save(settings, props.scope?.version ?? 0);
      setStatus(t('rc.saved'));
      props.onSaved();
    } catch (err) {
      setError(err);
      const list =
        err instanceof ApiError
          ? (err.details.errors as Array<{ key: string; message: string }> | undefined)
          : undefined;
      if (list) {
        setErrors(Object.fromEntries(list.map((x) => [x.key, x.message])));
        focusFirstInvalid(form);
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} class="remote-config" noValidate>
      {props.keys.map((k) => (
        <Field
          key={k.key}
          name={k.key}
          label={`${settingLabel(k.key)} (${k.key})`}
          value={values[k.key] ?? ''}
          onInput={(v) => setValues({ ...values, [k.key]: v })}
          error={errors[k.key]}
          placeholder={
            props.fallback?.[k.key] !== undefined
              ? showValue(props.fallback[k.key])
              : t('rc.notSet')
          }
          hint={t(k.applies === 'now' ? 'rc.appliesNow' : 'rc.appliesRestart')}
        />
      ))}
      {errors[''] ? <p class="field-error">{errors['']}</p> : null}
      <ErrorBox error={error} />
      {props.lacking ? (
        <p class="notice" id="rc-lacks">
          {props.lacking}
        </p>
      ) : null}
      <Button
        type="submit"
        busy={busy}
        disabled={props.lacking !== undefined}
        aria-describedby={props.lacking ? 'rc-lacks' : undefined}
      >
        {t('rc.save')}
      </Button>
      <LiveStatus>{status}</LiveStatus>
    </form>
  );
}

function StateBadge({ c }: { c: KioskRemoteConfig }) {
  return <Badge tone={STATE_TONE[c.state]}>{t(`rc.state_${c.state}`)}</Badge>;
}

/** Where a kiosk stands: desired vs applied version, and a refusal's reason. */
function SyncLine({ c }: { c: KioskRemoteConfig }) {
  return (
    <span data-config-state={c.state}>
      <StateBadge c={c} />{' '}
      {t('rc.versions', {
        desired: c.desired.version,
        applied: c.applied ? c.applied.version : '–',
      })}
      {c.rejected ? (
        <span class="error-text">
          {' '}
          {t('rc.refused', {
            version: c.rejected.version,
            code: c.rejected.code,
            reason: c.rejected.reason,
          })}
        </span>
      ) : null}
    </span>
  );
}

/** /ops/config: the fleet default and, per kiosk, desired vs applied. */
export function ConfigPage() {
  const api = useApi();
  const data = useAsync(() => api.opsRemoteConfig(), []);
  usePageTitle(t('rc.title'), t('app.opsTitle'));
  const d = data.data;
  return (
    <main>
      <h1>{t('rc.title')}</h1>
      <p class="muted">{t('rc.intro')}</p>
      <ErrorBox error={data.error} />
      {data.loading && !d ? <Loading what={t('rc.theSettings')} /> : null}
      {d ? (
        <>
          <section aria-labelledby="rc-fleet">
            <h2 id="rc-fleet">{t('rc.fleetDefault')}</h2>
            {d.fleet ? (
              <p class="muted">
                {t('rc.lastChange', {
                  version: d.fleet.version,
                  who: d.fleet.updatedBy,
                  at: formatDateTime(d.fleet.updatedAt),
                })}
              </p>
            ) : null}
            <SettingsEditor
              key={d.fleet?.version ?? 0}
              scope={d.fleet}
              keys={d.settingKeys}
              save={(settings, expectedVersion) => api.opsSetFleetConfig(settings, expectedVersion)}
              onSaved={data.reload}
            />
          </section>
          <section aria-labelledby="rc-kiosks">
            <h2 id="rc-kiosks">{t('rc.kiosks')}</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('rc.kiosk')}</th>
                  <th scope="col">{t('rc.state')}</th>
                </tr>
              </thead>
              <tbody>
                {d.kiosks.map((c) => (
                  <tr key={c.kioskId} data-kiosk={c.kioskId}>
                    <td>
                      <Link href={`/ops/kiosks/${encodeURIComponent(c.kioskId)}`}>{c.kioskId}</Link>
                    </td>
                    <td>
                      <SyncLine c={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </main>
  );
}

/** The kiosk page's section: its own settings on top of the fleet default, desired vs applied. */
export function KioskConfigSection({
  kioskId,
  lacking,
}: {
  kioskId: string;
  /** Why the kiosk cannot take its own settings (its software lacks apply-config). */
  lacking?: string | undefined;
}) {
  const api = useApi();
  const data = useAsync(() => api.opsKioskRemoteConfig(kioskId), [kioskId]);
  const d = data.data;
  return (
    <section aria-labelledby="rc-kiosk">
      <h2 id="rc-kiosk">{t('rc.kioskTitle')}</h2>
      <p class="muted">{t('rc.kioskIntro')}</p>
      <ErrorBox error={data.error} />
      {d ? (
        <>
          <p>
            <SyncLine c={d.config} />
          </p>
          <SettingsEditor
            key={d.config.own?.version ?? 0}
            scope={d.config.own}
            keys={d.settingKeys}
            fallback={d.config.desired.settings}
            lacking={lacking}
            save={(settings, expectedVersion) =>
              api.opsSetKioskConfig(kioskId, settings, expectedVersion)
            }
            onSaved={data.reload}
          />
        </>
      ) : null}
    </section>
  );
}
