import gcoordModule from 'gcoord';
import type { LatLng } from './geo.js';

/** The part of gcoord used here (its default export; typed by hand: its types are ESM-only). */
interface Gcoord {
  transform(input: [number, number], from: string, to: string): [number, number];
  WGS84: string;
  GCJ02: string;
}
// The bundle and Node both hand over gcoord's `exported` object; NodeNext's types wrap it.
const gcoord = ((gcoordModule as unknown as { default?: Gcoord }).default ??
  gcoordModule) as unknown as Gcoord;

/**
 * A WGS-84 position (GPS, the kiosks' sites) in the tiles' coordinate system. Chinese tile
 * providers draw GCJ-02, offset from WGS-84 by a few hundred metres inside China; `gcoord`
 * converts (and leaves positions outside China as they are, as GCJ-02 does).
 */
export function toMapCoords(p: LatLng, system: 'wgs84' | 'gcj02'): LatLng {
  if (system === 'wgs84') return p;
  const [lng, lat] = gcoord.transform([p.lng, p.lat], gcoord.WGS84, gcoord.GCJ02);
  return { lat, lng };
}
