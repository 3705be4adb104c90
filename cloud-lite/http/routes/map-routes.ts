import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type MapConfig, mapSettings } from '../../map-config.js';
import { sendError } from '../errors.js';
import { route } from '../schemas/common.js';
import { MapSettings } from '../schemas/components.js';

/** Highest zoom of a tile path the hub serves from `map.tileDir` (OSM stops at 19). */
const MAX_TILE_ZOOM = 22;

/**
 * The map page's settings (`GET /api/map`, public) and, when `map.tileDir` is set, the tiles
 * of that folder at `/tiles/<z>/<x>/<y>.png` (tests and the demo: no tile server needed).
 */
export function registerMapRoutes(fastify: FastifyInstance, config: MapConfig): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const settings = mapSettings(config);
  app.get(
    '/api/map',
    route({
      method: 'GET',
      summary: "The renter's map: tile source, attribution, coordinate system, directions link",
      description:
        'From the `map` configuration. With `coordSystem: gcj02` (Chinese tile providers) the page converts WGS-84 kiosk positions to GCJ-02 before drawing them.',
      tags: ['catalog'],
      access: 'public',
      response: { 200: Type.Ref(MapSettings) },
    }),
    async () => settings,
  );
  const dir = config.tileDir;
  if (!dir) return;
  app.get<{ Params: { z: string; x: string; y: string } }>(
    '/tiles/:z/:x/:y',
    { config: { access: 'public' as const }, schema: { hide: true } },
    async (req, reply) => {
      const { z, x } = req.params;
      const y = req.params.y.replace(/\.png$/, '');
      const ok = [z, x, y].every((v) => /^[0-9]{1,7}$/.test(v)) && Number(z) <= MAX_TILE_ZOOM;
      if (!ok || !req.params.y.endsWith('.png'))
        return sendError(reply, 404, 'NOT_FOUND', `no tile ${req.url}`);
      let body: Buffer;
      try {
        body = await readFile(path.join(dir, z, x, `${y}.png`));
      } catch {
        return sendError(reply, 404, 'NOT_FOUND', `no tile ${z}/${x}/${y}`);
      }
      return reply
        .header('cache-control', 'public, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .type('image/png')
        .send(body);
    },
  );
}
