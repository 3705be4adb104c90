// The renter's map (Leaflet), a chunk of its own: the nearby page imports it on demand, so the
// QR landing page never downloads it. Its styles are /assets/map.css, added here on first use.
import L from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { directionsLinks, type LatLng } from '../lib/geo.js';
import { toMapCoords } from '../lib/map-coords.js';
import type { MapSettings, NearbyKiosk } from '../lib/types.js';
import { useLanguage } from './language.js';
import { navigate } from './router.js';

function loadStyles(): Promise<void> {
  const id = 'dk-map-css';
  const have = document.getElementById(id) as HTMLLinkElement | null;
  if (have) return Promise.resolve();
  return new Promise((resolve) => {
    const link = document.createElement('link');
    link.id = id;
    link.rel = 'stylesheet';
    link.href = new URL('./map.css', import.meta.url).pathname;
    link.onload = link.onerror = () => resolve();
    document.head.appendChild(link);
  });
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

/** An in-app link inside the map (Leaflet's DOM, not Preact's): routes without a reload. */
function appLink(href: string, text: string, cls: string): HTMLAnchorElement {
  const a = el('a', { href, className: cls }, text);
  a.addEventListener('click', (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(href);
  });
  return a;
}

function popupFor(k: NearbyKiosk, directionsUrl: string): HTMLElement {
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

function pinIcon(k: NearbyKiosk): L.DivIcon {
  const shape = el('span', { className: 'pin-shape' }, k.online ? String(k.disks.ready) : '×');
  shape.setAttribute('aria-hidden', 'true');
  const label = el(
    'span',
    { className: 'pin-label' },
    k.name,
    el('br'),
    k.online ? t('map.readyCount', { count: k.disks.ready }) : t('map.offline'),
  );
  const html = el('span', {}, shape, label);
  return L.divIcon({
    className: `kiosk-pin pin-${k.online ? 'ok' : 'bad'}`,
    html: html.innerHTML,
    iconSize: undefined,
  });
}

/**
 * Kiosks on a tiled map: a pin per kiosk with its stock (a number, and the name with "3 ready"
 * or "offline" in words: never colour alone), tappable and keyboard-focusable, opening a card
 * with rent, reserve and directions. Positions are converted to the tiles' coordinate system
 * (GCJ-02 for Chinese providers). The list under the map says the same for screen readers.
 */
export function LeafletKioskMap({
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
  const ref = useRef<HTMLDivElement>(null);
  const lang = useLanguage(); // the pins' words are redrawn in the new language
  useEffect(() => {
    const node = ref.current;
    if (!node) return;
    let map: L.Map | undefined;
    let live = true;
    void loadStyles().then(() => {
      if (!live) return;
      const at = (p: LatLng) => {
        const c = toMapCoords(p, settings.coordSystem);
        return L.latLng(c.lat, c.lng);
      };
      map = L.map(node, {
        minZoom: settings.minZoom,
        maxZoom: settings.maxZoom,
        zoomSnap: 1,
        attributionControl: true,
      });
      L.tileLayer(settings.tileUrl, {
        subdomains: settings.subdomains.length > 0 ? settings.subdomains : 'abc',
        attribution: settings.attribution,
        minZoom: settings.minZoom,
        maxZoom: settings.maxZoom,
      }).addTo(map);
      // The view first: Leaflet draws layers (and makes the pins' elements) once it has one.
      const bounds = L.latLngBounds([]);
      for (const k of kiosks) bounds.extend(at(k));
      if (you) bounds.extend(at(you));
      // Room on the right for the pins' labels, so that none is cut off at the edge.
      if (bounds.isValid())
        map.fitBounds(bounds, {
          paddingTopLeft: [40, 40],
          paddingBottomRight: [160, 50],
          maxZoom: Math.min(16, settings.maxZoom),
        });
      else map.setView([0, 0], settings.minZoom);
      for (const k of kiosks) {
        const marker = L.marker(at(k), {
          icon: pinIcon(k),
          keyboard: true,
          title: k.name,
          riseOnHover: true,
        })
          .bindPopup(() => popupFor(k, settings.directionsUrl), { maxWidth: 260 })
          .addTo(map);
        const pin = marker.getElement();
        pin?.setAttribute(
          'aria-label',
          t('map.pin', {
            name: k.name,
            state: k.online ? t('common.online') : t('common.offline'),
            count: k.disks.ready,
          }),
        );
        pin?.setAttribute('data-kiosk', k.id);
      }
      if (you) {
        L.marker(at(you), {
          icon: L.divIcon({ className: 'you-pin', iconSize: undefined }),
          keyboard: false,
          interactive: false,
          title: t('map.you'),
        }).addTo(map);
      }
    });
    return () => {
      live = false;
      map?.remove();
    };
  }, [settings, kiosks, you, lang]);
  return (
    <section class="map-section" aria-label={title}>
      <div ref={ref} class="kiosk-map" data-testid="kiosk-map" />
    </section>
  );
}
