import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatBytes, formatDateTime, formatRelative } from '../lib/format.js';
import type { OpsKiosk } from '../lib/types.js';
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
import { commandSentence, commandStateText } from './command-text.js';
import { useFleet } from './fleet.js';
import { kioskName, useSites } from './kiosk-names.js';
import { KioskConfigSection } from './remote-config.js';

const OUTSTANDING = new Set(['pending', 'sent', 'accepted']);

/**
 * Why an action needing protocol feature `feature` is not available for `k` (its software does
 * not list it), or undefined when it is (or its features are not known yet: its first Boot
 * decides, and the hub answers KIOSK_LACKS_FEATURE then).
 */
export function lacksFeature(
  k: Pick<OpsKiosk, 'understands'> | undefined,
  feature: string,
): string | undefined {
  if (!k?.understands || k.understands.includes(feature)) return undefined;
  return t('ops.lacksFeature', {
    name: feature,
    feature: t(`ops.feature.${feature}`, { defaultValue: feature }),
  });
}

/** The kiosk's protocol features in words; names this hub does not know are listed as such. */
function FeatureList({ k }: { k: OpsKiosk }) {
  if (!k.understands) return <>{t('ops.featuresUnknown')}</>;
  const unknown = (k.features ?? []).filter((f) => !k.understands?.includes(f));
  if (k.understands.length === 0 && unknown.length === 0) return <>{t('ops.featuresNone')}</>;
  return (
    <ul class="features" data-testid="kiosk-features">
      {k.understands.map((f) => (
        <li key={f} data-feature={f}>
          {t(`ops.feature.${f}`, { defaultValue: f })} <code>{f}</code>
        </li>
      ))}
      {unknown.map((f) => (
        <li key={f} class="muted">
          {t('ops.featureUnknownName', { name: f })}
        </li>
      ))}
    </ul>
  );
}

/**
 * One kiosk, live (its slots and commands follow the fleet stream): slots with disable (asks
 * for a reason, then confirms) and enable, maintenance commands, pending commands as sentences,
 * diagnostics, update history, event log.
 */
