import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.js';
import type { KioskDiagnostics } from '../../registry/diagnostics.js';
import type { DiagnosticsRecord } from '../../store/types.js';
import { actorOf } from '../guard.js';
import { Exact, literals, Media, route } from '../schemas/common.js';
import { type Diagnostics, DiagnosticsAnswer, DiagnosticsList } from '../schemas/components.js';
import { FleetIdParams } from '../schemas/fleet.js';

const RequestBody = Exact({
  kind: literals(['bundle', 'logs'] as const, 'bundle: the kioskctl diag tar.gz; logs: log lines'),
  lines: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100_000, description: 'logs: default 200' }),
  ),
  level: Type.Optional(
    literals(
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const,
      'logs: the lowest level included (default info)',
    ),
  ),
});
const UploadHeaders = Type.Object({
  'x-content-sha256': Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
});

const view = (d: DiagnosticsRecord): Static<typeof Diagnostics> => ({ ...d });

/**
 * Remote diagnostics: operators ask a kiosk for its diagnostics bundle or log lines and download
 * what it uploaded; the kiosk uploads with its Basic credentials (`POST /api/kiosk/diagnostics/:id`).
 */
export function registerDiagnosticsRoutes(
  fastify: FastifyInstance,
  deps: { diagnostics: KioskDiagnostics; maxUploadBytes: number },
): void {
  const d = deps.diagnostics;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['fleet'];
  app.post(
    '/api/operator/kiosks/:id/diagnostics',
    route({
      method: 'POST',
      summary: 'Ask a kiosk for its diagnostics bundle or its last log lines (it uploads them)',
      description:
        'Records the request and sends the kiosk UploadDiagnostics (signed); the kiosk uploads when it is connected, before the deadline (`diagnostics.deadlineSeconds`). Follow it with GET /api/operator/diagnostics/{id}; audited. A kiosk whose software does not list the protocol feature `upload-diagnostics` is refused (KIOSK_LACKS_FEATURE).',
      tags,
      access: 'operator',
      params: FleetIdParams,
      body: RequestBody,
      response: { 202: DiagnosticsAnswer },
      errors: ['VALIDATION', 'NOT_FOUND', 'KIOSK_LACKS_FEATURE'],
    }),
    async (req, reply) => {
      if (req.body.kind === 'bundle' && (req.body.lines || req.body.level))
        throw new HubError('VALIDATION', 'lines and level are for kind "logs" only', 400);
      const rec = await d.request(req.params.id, req.body, actorOf(req));
      reply.status(202);
      return { diagnostics: view(rec) };
    },
  );
  app.get(
    '/api/operator/kiosks/:id/diagnostics',
    route({
      method: 'GET',
      summary: "A kiosk's diagnostics requests, newest first (50)",
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: DiagnosticsList },
    }),
    async (req) => ({ diagnostics: (await d.list(req.params.id)).map(view) }),
  );
  app.get(
    '/api/operator/diagnostics/:id',
    route({
      method: 'GET',
      summary: 'One diagnostics request and its state',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: DiagnosticsAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => ({ diagnostics: view(await d.get(req.params.id)) }),
  );
  app.get(
    '/api/operator/diagnostics/:id/download',
    route({
      method: 'GET',
      summary: 'The bytes a kiosk uploaded (tar.gz bundle or text log lines); audited',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: {
        200: Media(
          'application/octet-stream',
          'application/gzip (bundle) or text/plain (logs); x-content-sha256 names its SHA-256',
        ),
      },
      errors: ['NOT_FOUND', 'DIAGNOSTICS_NOT_READY'],
    }),
    async (req, reply) => {
      const { record, data } = await d.download(req.params.id, actorOf(req));
      const bundle = record.kind === 'bundle';
      reply
        .type(bundle ? 'application/gzip' : 'text/plain; charset=utf-8')
        .header('x-content-sha256', record.sha256 ?? '')
        .header(
          'content-disposition',
          `attachment; filename="${record.kioskId}-${record.id}.${bundle ? 'tar.gz' : 'log'}"`,
        );
      return reply.send(data);
    },
  );
  // The kiosk's upload: raw bytes (no JSON), capped, in a context of its own for the parsers.
  fastify.register(async (sub) => {
    sub.addContentTypeParser(
      ['application/gzip', 'application/octet-stream', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: deps.maxUploadBytes },
      (_req, body, done) => done(null, body),
    );
    sub.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/kiosk/diagnostics/:id',
      route({
        method: 'POST',
        summary: 'A kiosk uploads the diagnostics it was asked for (its Basic credentials)',
        description:
          'Body: the bytes (application/gzip for a bundle, text/plain for log lines), at most `diagnostics.maxUploadBytes`; `x-content-sha256` their SHA-256. Once per request: a second upload is DIAGNOSTICS_CLOSED.',
        tags: ['kiosks'],
        access: 'kiosk-or-operator',
        params: FleetIdParams,
        headers: UploadHeaders,
        response: { 200: DiagnosticsAnswer },
        errors: ['NOT_FOUND', 'DIAGNOSTICS_CLOSED', 'DIGEST_MISMATCH', 'FORBIDDEN'],
      }),
      async (req) => {
        if (!req.kioskId) throw new HubError('FORBIDDEN', 'only the kiosk itself uploads', 403);
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const rec = await d.receiveUpload(
          req.kioskId,
          req.params.id,
          body,
          req.headers['x-content-sha256'],
        );
        return { diagnostics: view(rec) };
      },
    );
  });
}
