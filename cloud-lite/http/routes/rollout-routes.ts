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
 *   GET  /api/operator/kiosks/:id/updates    the kiosk's version and update history
 *
 * Access operator. Refusals: VALIDATION, NOT_FOUND (rollout, bundle, kiosk), KIOSK_REVOKED,
 * ROLLOUT_ACTIVE (another rollout is open), ROLLOUT_ENDED (not in a state allowing it).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/types.js';
import type { RolloutInput, RolloutService } from '../../updates/rollouts.js';
import { updateHistory } from '../../updates/update-history.js';
import { actorOf } from '../guard.js';
import { route } from '../schemas/common.js';
import { FleetIdParams } from '../schemas/fleet.js';
import {
  RolloutBody,
  RolloutIdParams,
  RolloutListQuery,
  RolloutsList,
  RolloutViewAnswer,
  UpdateHistoryAnswer,
} from '../schemas/rollouts.js';

const tags = ['rollouts'];
const VERB_SUMMARY = {
  halt: 'Halt a running rollout (running -> halted)',
  resume: 'Resume a halted rollout (halted -> running)',
  cancel: 'Cancel a rollout (running or halted -> cancelled)',
} as const;

export function registerRolloutRoutes(
  fastify: FastifyInstance,
  deps: { rollouts: RolloutService; store: Store },
): void {
  const { rollouts, store } = deps;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/operator/rollouts',
    route({
      method: 'POST',
      summary: 'Start a rollout of kiosk software in waves',
      tags,
      access: 'operator',
      body: RolloutBody,
      response: { 201: RolloutViewAnswer },
      errors: ['VALIDATION', 'NOT_FOUND', 'KIOSK_REVOKED', 'ROLLOUT_ACTIVE'],
    }),
    async (req, reply) => {
      const view = await rollouts.create(req.body as RolloutInput, actorOf(req));
      reply.status(201);
      return view as never;
    },
  );
  app.get(
    '/api/operator/rollouts',
    route({
      method: 'GET',
      summary: 'Rollouts, newest first',
      tags,
      access: 'operator',
      querystring: RolloutListQuery,
      response: { 200: RolloutsList },
    }),
    async (req) => ({ rollouts: await rollouts.list(req.query.limit ?? 50) }) as never,
  );
  app.get(
    '/api/operator/rollouts/:id',
    route({
      method: 'GET',
      summary: "A rollout, each kiosk's state, and counts per state",
      tags,
      access: 'operator',
      params: RolloutIdParams,
      response: { 200: RolloutViewAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => (await rollouts.view(req.params.id)) as never,
  );
  for (const verb of ['halt', 'resume', 'cancel'] as const) {
    app.post(
      `/api/operator/rollouts/:id/${verb}`,
      route({
        method: 'POST',
        summary: VERB_SUMMARY[verb],
        tags,
        access: 'operator',
        params: RolloutIdParams,
        response: { 200: RolloutViewAnswer },
        errors: ['NOT_FOUND', 'ROLLOUT_ENDED'],
      }),
      async (req) => (await rollouts[verb](req.params.id, actorOf(req))) as never,
    );
  }
  app.get(
    '/api/operator/kiosks/:id/updates',
    route({
      method: 'GET',
      summary: "A kiosk's software version and update history, newest first",
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: UpdateHistoryAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => (await updateHistory(store, req.params.id)) as never,
  );
}
