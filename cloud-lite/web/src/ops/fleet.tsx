import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDateTime, formatRelative } from '../lib/format.js';
import type { OpsKiosk } from '../lib/types.js';
import { Badge, ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useMapSettings } from '../ui/directions.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';
import { useFollow } from '../ui/use-follow.js';
import { AlertsPanel, useAlerts } from './alerts-panel.js';
import { mergeKiosks } from './fleet-merge.js';
import { kioskName, useSites } from './kiosk-names.js';
import { slotSummary, summaryText } from './slot-summary.js';

/**
 * The fleet's live view (GET /api/operator/fleet/events: the whole list, then the kiosks that
 * changed; polling when the stream breaks).
 */
export function useFleet(kioskId?: string) {
  const api = useApi();
  const q = kioskId ? `?kiosk=${encodeURIComponent(kioskId)}` : '';
  return useFollow<OpsKiosk[]>({
    api,
    load: async () => (kioskId ? [await api.opsKiosk(kioskId)] : api.opsKiosks()),
    streamPath: `/api/operator/fleet/events${q}`,
    key: 'kiosks',
    isDone: () => false,
    pollMs: 5000,
    merge: (last, event, data) => {
      const changed = (data as { kiosks?: unknown })?.kiosks;
      return event === 'kiosksChanged' && Array.isArray(changed)
        ? mergeKiosks(last, changed as OpsKiosk[])
        : undefined;
    },
  });
}

type MapModule = typeof import('./fleet-map.js');

/**
 * The fleet: the live alerts first (the attention panel), then every kiosk by name with status,
 * last seen, slots by state and faults (live: no Refresh), then the map (Leaflet, loaded on
 * demand, as the renters' map) when sites are known, its pins live with the table.
 */
export function Fleet() {
  const api = useApi();
  const kiosks = useFleet();
  const alerts = useAlerts();
  // Names and positions come from the public kiosk list (the rental domain's sites); optional.
  const byId = useSites(api);
  const settings = useMapSettings();
  const [mapModule, setMapModule] = useState<MapModule>();
  const [mapFailed, setMapFailed] = useState(false);
  const list = kiosks.value ?? [];
  const mapped = list.filter((k) => byId.has(k.id));
  const wantMap = mapped.length > 0;
  useEffect(() => {
    if (mapModule || !wantMap) return;
    import('./fleet-map.js').then(setMapModule, () => setMapFailed(true));
  }, [wantMap, mapModule]);
  usePageTitle(t('ops.fleet'), t('app.opsTitle'));
  const FleetMap = mapModule?.FleetMap;
  return (
    <main>
      <h1>{t('ops.fleet')}</h1>
      <AlertsPanel follow={alerts} />
      <div class="actions">
        <Link class="button" href="/ops/enrol">
          {t('ops.enrolKiosk')}
        </Link>
      </div>
      <ErrorBox error={kiosks.error} />
      {!kiosks.value && !kiosks.error ? <Loading what={t('ops.theFleet')} /> : null}
      <div class="table-wrap">
        <table class="fleet">
          <caption>
            {t('ops.kioskCount', { count: list.length })}{' '}
            {kiosks.live ? <small>{t('alerts.streaming')}</small> : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t('ops.colKiosk')}</th>
              <th scope="col">{t('ops.colStatus')}</th>
              <th scope="col">{t('ops.colLastSeen')}</th>
              <th scope="col">{t('ops.software')}</th>
              <th scope="col">{t('ops.colSlots')}</th>
              <th scope="col">{t('ops.colFaults')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((k) => {
              const { byState, faults } = slotSummary(k);
              const name = kioskName(k, byId.get(k.id));
              return (
                <tr key={k.id} data-kiosk={k.id}>
                  <th scope="row">
                    <Link href={`/ops/kiosks/${encodeURIComponent(k.id)}`}>{name}</Link>
                    {name !== k.id ? <div class="muted">{k.id}</div> : null}
                  </th>
                  <td>
                    {k.revokedAt ? (
                      <Badge tone="bad">{t('ops.revoked')}</Badge>
                    ) : !k.enrolled ? (
                      <Badge tone="warn">{t('ops.notEnrolled')}</Badge>
                    ) : k.connected ? (
                      <Badge tone="ok">{t('common.online')}</Badge>
                    ) : (
                      <Badge tone="bad">{t('common.offline')}</Badge>
                    )}
                  </td>
                  <td title={formatDateTime(k.lastSeenAt)}>
                    {k.lastSeenAt ? formatRelative(k.lastSeenAt) : t('ops.never')}
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
      {wantMap ? (
        FleetMap && settings ? (
          <FleetMap
            settings={settings}
            kiosks={list}
            sites={byId}
            alerts={alerts.value ?? []}
            title={t('ops.map', { count: mapped.length })}
          />
        ) : mapFailed ? (
          <p class="notice">{t('ops.mapFailed')}</p>
        ) : (
          <p class="muted kiosk-map-placeholder">{t('map.loading')}</p>
        )
      ) : null}
    </main>
  );
}
