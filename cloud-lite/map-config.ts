import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from './errors.js';

/** OpenStreetMap's standard tiles: the production default (usage policy: attribution, modest use). */
export const OSM_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
export const OSM_ATTRIBUTION = '© OpenStreetMap contributors';
/** Where the hub serves the tiles of `map.tileDir`. */
export const LOCAL_TILE_URL = '/tiles/{z}/{x}/{y}.png';

/**
 * The `map` section of the hub configuration: the renter's map page (docs/web-pages.md).
 * Every key has a default.
 */
export const MapConfigSchema = Type.Object(
  {
    /**
     * Raster tile URL template with `{z}`, `{x}`, `{y}` (and optionally `{s}` with
     * `subdomains`): https://... or a path on this hub. Default: OpenStreetMap's, or the hub's
     * own `/tiles/{z}/{x}/{y}.png` when `tileDir` is set. Its origin is added to the pages'
     * Content-Security-Policy `img-src`.
     */
    tileUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    /** Subdomains for `{s}` in `tileUrl`. */
    subdomains: Type.Array(Type.String({ pattern: '^[a-z0-9-]{1,20}$' }), {
      default: [],
      maxItems: 10,
    }),
    /**
     * A folder of tiles `<z>/<x>/<y>.png` the hub serves itself at `/tiles/...` (tests and the
     * demo: `scripts/make-map-tiles.ts` writes a small set; no network needed).
     */
    tileDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Shown in the map's corner (the tile provider's licence asks for it). */
    attribution: Type.String({ default: OSM_ATTRIBUTION, maxLength: 300 }),
    minZoom: Type.Integer({ minimum: 0, maximum: 22, default: 0 }),
    maxZoom: Type.Integer({ minimum: 0, maximum: 22, default: 19 }),
    /**
     * The coordinate system of the tiles. Chinese providers (AutoNavi/Amap, Tencent) draw
     * GCJ-02; kiosk positions are WGS-84 and are converted before they are placed. Default:
     * `gcj02` when `tileUrl`'s host is a known Chinese provider, else `wgs84`.
     */
    coordSystem: Type.Optional(Type.Union([Type.Literal('wgs84'), Type.Literal('gcj02')])),
    /** A web directions link, `{lat}` and `{lng}` the kiosk's (WGS-84) position. */
    directionsUrl: Type.String({
      default: 'https://www.openstreetmap.org/directions?route=%3B{lat}%2C{lng}',
      maxLength: 500,
    }),
  },
  { additionalProperties: false, default: {} },
);

export type MapConfig = Static<typeof MapConfigSchema>;

/** What the map page is told (GET /api/map): the configuration with its defaults resolved. */
export interface MapSettings {
  tileUrl: string;
  subdomains: string[];
  attribution: string;
  minZoom: number;
  maxZoom: number;
  coordSystem: 'wgs84' | 'gcj02';
  directionsUrl: string;
}

/** Tile hosts that draw GCJ-02 ("Mars coordinates"): AutoNavi/Amap and Tencent. */
const GCJ02_HOSTS = /(^|\.)(autonavi\.com|amap\.com|gtimg\.com|map\.qq\.com)$/;

export function mapSettings(c: MapConfig): MapSettings {
  const tileUrl = c.tileUrl ?? (c.tileDir ? LOCAL_TILE_URL : OSM_TILE_URL);
  let host = '';
  if (/^https?:\/\//.test(tileUrl)) host = new URL(tileUrl.replace('{s}', 'a')).hostname;
  return {
    tileUrl,
    subdomains: c.subdomains,
    attribution: c.attribution,
    minZoom: c.minZoom,
    maxZoom: c.maxZoom,
    coordSystem: c.coordSystem ?? (GCJ02_HOSTS.test(host) ? 'gcj02' : 'wgs84'),
    directionsUrl: c.directionsUrl,
  };
}

/**
 * The origin(s) the pages load tiles from, for the CSP's `img-src` ('self' covers a path on
 * this hub). `{s}` becomes each subdomain.
 */
export function tileOrigins(s: MapSettings): string[] {
  if (!/^https?:\/\//.test(s.tileUrl)) return [];
  const subs = s.tileUrl.includes('{s}') ? s.subdomains : [''];
  return [...new Set(subs.map((sub) => new URL(s.tileUrl.replace('{s}', sub)).origin))];
}

/** Checks what the schema cannot: the templates' placeholders and schemes. */
export function checkMapConfig(c: MapConfig): void {
  const url = c.tileUrl;
  if (url !== undefined) {
    if (!/^(https?:\/\/[^/\s]+\/|\/)\S*$/.test(url))
      throw new ConfigError(
        `configuration key "map/tileUrl" is invalid: "${url}" is neither an http(s) URL nor a path on this hub`,
      );
    for (const p of ['{z}', '{x}', '{y}'])
      if (!url.includes(p))
        throw new ConfigError(`configuration key "map/tileUrl" is invalid: it lacks ${p}`);
    if (url.includes('{s}') && c.subdomains.length === 0)
      throw new ConfigError(
        'configuration key "map/subdomains" is missing: map.tileUrl uses {s}; list the subdomains (e.g. ["a","b","c"])',
      );
  }
  if (!/^https?:\/\/[^/\s]+\/\S*$/.test(c.directionsUrl) || !c.directionsUrl.includes('{lat}'))
    throw new ConfigError(
      'configuration key "map/directionsUrl" is invalid: an http(s) URL with {lat} and {lng}',
    );
  if (c.minZoom > c.maxZoom)
    throw new ConfigError('configuration key "map/minZoom" is invalid: above map.maxZoom');
}
