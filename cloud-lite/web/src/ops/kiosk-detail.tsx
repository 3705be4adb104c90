import { useState } from 'preact/hooks';
import { formatBytes, formatDateTime, formatRelative } from '../lib/format.js';
import { Badge, Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { Link } from '../ui/router.js';

const OUTSTANDING = new Set(['pending', 'sent', 'accepted']);

/** One kiosk: slots (with disable/enable), maintenance commands, pending commands, event log. */
export function KioskDetail({ kioskId }: { kioskId: string }) {
  const api = useApi();
  const kiosk = useAsync(() => api.opsKiosk(kioskId), [kioskId]);
  const commands = useAsync(() => api.opsCommands(kioskId), [kioskId]);
  const events = useAsync(() => api.opsEvents(kioskId), [kioskId]);
  const updates = useAsync(() => api.opsKioskUpdates(kioskId), [kioskId]);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<string>();

  const send = async (label: string, action: string, payload: Record<string, unknown>) => {
    setError(undefined);
    setBusy(label);
    try {
      const c = await api.opsCommand(kioskId, action, payload);
      setStatus(`${action} sent (${c.state}).`);
      commands.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  const k = kiosk.data;
  return (
    <main>
      <p>
        <Link href="/ops">← Fleet</Link>
      </p>
      <h1>Kiosk {kioskId}</h1>
      <ErrorBox error={kiosk.error} />
      {!k && kiosk.loading ? <Loading what="the kiosk" /> : null}
      {k ? (
        <section class="card">
          <p>
            {k.name}{' '}
            {k.connected ? <Badge tone="ok">online</Badge> : <Badge tone="bad">offline</Badge>}
          </p>
          <dl>
            <dt>Last seen</dt>
            <dd>
              {k.lastSeenAt
                ? `${formatRelative(k.lastSeenAt)} (${formatDateTime(k.lastSeenAt)})`
                : 'never'}
            </dd>
            <dt>Software</dt>
            <dd>{k.softwareVersion ?? '–'}</dd>
            <dt>Last boot</dt>
            <dd>
              {formatDateTime(k.lastBootAt) || '–'} {k.bootReason ? `(${k.bootReason})` : ''}
            </dd>
            <dt>Events received</dt>
            <dd>{k.lastSeq}</dd>
          </dl>
          <div class="actions">
            <Button
              busy={busy === 'inventory'}
              onClick={() => send('inventory', 'TriggerMessage', { message: 'Inventory' })}
            >
              Trigger inventory
            </Button>
            <Button
              onClick={() => {
                kiosk.reload();
                commands.reload();
                events.reload();
                updates.reload();
              }}
            >
              Refresh
            </Button>
          </div>
        </section>
      ) : null}
      <LiveStatus id="ops-status">{status}</LiveStatus>
      <ErrorBox error={error} />
      {k ? (
        <section aria-labelledby="slots-title">
          <h2 id="slots-title">Slots</h2>
          <div class="table-wrap">
            <table class="slots">
              <thead>
                <tr>
                  <th scope="col">Slot</th>
                  <th scope="col">State</th>
                  <th scope="col">Disk</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {(k.slots ?? []).map((s) => (
                  <tr key={s.slot} data-slot={s.slot}>
                    <th scope="row">{s.slot}</th>
                    <td>
                      {s.state}
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
                      {s.writeProtect ? ' · read-only' : ''}
                    </td>
                    <td>
                      {s.state === 'disabled' ? (
                        <Button
                          busy={busy === `enable-${s.slot}`}
                          onClick={() => send(`enable-${s.slot}`, 'EnableSlot', { slot: s.slot })}
                        >
                          Enable slot {s.slot}
                        </Button>
                      ) : (
                        <Button
                          busy={busy === `disable-${s.slot}`}
                          onClick={() =>
                            send(`disable-${s.slot}`, 'DisableSlot', {
                              slot: s.slot,
                              reason: 'disabled from the operator dashboard',
                            })
                          }
                        >
                          Disable slot {s.slot}
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {(k.slots ?? []).length === 0 ? <p>No inventory received yet.</p> : null}
        </section>
      ) : null}
      <section aria-labelledby="cmd-title">
        <h2 id="cmd-title">Pending commands</h2>
        <ErrorBox error={commands.error} />
        <ul class="commands">
          {(commands.data ?? [])
            .filter((c) => OUTSTANDING.has(c.state))
            .map((c) => (
              <li key={c.id} data-command={c.action}>
                <strong>{c.action}</strong> {JSON.stringify(c.payload)}{' '}
                <Badge tone="warn">{c.state}</Badge>{' '}
                <span class="muted">until {formatDateTime(c.deadline)}</span>
              </li>
            ))}
        </ul>
        <details>
          <summary>All recent commands</summary>
          <ul>
            {(commands.data ?? []).map((c) => (
              <li key={c.id}>
                {formatDateTime(c.createdAt)} <strong>{c.action}</strong> {c.state}
              </li>
            ))}
          </ul>
        </details>
      </section>
      <section aria-labelledby="upd-title">
        <h2 id="upd-title">Update history</h2>
        <ErrorBox error={updates.error} />
        {updates.data?.history.length === 0 ? <p>No updates reported yet.</p> : null}
        <ol class="updates" reversed>
          {(updates.data?.history ?? []).map((u, i) => (
            <li key={`${u.at}-${u.state}-${i}`} data-update-state={u.state}>
              <time dateTime={u.at}>{formatDateTime(u.at)}</time> {u.fromVersion} → {u.version}:{' '}
              <strong>{u.state.replace('_', ' ')}</strong>
              {u.percent !== undefined ? ` ${u.percent}%` : ''}
              {u.code || u.reason ? (
                <span class="muted"> ({[u.code, u.reason].filter(Boolean).join(': ')})</span>
              ) : null}
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="ev-title">
        <h2 id="ev-title">Event log</h2>
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
