import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../lib/format.js';
import type { Rollout, RolloutView } from '../lib/types.js';
import { Badge, Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';

type Verb = 'halt' | 'resume' | 'cancel';
const VERBS: Record<Rollout['state'], Verb[]> = {
  running: ['halt', 'cancel'],
  halted: ['resume', 'cancel'],
  completed: [],
  cancelled: [],
};
const STATE_TONE: Record<Rollout['state'], 'ok' | 'bad' | 'warn' | 'info'> = {
  running: 'info',
  halted: 'warn',
  completed: 'ok',
  cancelled: 'bad',
};
const KIOSK_TONE: Record<string, 'ok' | 'bad' | 'warn' | 'info'> = {
  committed: 'ok',
  failed: 'bad',
  rolled_back: 'bad',
  pending: 'info',
};

/**
 * Software updates (docs/updates.md): the versions the fleet runs, and the rollouts with each
 * kiosk's state; halt, resume and cancel ask for a confirmation first.
 */
export function UpdatesPage() {
  const api = useApi();
  const kiosks = useAsync(() => api.opsKiosks(), []);
  const rollouts = useAsync(() => api.opsRollouts(), []);
  const [open, setOpen] = useState<string>();
  usePageTitle(t('upd.title'), t('app.opsTitle'));
  const versions = new Map<string, string[]>();
  for (const k of kiosks.data ?? []) {
    if (k.revokedAt) continue;
    const v = k.softwareVersion ?? t('upd.unknown');
    versions.set(v, [...(versions.get(v) ?? []), k.id]);
  }
  return (
    <main>
      <h1>{t('upd.title')}</h1>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">{t('upd.versions')}</h2>
        <ErrorBox error={kiosks.error} />
        {kiosks.loading && !kiosks.data ? <Loading what={t('upd.theVersions')} /> : null}
        <ul class="versions">
          {[...versions.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([v, ids]) => (
              <li key={v} data-version={v}>
                <strong>{v}</strong>: {t('upd.kiosks', { count: ids.length })}{' '}
                <span class="muted">({ids.join(', ')})</span>
              </li>
            ))}
        </ul>
      </section>
      <section aria-labelledby="rollouts-title">
        <h2 id="rollouts-title">{t('upd.rollouts')}</h2>
        <p class="muted">{t('upd.howToStart')}</p>
        <ErrorBox error={rollouts.error} />
        {rollouts.loading && !rollouts.data ? <Loading what={t('upd.theRollouts')} /> : null}
        {rollouts.data?.length === 0 ? <p>{t('upd.none')}</p> : null}
        <ul class="rollouts">
          {(rollouts.data ?? []).map((r) => (
            <li key={r.id} data-rollout={r.id}>
              <button
                type="button"
                class="link"
                aria-expanded={open === r.id ? 'true' : 'false'}
                onClick={() => setOpen(open === r.id ? undefined : r.id)}
              >
                {t('upd.version', { version: r.version })}
              </button>{' '}
              <Badge tone={STATE_TONE[r.state]}>{t(`upd.state.${r.state}`)}</Badge>{' '}
              <span class="muted">
                {t('upd.started', { at: formatDateTime(r.createdAt), who: r.createdBy })}
                {r.reason ? ` · ${r.reason}` : ''}
              </span>
              {open === r.id ? <RolloutDetail id={r.id} onChanged={rollouts.reload} /> : null}
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

function RolloutDetail({ id, onChanged }: { id: string; onChanged: () => void }) {
  const api = useApi();
  const view = useAsync(() => api.opsRollout(id), [id]);
  const [asking, setAsking] = useState<Verb>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const act = async (verb: Verb) => {
    setBusy(true);
    setError(undefined);
    try {
      const v: RolloutView = await api.opsRolloutAction(id, verb);
      setStatus(
        t('upd.nowState', { version: v.rollout.version, state: t(`upd.state.${v.rollout.state}`) }),
      );
      setAsking(undefined);
      view.reload();
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const v = view.data;
  return (
    <div class="card">
      <ErrorBox error={view.error ?? error} />
      <LiveStatus>{status}</LiveStatus>
      {!v ? <Loading what={t('upd.theRollout')} /> : null}
      {v ? (
        <>
          <p>
            {t('upd.wave', {
              n: v.rollout.currentWave + 1,
              of: v.rollout.waves.length,
              spec: v.rollout.waveSpec.join(' → '),
              pct: Math.round(v.rollout.maxFailureRate * 100),
            })}
          </p>
          <p>
            {Object.entries(v.counts)
              .map(([state, n]) => `${n} ${t(`upd.kioskState.${state}`, { defaultValue: state })}`)
              .join(' · ')}
          </p>
          <div class="actions">
            {asking ? (
              <>
                <span>
                  {t('upd.ask', { verb: t(`upd.verb.${asking}`), version: v.rollout.version })}
                </span>
                <Button busy={busy} onClick={() => act(asking)}>
                  {t('upd.yes', { verb: t(`upd.verbLower.${asking}`) })}
                </Button>
                <Button onClick={() => setAsking(undefined)}>{t('upd.no')}</Button>
              </>
            ) : (
              VERBS[v.rollout.state].map((verb) => (
                <Button key={verb} onClick={() => setAsking(verb)}>
                  {t(`upd.verb.${verb}`)}
                </Button>
              ))
            )}
          </div>
          <div class="table-wrap">
            <table>
              <caption>{t('upd.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('upd.colKiosk')}</th>
                  <th scope="col">{t('upd.colWave')}</th>
                  <th scope="col">{t('upd.colState')}</th>
                  <th scope="col">{t('upd.colFrom')}</th>
                  <th scope="col">{t('upd.colWhy')}</th>
                </tr>
              </thead>
              <tbody>
                {v.kiosks.map((k) => (
                  <tr key={k.kioskId} data-kiosk={k.kioskId}>
                    <th scope="row">
                      <Link href={`/ops/kiosks/${encodeURIComponent(k.kioskId)}`}>{k.kioskId}</Link>
                    </th>
                    <td>{k.wave + 1}</td>
                    <td>
                      <Badge tone={KIOSK_TONE[k.state] ?? 'warn'}>
                        {t(`upd.kioskState.${k.state}`, { defaultValue: k.state })}
                      </Badge>
                    </td>
                    <td>{k.fromVersion ?? '–'}</td>
                    <td>{[k.code, k.reason].filter(Boolean).join(': ') || '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}
