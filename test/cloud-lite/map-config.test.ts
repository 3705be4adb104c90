import t from 'tap';
import { validateConfig } from '../../cloud-lite/config.js';
import { mapSettings, tileOrigins } from '../../cloud-lite/map-config.js';

const base = { adminToken: 'a-long-enough-admin-token' };

t.test('map configuration: defaults, Chinese providers, local tiles, refusals', async (t) => {
  const osm = mapSettings(validateConfig(base).map);
  t.equal(osm.tileUrl, 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', 'OSM by default');
  t.equal(osm.coordSystem, 'wgs84');
  t.same(tileOrigins(osm), ['https://tile.openstreetmap.org'], 'its origin for the CSP');

  const amap = mapSettings(
    validateConfig({
      ...base,
      map: {
        tileUrl: 'https://webrd0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}',
        subdomains: ['1', '2'],
      },
    }).map,
  );
  t.equal(amap.coordSystem, 'gcj02', 'AutoNavi tiles are GCJ-02');
  t.same(tileOrigins(amap), ['https://webrd01.is.autonavi.com', 'https://webrd02.is.autonavi.com']);

  const local = mapSettings(validateConfig({ ...base, map: { tileDir: '/srv/tiles' } }).map);
  t.equal(local.tileUrl, '/tiles/{z}/{x}/{y}.png', 'tileDir: served by the hub');
  t.same(tileOrigins(local), [], "'self' covers them");

  for (const [map, why] of [
    [{ tileUrl: 'ftp://tiles.example/{z}/{x}/{y}.png' }, /neither an http\(s\) URL/],
    [{ tileUrl: 'https://tiles.example/{z}/{x}.png' }, /lacks \{y\}/],
    [{ tileUrl: 'https://{s}.tiles.example/{z}/{x}/{y}.png' }, /map\/subdomains/],
    [{ directionsUrl: 'javascript:alert(1)//{lat}' }, /directionsUrl/],
    [{ minZoom: 12, maxZoom: 10 }, /minZoom/],
    [{ coordSystem: 'bd09' }, /map/],
  ] as const)
    t.throws(() => validateConfig({ ...base, map }), { message: why }, JSON.stringify(map));
});
