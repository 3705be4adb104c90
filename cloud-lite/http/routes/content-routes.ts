/**
 * The hub's content origin (what kiosk/content's ContentCache downloads from):
 *
 *   GET       /content/:id/:version/manifest.json   -> `{ manifest, sig }`
 *   GET, HEAD /blobs/sha256/:hash                   -> the bytes; `Range: bytes=` -> 206;
 *                                                      ETag = the hash; immutable
 *
 * Allowed for kiosks with their Basic credentials (as on the WebSocket upgrade) and for
 * operators (bearer token or staff session): access `kiosk-or-operator` of the guard.
 */
import { createReadStream } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CONTENT_TOKEN,
  type HubContentStore,
  SHA256_HEX,
  VERSION_TOKEN,
} from '../../content/content-store.js';
import { parseRange } from '../../content/range.js';
import { errorBody, sendError } from '../errors.js';
import { Media, route } from '../schemas/common.js';
import { BlobParams, ManifestParams } from '../schemas/fleet.js';

export interface ContentRouteDeps {
  store: HubContentStore;
}

const notFound = (reply: FastifyReply, what: string) =>
  sendError(reply, 404, 'NOT_FOUND', `${what} is not on this hub; import it first`);

const tags = ['content origin'];
const blobDoc = (method: 'GET' | 'HEAD') =>
  route({
    method,
    summary:
      method === 'GET'
        ? 'A content blob by its SHA-256 (Range requests answer 206)'
        : "A content blob's size and ETag, without the bytes",
    tags,
    access: 'kiosk-or-operator',
    params: BlobParams,
    response: {
      200: Media('application/octet-stream', 'the bytes; ETag is the hash; immutable'),
      206: Media('application/octet-stream', 'the Range asked for (Content-Range)'),
      304: Type.Null({ description: 'If-None-Match matched the ETag' }),
    },
    errors: ['NOT_FOUND', 'RANGE_NOT_SATISFIABLE'],
  });

/** Registers the origin routes. */
export function registerContentRoutes(app: FastifyInstance, deps: ContentRouteDeps): void {
  app.get<{ Params: { id: string; version: string } }>(
    '/content/:id/:version/manifest.json',
    route({
      method: 'GET',
      summary: "A content version's signed manifest `{manifest, sig}` (what kiosks download)",
      tags,
      access: 'kiosk-or-operator',
      params: ManifestParams,
      response: {
        200: Media(
          'application/json',
          "`{manifest, sig}`: the file list with sizes and SHA-256, signed by the hub's key",
        ),
      },
      errors: ['NOT_FOUND'],
    }),
    async (req, reply) => {
      const { id, version } = req.params;
      if (!CONTENT_TOKEN.test(id) || !VERSION_TOKEN.test(version))
        return notFound(reply, `content ${id}@${version}`);
      const text = await deps.store.readManifestText(id, version);
      if (text === undefined) return notFound(reply, `content ${id}@${version}`);
      return reply
        .header('cache-control', 'private, max-age=60')
        .type('application/json')
        .send(text);
    },
  );

  app.get<{ Params: { hash: string } }>(
    '/blobs/sha256/:hash',
    { exposeHeadRoute: false, ...blobDoc('GET') },
    (req, reply) => sendBlob(deps.store, req, reply),
  );
  app.head<{ Params: { hash: string } }>('/blobs/sha256/:hash', blobDoc('HEAD'), (req, reply) =>
    sendBlob(deps.store, req, reply),
  );
}

async function sendBlob(
  store: HubContentStore,
  req: FastifyRequest<{ Params: { hash: string } }>,
  reply: FastifyReply,
) {
  const { hash } = req.params;
  if (!SHA256_HEX.test(hash)) return notFound(reply, `blob ${hash.slice(0, 80)}`);
  const size = await store.blobSize(hash);
  if (size === undefined) return notFound(reply, `blob ${hash}`);
  const etag = `"${hash}"`;
  reply
    .header('etag', etag)
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'private, max-age=31536000, immutable')
    .type('application/octet-stream');
  if (req.headers['if-none-match'] === etag) return reply.status(304).send();
  const ifRange = req.headers['if-range'];
  const range =
    ifRange && ifRange !== etag ? { kind: 'full' as const } : parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable')
    return reply
      .status(416)
      .header('content-range', `bytes */${size}`)
      .type('application/json')
      .send(errorBody('RANGE_NOT_SATISFIABLE', `the range is outside the ${size}-byte blob`));
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : size - 1;
  if (range.kind === 'partial')
    reply.status(206).header('content-range', `bytes ${start}-${end}/${size}`);
  reply.header('content-length', String(end - start + 1));
  if (req.method === 'HEAD' || size === 0) return reply.send();
  return reply.send(createReadStream(store.blobPath(hash), { start, end }));
}