export function KioskDetail({ kioskId }: { kioskId: string }) {
  const api = useApi();
  const live = useFleet(kioskId);
  const commands = useAsync(() => api.opsCommands(kioskId), [kioskId]);
  const events = useAsync(() => api.opsEvents(kioskId), [kioskId]);
  const updates = useAsync(() => api.opsKioskUpdates(kioskId), [kioskId]);
  const diagnostics = useAsync(() => api.opsDiagnostics(kioskId), [kioskId]);
  const sites = useSites(api);
  const [logLevel, setLogLevel] = useState('warn');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<string>();
  /** The slot whose disabling is being asked about, and the reason typed so far. */
  const [asking, setAsking] = useState<number>();
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string>();
  const k = live.value?.[0];
  const noDiagnostics = lacksFeature(k, 'upload-diagnostics');
  const name = k ? kioskName(k, sites.get(kioskId)) : kioskId;
  usePageTitle(name, t('app.opsTitle'));
  // Whatever the kiosk reports (a command answered, an event) shows in the lists below too.
  useEffect(() => {
    if (!k) return;
    commands.reload();
    events.reload();
  }, [k]);

  const send = async (label: string, action: string, payload: Record<string, unknown>) => {
    setError(undefined);
    setBusy(label);
    try {
      const c = await api.opsCommand(kioskId, action, payload);
      setStatus(
        t('ops.sentSentence', { what: commandSentence(c), state: commandStateText(c.state) }),
      );
      commands.reload();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(undefined);
    }
  };

  const confirmDisable = async (e: Event, slot: number) => {
    e.preventDefault();
    if (!reason.trim()) {
      setReasonError(t('ops.reasonRequired'));
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setReasonError(undefined);
    if (await send(`disable-${slot}`, 'DisableSlot', { slot, reason: reason.trim() })) {
      setAsking(undefined);
      setReason('');
    }
  };

  const askDiagnostics = async (
    label: string,
    ask: { kind: 'bundle' } | { kind: 'logs'; lines: number; level: string },
  ) => {
    setError(undefined);
    setBusy(label);
    try {
      await api.opsAskDiagnostics(kioskId, ask);
      setStatus(t(ask.kind === 'bundle' ? 'ops.diagAskedBundle' : 'ops.diagAskedLogs'));
      diagnostics.reload();
      commands.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <main>
      <p>
        <Link href="/ops">{t('ops.backToFleet')}</Link>
      </p>
      <h1>{name}</h1>
      {name !== kioskId ? <p class="muted">{t('ops.kioskTitle', { id: kioskId })}</p> : null}
      <ErrorBox error={live.error} />
      {!k && !live.error ? <Loading what={t('ops.theKiosk')} /> : null}
      {k ? (
        <section class="card">
          <p>
            {k.connected ? (
              <Badge tone="ok">{t('common.online')}</Badge>
            ) : (
              <Badge tone="bad">{t('common.offline')}</Badge>
            )}
          </p>
          <dl>
            <dt>{t('ops.colLastSeen')}</dt>
            <dd>
              {k.lastSeenAt
                ? `${formatRelative(k.lastSeenAt)} (${formatDateTime(k.lastSeenAt)})`
                : t('ops.never')}
            </dd>
            <dt>{t('ops.software')}</dt>
            <dd>{k.softwareVersion ?? '–'}</dd>
            <dt>{t('ops.features')}</dt>
            <dd>
              <FeatureList k={k} />
            </dd>
            <dt>{t('ops.lastBoot')}</dt>
            <dd>
              {formatDateTime(k.lastBootAt) || '–'} {k.bootReason ? `(${k.bootReason})` : ''}
            </dd>
            <dt>{t('ops.eventsReceived')}</dt>
            <dd>{k.lastSeq}</dd>
          </dl>
          <div class="actions">
            <Button
              busy={busy === 'inventory'}
              onClick={() => send('inventory', 'TriggerMessage', { message: 'Inventory' })}
            >
              {t('ops.triggerInventory')}
            </Button>
            <Button
              onClick={() => {
                updates.reload();
                diagnostics.reload();
              }}
            >
              {t('ops.refresh')}
            </Button>
          </div>
        </section>
      ) : null}
      <LiveStatus id="ops-status">{status}</LiveStatus>
      <ErrorBox error={error} />
      {k ? (
        <section aria-labelledby="slots-title">
          <h2 id="slots-title">{t('ops.slots')}</h2>
          <div class="table-wrap">
            <table class="slots">
              <thead>
                <tr>
                  <th scope="col">{t('ops.colSlot')}</th>
                  <th scope="col">{t('ops.colState')}</th>
                  <th scope="col">{t('ops.colDisk')}</th>
                  <th scope="col">{t('ops.colAction')}</th>
                </tr>
              </thead>
              <tbody>
                {(k.slots ?? []).map((s) => (
                  <tr key={s.slot} data-slot={s.slot}>
                    <th scope="row">{s.slot}</th>
                    <td>
                      {t(`ops.slotState.${s.state}`, { defaultValue: s.state })}
                      {s.fault ? (
                        <div class="error-text">
                          {s.fault.code}: {s.fault.message}
                        </div>
                      ) : null}
                    </td>
                    <td>
                      {s.diskId ?? '–'}
                      {s.capacityBytes ? ` · ${formatBytes(s.capacityBytes)}` : ''}
                      {s.contentId ? ` · ${s.contentId}` : ''}
                      {s.writeProtect ? ` · ${t('ops.readOnly')}` : ''}
                    </td>
                    <td>
                      {s.state === 'disabled' ? (
                        <Button
                          busy={busy === `enable-${s.slot}`}
                          onClick={() => send(`enable-${s.slot}`, 'EnableSlot', { slot: s.slot })}
                        >
                          {t('ops.enableSlot', { slot: s.slot })}
                        </Button>
                      ) : asking === s.slot ? (
                        <form class="ask" onSubmit={(e) => confirmDisable(e, s.slot)} noValidate>
                          <Field
                            label={t('ops.disableAsk', { slot: s.slot })}
                            hint={t('ops.disableHint')}
                            error={reasonError}
                            value={reason}
                            onInput={setReason}
                            maxLength={200}
                            autoFocus
                          />
                          <Button type="submit" busy={busy === `disable-${s.slot}`}>
                            {t('ops.disableConfirm', { slot: s.slot })}
                          </Button>{' '}
                          <Button
                            onClick={() => {
                              setAsking(undefined);
                              setReasonError(undefined);
                            }}
                          >
                            {t('common.cancel')}
                          </Button>
                        </form>
                      ) : (
                        <Button
                          onClick={() => {
                            setAsking(s.slot);
                            setReason('');
                            setReasonError(undefined);
                          }}
                        >
                          {t('ops.disableSlot', { slot: s.slot })}
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {(k.slots ?? []).length === 0 ? <p>{t('ops.noSlots')}</p> : null}
        </section>
      ) : null}
      <section aria-labelledby="cmd-title">
        <h2 id="cmd-title">{t('ops.pending')}</h2>
        <ErrorBox error={commands.error} />
        <ul class="commands">
          {(commands.data ?? [])
            .filter((c) => OUTSTANDING.has(c.state))
            .map((c) => (
              <li key={c.id} data-command={c.action}>
                <strong>{commandSentence(c)}</strong>{' '}
                <Badge tone="warn">{commandStateText(c.state)}</Badge>{' '}
                <span class="muted">{t('ops.until', { at: formatDateTime(c.deadline) })}</span>
              </li>
            ))}
        </ul>
        <details>
          <summary>{t('ops.allCommands')}</summary>
          <ul>
            {(commands.data ?? []).map((c) => (
              <li key={c.id}>
                {formatDateTime(c.createdAt)} <strong>{commandSentence(c)}</strong>:{' '}
                {commandStateText(c.state)}
              </li>
            ))}
          </ul>
        </details>
      </section>
      <section aria-labelledby="diag-title">
        <h2 id="diag-title">{t('ops.diagTitle')}</h2>
        <p class="muted">{t('ops.diagIntro')}</p>
        {noDiagnostics ? (
          <p class="notice" id="diag-lacks">
            {noDiagnostics}
          </p>
        ) : null}
        <div class="actions">
          <Button
            disabled={noDiagnostics !== undefined}
            aria-describedby={noDiagnostics ? 'diag-lacks' : undefined}
            busy={busy === 'diag-bundle'}
            onClick={() => askDiagnostics('diag-bundle', { kind: 'bundle' })}
          >
            {t('ops.diagAskBundle')}
          </Button>
          <label>
            {t('ops.diagLevel')}{' '}
            <select
              value={logLevel}
              onChange={(e) => setLogLevel((e.target as HTMLSelectElement).value)}
            >
              {['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <Button
            disabled={noDiagnostics !== undefined}
            aria-describedby={noDiagnostics ? 'diag-lacks' : undefined}
            busy={busy === 'diag-logs'}
            onClick={() =>
              askDiagnostics('diag-logs', { kind: 'logs', lines: 500, level: logLevel })
            }
          >
            {t('ops.diagAskLogs', { count: 500 })}
          </Button>
        </div>
        <ErrorBox error={diagnostics.error} />
        <ul class="diagnostics">
          {(diagnostics.data ?? []).map((d) => (
            <li key={d.id} data-diagnostics-state={d.state}>
              {formatDateTime(d.requestedAt)}{' '}
              <strong>
                {d.kind === 'bundle'
                  ? t('ops.diagBundle')
                  : t('ops.diagLines', { count: d.lines ?? 0, level: d.level ?? '' })}
              </strong>{' '}
              <Badge tone={d.state === 'uploaded' ? 'ok' : d.state === 'failed' ? 'bad' : 'warn'}>
                {t(`ops.diagState_${d.state}`)}
              </Badge>{' '}
              {d.state === 'uploaded' ? (
                <a href={api.diagnosticsDownloadUrl(d.id)} download>
                  {t('ops.diagDownload', { size: formatBytes(d.sizeBytes ?? 0) })}
                </a>
              ) : null}
              {d.failure ? <span class="error-text"> {d.failure}</span> : null}
            </li>
          ))}
        </ul>
      </section>
      <KioskConfigSection kioskId={kioskId} lacking={lacksFeature(k, 'apply-config')} />
      <section aria-labelledby="upd-title">
        <h2 id="upd-title">{t('upd.history')}</h2>
        <ErrorBox error={updates.error} />
        {updates.data?.history.length === 0 ? <p>{t('upd.noHistory')}</p> : null}
        <ol class="updates" reversed>
          {(updates.data?.history ?? []).map((u, i) => (
            <li key={`${u.at}-${u.state}-${i}`} data-update-state={u.state}>
              <time dateTime={u.at}>{formatDateTime(u.at)}</time> {u.fromVersion} → {u.version}:{' '}
              <strong>{t(`upd.kioskState.${u.state}`, { defaultValue: u.state })}</strong>
              {u.percent !== undefined ? ` ${u.percent}%` : ''}
              {u.code || u.reason ? (
                <span class="muted"> ({[u.code, u.reason].filter(Boolean).join(': ')})</span>
              ) : null}
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="ev-title">
        <h2 id="ev-title">{t('ops.eventLog')}</h2>
        <ErrorBox error={events.error} />
        <ol class="events" reversed>
          {[...(events.data ?? [])].reverse().map((e) => (
            <li key={e.eventId}>
              <time dateTime={e.at}>{formatDateTime(e.at)}</time> #{e.seq} <strong>{e.type}</strong>{' '}
              <code>{JSON.stringify(e.data)}</code>
            </li>
          ))}
        </ol>
      </section>
    </main>
  );
}
