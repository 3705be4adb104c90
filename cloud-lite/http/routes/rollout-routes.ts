/**
 * The operator's rollouts of kiosk software (cloud-lite/updates/rollouts.ts; docs/updates.md):
 *
 *   POST /api/operator/rollouts              start one: version, bundleSha256 (a blob of the
 *                                            content store), waves, maxFailureRate,
 *                                            installWindowSeconds, kiosks -> 201
 *   GET  /api/operator/rollouts              newest first
 *   GET  /api/operator/rollouts/:id          the rollout, each kiosk's state, counts per state
 *   POST /api/operator/rollouts/:id/halt     running -> halted
 *   POST /api/operator/rollouts/:id/resume   halted -> running
 *   POST /api/operator/rollouts/:id/cancel   running/halted -> cancelled
 *
 * Access operator. Refusals: VALIDATION, NOT_FOUND (rollout, bundle, kiosk), KIOSK_REVOKED,
 * ROLLOUT_ACTIVE (another rollout is open), ROLLOUT_ENDED (not in a state allowing it).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  MAX_INSTALL_WINDOW_SECONDS,
  type RolloutInput,
  type RolloutService,
} from '../../updates/rollouts.js';
import { actorOf } from '../guard.js';

const op = { access: 'operator' } as const;
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const CreateBody = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 64 }),
    bundleSha256: Type.String({ minLength: 64, maxLength: 64 }),
    waves: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 8 }), { minItems: 1, maxItems: 20 }),
    ),
    maxFailureRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    installWindowSeconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: MAX_INSTALL_WINDOW_SECONDS }),
    ),
    kiosks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 10_000 }),
    ),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
  { additionalProperties: false },
);

export function registerRolloutRoutes(
  app: FastifyInstance,
  deps: { rollouts: RolloutService },
): void {
  const { rollouts } = deps;
  app.post<{ Body: RolloutInput }>(
    '/api/operator/rollouts',
    { config: op, schema: { body: CreateBody } },
    async (req, reply) => {
      const view = await rollouts.create(req.body, actorOf(req));
      reply.status(201);
      return view;
    },
  );
  app.get<{ Querystring: { limit?: number } }>(
    '/api/operator/rollouts',
    { config: op, schema: { querystring: ListQuery } },
    async (req) => ({ rollouts: await rollouts.list(req.query.limit ?? 50) }),
  );
  app.get<{ Params: { id: string } }>(
    '/api/operator/rollouts/:id',
    { config: op, schema: { params: IdParams } },
    async (req) => rollouts.view(req.params.id),
  );
  for (const verb of ['halt', 'resume', 'cancel'] as const) {
    app.post<{ Params: { id: string } }>(
      `/api/operator/rollouts/:id/${verb}`,
      { config: op, schema: { params: IdParams } },
      async (req) => rollouts[verb](req.params.id, actorOf(req)),
    );
  }
}
