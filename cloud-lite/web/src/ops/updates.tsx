import { useState } from 'preact/hooks';
import { formatDateTime } from '../lib/format.js';
import type { Rollout, RolloutView } from '../lib/types.js';
import { Badge, Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { Link } from '../ui/router.js';

type Verb = 'halt' | 'resume' | 'cancel';
const VERBS: Record<Rollout['state'], Verb[]> = {
  running: ['halt', 'cancel'],
  halted: ['resume', 'cancel'],
  completed: [],
  cancelled: [],
};
const VERB_LABEL: Record<Verb, string> = {
  halt: 'Halt',
  resume: 'Resume',
  cancel: 'Cancel rollout',
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
  const versions = new Map<string, string[]>();
  for (const k of kiosks.data ?? []) {
    if (k.revokedAt) continue;
    const v = k.softwareVersion ?? 'unknown';
    versions.set(v, [...(versions.get(v) ?? []), k.id]);
  }
  return (
    <main>
      <h1>Software updates</h1>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions in the fleet</h2>
        <ErrorBox error={kiosks.error} />
        {kiosks.loading && !kiosks.data ? <Loading what="the fleet's versions" /> : null}
        <ul class="versions">
          {[...versions.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([v, ids]) => (
              <li key={v} data-version={v}>
                <strong>{v}</strong>: {ids.length} {ids.length === 1 ? 'kiosk' : 'kiosks'}{' '}
                <span class="muted">({ids.join(', ')})</span>
              </li>
            ))}
        </ul>
      </section>
      <section aria-labelledby="rollouts-title">
        <h2 id="rollouts-title">Rollouts</h2>
        <p class="muted">
          Start one with <code>cloud-lite rollout start</code> or POST /api/operator/rollouts.
        </p>
        <ErrorBox error={rollouts.error} />
        {rollouts.loading && !rollouts.data ? <Loading what="the rollouts" /> : null}
        {rollouts.data?.length === 0 ? <p>No rollouts yet.</p> : null}
        <ul class="rollouts">
          {(rollouts.data ?? []).map((r) => (
            <li key={r.id} data-rollout={r.id}>
              <button
                type="button"
                class="link"
                aria-expanded={open === r.id ? 'true' : 'false'}
                onClick={() => setOpen(open === r.id ? undefined : r.id)}
              >
                Version {r.version}
              </button>{' '}
              <Badge tone={STATE_TONE[r.state]}>{r.state}</Badge>{' '}
              <span class="muted">
                started {formatDateTime(r.createdAt)} by {r.createdBy}
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
      setStatus(`Rollout of ${v.rollout.version} is now ${v.rollout.state}.`);
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
      {!v ? <Loading what="the rollout" /> : null}
      {v ? (
        <>
          <p>
            Wave {v.rollout.currentWave + 1} of {v.rollout.waves.length} (
            {v.rollout.waveSpec.join(' → ')}); halts when more than{' '}
            {Math.round(v.rollout.maxFailureRate * 100)}% of a wave fails.
          </p>
          <p>
            {Object.entries(v.counts)
              .map(([state, n]) => `${n} ${state.replace('_', ' ')}`)
              .join(' · ')}
          </p>
          <div class="actions">
            {asking ? (
              <>
                <span>
                  {VERB_LABEL[asking]} the rollout of {v.rollout.version}?
                </span>
                <Button busy={busy} onClick={() => act(asking)}>
                  Yes, {VERB_LABEL[asking].toLowerCase()}
                </Button>
                <Button onClick={() => setAsking(undefined)}>No</Button>
              </>
            ) : (
              VERBS[v.rollout.state].map((verb) => (
                <Button key={verb} onClick={() => setAsking(verb)}>
                  {VERB_LABEL[verb]}
                </Button>
              ))
            )}
          </div>
          <div class="table-wrap">
            <table>
              <caption>Kiosks in this rollout, in order (the first are the canaries)</caption>
              <thead>
                <tr>
                  <th scope="col">Kiosk</th>
                  <th scope="col">Wave</th>
                  <th scope="col">State</th>
                  <th scope="col">From</th>
                  <th scope="col">Why</th>
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
                        {k.state.replace('_', ' ')}
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
