// The operator's fleet map on /ops: the renters' Leaflet map (ui/kiosk-map-leaflet.tsx) with a
// pin per placed kiosk saying ok, needs attention or offline (by shape and in words), and a card
// with its stock and what needs attention. Loaded on demand with the map's chunk.
import { useMemo } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import type { Alert, MapSettings, NearbyKiosk, OpsKiosk } from '../lib/types.js';
import { appLink, el, LeafletKioskMap, type MapPin } from '../ui/kiosk-map-leaflet.js';
import { useLanguage } from '../ui/language.js';
import { kioskName } from './kiosk-names.js';
import { slotSummary, summaryText } from './slot-summary.js';

/** What needs attention at kiosk `k`, in the page's language: its live alerts, its slots in fault. */
export function attentionItems(k: OpsKiosk, alerts: readonly Alert[]): string[] {
  const items = alerts
    .filter((a) => a.kioskId === k.id)
    .map((a) => t(`alerts.kind.${a.kind}`, { defaultValue: a.kind }));
  for (const s of k.slots ?? [])
    if (s.state === 'fault' || s.fault)
      items.push(t('ops.slotFault', { slot: s.slot, what: s.fault?.message ?? s.state }));
  return items;
}

function cardFor(
  k: OpsKiosk,
  site: NearbyKiosk,
  status: MapPin['status'],
  items: string[],
): HTMLElement {
  const name = kioskName(k, site);
  const tone = status === 'ok' ? 'ok' : status === 'fault' ? 'warn' : 'bad';
  return el(
    'div',
    { className: 'kiosk-popup' },
    el('h2', {}, name),
    site.address ? el('p', { className: 'muted' }, site.address) : null,
    el(
      'p',
      {},
      el('span', { className: `badge badge-${tone}` }, stateWords(status)),
      ' ',
      summaryText(slotSummary(k).byState),
    ),
    items.length > 0
      ? el(
          'div',
          {},
          el('h3', {}, t('ops.attention')),
          el('ul', { className: 'attention' }, ...items.map((i) => el('li', {}, i))),
        )
      : el('p', {}, t('ops.nothingNeeded')),
    el(
      'p',
      { className: 'actions' },
      appLink(`/ops/kiosks/${encodeURIComponent(k.id)}`, t('ops.mapOpen', { name }), ''),
    ),
  );
}

function stateWords(status: MapPin['status']): string {
  if (status === 'offline') return t('common.offline');
  if (status === 'fault') return t('ops.needsAttention');
  return t('common.online');
}

/**
 * An operator's pin: offline (no connection, or not enrolled or revoked: a dashed square with ×),
 * needs attention (a live alert or a slot in fault: an amber diamond with !), else ok (a filled
 * circle with the number of disks ready).
 */
export function fleetPin(k: OpsKiosk, site: NearbyKiosk, alerts: readonly Alert[]): MapPin {
  const items = attentionItems(k, alerts);
  const ready = slotSummary(k).byState.ready ?? 0;
  const online = k.connected && !k.revokedAt;
  const status: MapPin['status'] = !online ? 'offline' : items.length > 0 ? 'fault' : 'ok';
  const name = kioskName(k, site);
  const line =
    status === 'offline'
      ? t('map.offline')
      : status === 'fault'
        ? t('ops.attentionCount', { count: items.length })
        : t('map.readyCount', { count: ready });
  return {
    id: k.id,
    lat: site.lat,
    lng: site.lng,
    name,
    status,
    mark: status === 'offline' ? '×' : status === 'fault' ? '!' : String(ready),
    line,
    label: t('ops.pin', { name, state: stateWords(status), what: line }),
    card: () => cardFor(k, site, status, items),
  };
}

/** The placed kiosks of the fleet on the map, live with the table above it. */
export function FleetMap({
  settings,
  kiosks,
  sites,
  alerts,
  title,
}: {
  settings: MapSettings;
  kiosks: OpsKiosk[];
  sites: Map<string, NearbyKiosk>;
  alerts: readonly Alert[];
  title: string;
}) {
  const lang = useLanguage();
  // `lang`: the pins' words follow the language.
  const pins = useMemo(
    () =>
      kiosks.flatMap((k) => {
        const site = sites.get(k.id);
        return site ? [fleetPin(k, site, alerts)] : [];
      }),
    [kiosks, sites, alerts, lang],
  );
  return <LeafletKioskMap settings={settings} pins={pins} title={title} />;
}
