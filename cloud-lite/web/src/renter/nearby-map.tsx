// The renter's map on /kiosks: the shared Leaflet map (ui/kiosk-map-leaflet.tsx) with a pin per
// kiosk showing its ready stock, and a card to rent, reserve or get directions. Loaded on demand
// with the map's chunk.
import { useMemo } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { directionsLinks, type LatLng } from '../lib/geo.js';
import type { MapSettings, NearbyKiosk } from '../lib/types.js';
import { appLink, el, LeafletKioskMap, type MapPin } from '../ui/kiosk-map-leaflet.js';
import { useLanguage } from '../ui/language.js';

function cardFor(k: NearbyKiosk, directionsUrl: string): HTMLElement {
  const state = k.online ? t('common.online') : t('common.offline');
  const links = directionsLinks({ lat: k.lat, lng: k.lng, name: k.name }, directionsUrl);
  return el(
    'div',
    { className: 'kiosk-popup' },
    el('h2', {}, k.name),
    k.address ? el('p', { className: 'muted' }, k.address) : null,
    el(
      'p',
      {},
      el('span', { className: `badge badge-${k.online ? 'ok' : 'bad'}` }, state),
      ' ',
      t('near.stock', { ready: k.disks.ready, reservable: k.disks.reservable }),
    ),
    el(
      'p',
      { className: 'actions' },
      appLink(`/k/${encodeURIComponent(k.id)}`, t('near.rentAt', { name: k.name }), ''),
      appLink(`/reserve/${encodeURIComponent(k.id)}`, t('near.reserveAt', { name: k.name }), ''),
    ),
    el(
      'p',
      { className: 'directions' },
      links.web
        ? el(
            'a',
            { href: links.web, target: '_blank', rel: 'noopener noreferrer' },
            t('map.directions', { name: k.name }),
          )
        : null,
      el('a', { href: links.app }, t('map.openInApp')),
    ),
  );
}

/** A renter's pin: the number of disks ready in a circle, or a dashed square with × offline. */
export function renterPin(k: NearbyKiosk, directionsUrl: string): MapPin {
  return {
    id: k.id,
    lat: k.lat,
    lng: k.lng,
    name: k.name,
    status: k.online ? 'ok' : 'offline',
    mark: k.online ? String(k.disks.ready) : '×',
    line: k.online ? t('map.readyCount', { count: k.disks.ready }) : t('map.offline'),
    label: t('map.pin', {
      name: k.name,
      state: k.online ? t('common.online') : t('common.offline'),
      count: k.disks.ready,
    }),
    card: () => cardFor(k, directionsUrl),
  };
}

/** The kiosks found near `you` (or all), on the map. */
export function NearbyMap({
  settings,
  kiosks,
  you,
  title,
}: {
  settings: MapSettings;
  kiosks: NearbyKiosk[];
  you?: LatLng;
  title: string;
}) {
  const lang = useLanguage();
  // `lang`: the pins' words follow the language.
  const pins = useMemo(
    () => kiosks.map((k) => renterPin(k, settings.directionsUrl)),
    [kiosks, settings, lang],
  );
  return <LeafletKioskMap settings={settings} pins={pins} you={you} title={title} />;
}
