export interface LatLng {
  lat: number;
  lng: number;
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres (haversine). */
export function distanceMeters(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Parses "lat,lng" or two fields into a position; undefined when not a valid coordinate
 * (latitude -90..90, longitude -180..180).
 */
export function parseLatLng(lat: string, lng?: string): LatLng | undefined {
  let a = lat;
  let b = lng;
  if (b === undefined) {
    const parts = lat.split(',');
    if (parts.length !== 2) return undefined;
    [a, b] = parts as [string, string];
  }
  if (a.trim() === '' || b.trim() === '') return undefined;
  const la = Number(a.trim());
  const ln = Number(b.trim());
  if (!Number.isFinite(la) || !Number.isFinite(ln)) return undefined;
  if (la < -90 || la > 90 || ln < -180 || ln > 180) return undefined;
  return { lat: la, lng: ln };
}

/**
 * Links that open directions to a position: `web` from the hub's template (map.directionsUrl,
 * `{lat}`/`{lng}`), and `app`, a `geo:` URI (RFC 5870) that phones hand to their maps app.
 */
export function directionsLinks(
  to: LatLng & { name: string },
  webTemplate: string | undefined,
): { web?: string; app: string } {
  const lat = to.lat.toFixed(6);
  const lng = to.lng.toFixed(6);
  const app = `geo:${lat},${lng}?q=${lat},${lng}(${encodeURIComponent(to.name)})`;
  if (!webTemplate) return { app };
  return { app, web: webTemplate.replaceAll('{lat}', lat).replaceAll('{lng}', lng) };
}
