import { formatDateTime, formatRelative } from '../lib/format.js';
import type { NearbyKiosk } from '../lib/types.js';
import { Badge, Button, ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { KioskMap } from '../ui/kiosk-map.js';
import { Link } from '../ui/router.js';
import { AlertsPanel } from './alerts-panel.js';
import { slotSummary, summaryText } from './slot-summary.js';

/** The fleet: every kiosk with status, last seen, slots by state and faults; a map when sites are known. */
export function Fleet() {
  const api = useApi();
  const kiosks = useAsync(() => api.opsKiosks(), []);
  // Positions come from the public kiosk list (the rental domain's sites); optional.
  const sites = useAsync(
    () => api.nearbyKiosks(undefined, 500).catch(() => [] as NearbyKiosk[]),
    [],
  );
  const byId = new Map((sites.data ?? []).map((s) => [s.id, s]));
  const list = kiosks.data ?? [];
  const mapped = list.filter((k) => byId.has(k.id));
  return (
    <main>
      <h1>Fleet</h1>
      <AlertsPanel />
      <div class="actions">
        <Button onClick={kiosks.reload}>Refresh</Button>
        <Link class="button" href="/ops/enrol">
          Enrol a kiosk
        </Link>
      </div>
      <ErrorBox error={kiosks.error} />
      {kiosks.loading && !kiosks.data ? <Loading what="the fleet" /> : null}
      {mapped.length > 0 ? (
        <KioskMap
          title={`Map of ${mapped.length} kiosks`}
          points={mapped.map((k) => {
            const s = byId.get(k.id)!;
            return {
              id: k.id,
              lat: s.lat,
              lng: s.lng,
              label: k.id,
              tone: k.connected ? 'ok' : 'bad',
            };
          })}
        />
      ) : null}
      <div class="table-wrap">
        <table class="fleet">
          <caption>{list.length} kiosks</caption>
          <thead>
            <tr>
              <th scope="col">Kiosk</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Software</th>
              <th scope="col">Slots</th>
              <th scope="col">Faults</th>
            </tr>
          </thead>
          <tbody>
            {list.map((k) => {
              const { byState, faults } = slotSummary(k);
              return (
                <tr key={k.id} data-kiosk={k.id}>
                  <th scope="row">
                    <Link href={`/ops/kiosks/${encodeURIComponent(k.id)}`}>{k.id}</Link>
                    <div class="muted">{k.name}</div>
                  </th>
                  <td>
                    {k.revokedAt ? (
                      <Badge tone="bad">revoked</Badge>
                    ) : !k.enrolled ? (
                      <Badge tone="warn">not enrolled</Badge>
                    ) : k.connected ? (
                      <Badge tone="ok">online</Badge>
                    ) : (
                      <Badge tone="bad">offline</Badge>
                    )}
                  </td>
                  <td title={formatDateTime(k.lastSeenAt)}>
                    {k.lastSeenAt ? formatRelative(k.lastSeenAt) : 'never'}
                  </td>
                  <td>{k.softwareVersion ?? '–'}</td>
                  <td>{summaryText(byState)}</td>
                  <td>{faults ? <Badge tone="bad">{faults}</Badge> : '0'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </main>
  );
}
