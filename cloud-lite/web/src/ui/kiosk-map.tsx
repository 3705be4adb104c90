import { t } from '../i18n/i18n.js';
import { formatDistance } from '../lib/format.js';
import { centroid, type LatLng, plotAround } from '../lib/geo.js';

export interface MapPoint extends LatLng {
  id: string;
  label: string;
  tone: 'ok' | 'bad';
}

const W = 340;
const H = 240;

/**
 * A dependency-free map: kiosks plotted around `you` (or their centroid) on an SVG, north up,
 * with a scale bar. No tiles (the network may be closed); the list next to it is the
 * accessible way to choose a kiosk, the map is a picture of where they are.
 */
export function KioskMap({
  you,
  points,
  title,
}: {
  you?: LatLng;
  points: MapPoint[];
  title: string;
}) {
  const center = you ?? centroid(points);
  if (!center) return null;
  const { points: placed, metersPerPixel } = plotAround(center, points, {
    width: W,
    height: H,
    pad: 24,
  });
  const scaleMeters = niceScale(metersPerPixel * 80);
  const scalePx = scaleMeters / metersPerPixel;
  return (
    <figure class="map">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <rect x="0" y="0" width={W} height={H} class="map-bg" />
        <line x1={W / 2} y1="0" x2={W / 2} y2={H} class="map-grid" />
        <line x1="0" y1={H / 2} x2={W} y2={H / 2} class="map-grid" />
        <text x={W - 14} y="16" class="map-north">
          N
        </text>
        {you ? (
          <g class="map-you">
            <circle cx={W / 2} cy={H / 2} r="7" />
            <text x={W / 2 + 10} y={H / 2 - 8}>
              {t('near.you')}
            </text>
          </g>
        ) : null}
        {placed.map((p) => (
          <g key={p.item.id} class={`map-kiosk map-${p.item.tone}`}>
            <title>{p.item.label}</title>
            <circle cx={p.x} cy={p.y} r="6" />
            <text x={p.x + 8} y={p.y + 4}>
              {p.item.label}
            </text>
          </g>
        ))}
        <g class="map-scale">
          <line x1="10" y1={H - 12} x2={10 + scalePx} y2={H - 12} />
          <text x="10" y={H - 16}>
            {formatDistance(scaleMeters)}
          </text>
        </g>
      </svg>
    </figure>
  );
}

/** A round scale-bar length (1, 2 or 5 times a power of ten) not above `m`. */
function niceScale(m: number): number {
  if (!(m > 0)) return 100;
  const p = 10 ** Math.floor(Math.log10(m));
  for (const f of [5, 2, 1]) if (f * p <= m) return f * p;
  return p;
}
