import { t } from '../i18n/i18n.js';
import { formatDateTime, formatRelative } from '../lib/format.js';
import type { NearbyKiosk } from '../lib/types.js';
import { Badge, Button, ErrorBox, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { KioskMap } from '../ui/kiosk-map.js';
import { usePageTitle } from '../ui/language.js';
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
  usePageTitle(t('ops.fleet'), t('app.opsTitle'));
  return (
    <main>
      <h1>{t('ops.fleet')}</h1>
      <AlertsPanel />
      <div class="actions">
        <Button onClick={kiosks.reload}>{t('ops.refresh')}</Button>
        <Link class="button" href="/ops/enrol">
          {t('ops.enrolKiosk')}
        </Link>
      </div>
      <ErrorBox error={kiosks.error} />
      {kiosks.loading && !kiosks.data ? <Loading what={t('ops.theFleet')} /> : null}
      <div class="table-wrap">
        <table class="fleet">
          <caption>{t('ops.kioskCount', { count: list.length })}</caption>
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
              return (
                <tr key={k.id} data-kiosk={k.id}>
                  <th scope="row">
                    <Link href={`/ops/kiosks/${encodeURIComponent(k.id)}`}>
                      {byId.get(k.id)?.name ?? k.name ?? k.id}
                    </Link>
                    <div class="muted">{k.id}</div>
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
      {mapped.length > 0 ? (
        <KioskMap
          title={t('ops.map', { count: mapped.length })}
          points={mapped.map((k) => {
            const s = byId.get(k.id)!;
            return {
              id: k.id,
              lat: s.lat,
              lng: s.lng,
              label: byId.get(k.id)?.name ?? k.name ?? k.id,
              tone: k.connected ? 'ok' : 'bad',
            };
          })}
        />
      ) : null}
    </main>
  );
}
