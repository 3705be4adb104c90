// Kiosks on a tiled map (Leaflet), shared by the renter's /kiosks and the operator's /ops: a
// chunk of its own that those pages import on demand, so the QR landing page never downloads it.
// Its styles are /assets/map.css, added here on first use. What a pin says and the card it
// opens are the page's (renter/nearby-map.tsx, ops/fleet-map.tsx); drawing them is here.
import L from 'leaflet';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import type { LatLng } from '../lib/geo.js';
import { toMapCoords } from '../lib/map-coords.js';
import type { MapSettings } from '../lib/types.js';
import { useLanguage } from './language.js';
import { navigate } from './router.js';

/** A kiosk's state on its pin, as a shape as well as a colour (never colour alone). */
export type PinStatus = 'ok' | 'fault' | 'offline';

export interface MapPin extends LatLng {
  /** The kiosk's id (the pin's `data-kiosk`). */
  id: string;
  name: string;
  status: PinStatus;
  /** Inside the pin's shape: a few characters (the stock, "!", "×"). */
  mark: string;
  /** Under the name beside the shape, in words: "3 ready", "offline", "2 need attention". */
  line: string;
  /** What a screen reader says for the pin (it is a button). */
  label: string;
  /** The card a tap (or Enter) opens; built when it opens, so it shows the newest pin. */
  card: () => HTMLElement;
}

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

/** A DOM element for a pin's card (Leaflet's DOM, not Preact's). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

/** An in-app link inside the map (Leaflet's DOM, not Preact's): routes without a reload. */
export function appLink(href: string, text: string, cls: string): HTMLAnchorElement {
  const a = el('a', { href, className: cls }, text);
  a.addEventListener('click', (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(href);
  });
  return a;
}

function pinIcon(p: MapPin): L.DivIcon {
  const shape = el(
    'span',
    { className: 'pin-shape' },
    el('span', { className: 'pin-mark' }, p.mark),
  );
  shape.setAttribute('aria-hidden', 'true');
  const label = el('span', { className: 'pin-label' }, p.name, el('br'), p.line);
  const html = el('span', {}, shape, label);
  return L.divIcon({
    className: `kiosk-pin pin-${p.status}`,
    html: html.innerHTML,
    iconSize: undefined,
  });
}

/** What makes a pin look different: its icon is replaced only when this changes. */
const looks = (p: MapPin) => JSON.stringify([p.name, p.status, p.mark, p.line, p.label]);

/**
 * Kiosks on a tiled map: a pin per kiosk with a mark in a shape whose form says the state (a
 * filled circle: ok; an amber diamond: needs attention; a dashed square: offline) and the name
 * with its state in words beside it, tappable and keyboard-focusable, opening the page's card.
 * Positions are converted to the tiles' coordinate system (GCJ-02 for Chinese providers). The
 * map is made once per settings and language; new pins (a live fleet) update the markers in
 * place, so an open card stays open and shows the newest state. The page's list or table
 * says the same for screen readers.
 */
export function LeafletKioskMap({
  settings,
  pins,
  you,
  title,
}: {
  settings: MapSettings;
  pins: MapPin[];
  you?: LatLng;
  title: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const lang = useLanguage(); // the pins' words are redrawn in the new language
  const [map, setMap] = useState<L.Map>();
  /** The map in the page now (an effect may still hold one that was just removed). */
  const alive = useRef<L.Map>();
  /** The markers on `alive`'s map, by kiosk id; the "you are here" marker; the fitted pins. */
  const drawn = useRef<{
    map?: L.Map;
    markers: Map<string, { marker: L.Marker; pin: MapPin; looks: string }>;
    you?: L.Marker;
    fitted: string;
  }>({ markers: new Map(), fitted: '' });

  useEffect(() => {
    const node = ref.current;
    if (!node) return;
    let made: L.Map | undefined;
    let live = true;
    void loadStyles().then(() => {
      if (!live) return;
      made = L.map(node, {
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
      }).addTo(made);
      alive.current = made;
      setMap(made);
    });
    return () => {
      live = false;
      alive.current = undefined;
      setMap(undefined);
      made?.remove();
    };
  }, [settings, lang]);

  useEffect(() => {
    if (!map || map !== alive.current) return;
    if (drawn.current.map !== map) drawn.current = { map, markers: new Map(), fitted: '' };
    const d = drawn.current;
    const at = (p: LatLng) => {
      const c = toMapCoords(p, settings.coordSystem);
      return L.latLng(c.lat, c.lng);
    };
    // The view first (again when the set of kiosks changes, not on every live update): Leaflet
    // draws layers, and makes the pins' elements, once it has one.
    const ids = [...pins.map((p) => p.id), you ? `@${you.lat},${you.lng}` : ''].join('|');
    if (ids !== d.fitted) {
      d.fitted = ids;
      const bounds = L.latLngBounds([]);
      for (const p of pins) bounds.extend(at(p));
      if (you) bounds.extend(at(you));
      // Room on the right for the pins' labels, so that none is cut off at the edge.
      if (bounds.isValid())
        map.fitBounds(bounds, {
          paddingTopLeft: [40, 40],
          paddingBottomRight: [160, 50],
          maxZoom: Math.min(16, settings.maxZoom),
        });
      else map.setView([0, 0], settings.minZoom);
    }
    const have = d.markers;
    const seen = new Set<string>();
    for (const pin of pins) {
      seen.add(pin.id);
      const look = looks(pin);
      let entry = have.get(pin.id);
      if (!entry) {
        const marker = L.marker(at(pin), {
          icon: pinIcon(pin),
          keyboard: true,
          title: pin.name,
          riseOnHover: true,
        });
        entry = { marker, pin, looks: look };
        const current = entry;
        marker.bindPopup(() => current.pin.card(), { maxWidth: 260 }).addTo(map);
        have.set(pin.id, entry);
      } else {
        entry.pin = pin;
        entry.marker.setLatLng(at(pin));
        if (entry.looks !== look) {
          entry.looks = look;
          entry.marker.setIcon(pinIcon(pin));
        }
        // An open card is rebuilt with the news (the popup's content is a function).
        if (entry.marker.isPopupOpen()) entry.marker.getPopup()?.update();
      }
      const node = entry.marker.getElement();
      node?.setAttribute('aria-label', pin.label);
      node?.setAttribute('data-kiosk', pin.id);
    }
    for (const [id, entry] of have)
      if (!seen.has(id)) {
        entry.marker.remove();
        have.delete(id);
      }
    d.you?.remove();
    d.you = you
      ? L.marker(at(you), {
          icon: L.divIcon({ className: 'you-pin', iconSize: undefined }),
          keyboard: false,
          interactive: false,
          title: t('map.you'),
        }).addTo(map)
      : undefined;
  }, [map, pins, you, settings]);

  return (
    <section class="map-section" aria-label={title}>
      <div ref={ref} class="kiosk-map" data-testid="kiosk-map" />
    </section>
  );
}
