import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { type HubToKioskAction, hubToKioskActions } from '../../../protocol/index.js';
import { HubError, NotFoundError } from '../../errors.js';
import type { KioskHub } from '../../hub/hub.js';
import type { KioskRegistry } from '../../registry/kiosk-registry.js';
import type { Store } from '../../store/types.js';
import { commandView, eventView, kioskView } from './fleet-views.js';

export interface OperatorRoutesDeps {
  store: Store;
  registry: KioskRegistry;
  hub: KioskHub;
  commandDefaultTtlSeconds: number;
}

/** Commands an operator may send by hand. */
export const MAINTENANCE_ACTIONS = [
  'DisableSlot',
  'EnableSlot',
  'TriggerMessage',
  'Reset',
  'SetWriteProtect',
] as const;

const op = { access: 'operator' } as const;
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const CreateBody = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const CommandBody = Type.Object(
  {
    action: Type.Union(MAINTENANCE_ACTIONS.map((a) => Type.Literal(a))),
    payload: Type.Record(Type.String(), Type.Unknown()),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    before: Type.Optional(Type.String({ maxLength: 64 })),
    afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** The operator's fleet API under /api/operator: kiosks, their commands and events (access operator). */
export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorRoutesDeps): void {
  const { store, registry, hub } = deps;

  const mustGetKiosk = async (id: string) => {
    const k = await store.transaction((tx) => tx.kiosks.get(id));
    if (!k) throw new NotFoundError(`kiosk ${id} does not exist`);
    return k;
  };

  app.post<{ Body: { id: string; name?: string } }>(
    '/api/operator/kiosks',
    { config: op, schema: { body: CreateBody } },
    async (req, reply) => {
      const out = await registry.create(req.body);
      reply.status(201);
      return {
        kiosk: kioskView(out.kiosk, false),
        enrolmentToken: out.enrolmentToken,
        expiresAt: out.expiresAt,
      };
    },
  );

  app.get('/api/operator/kiosks', { config: op }, async () => {
    const list = await store.transaction(async (tx) => {
      const kiosks = await tx.kiosks.list();
      return Promise.all(kiosks.map(async (k) => ({ k, slots: await tx.slots.list(k.id) })));
    });
    return { kiosks: list.map(({ k, slots }) => kioskView(k, hub.isConnected(k.id), slots)) };
  });

  app.get<{ Params: { id: string } }>(
    '/api/operator/kiosks/:id',
    { config: op, schema: { params: IdParams } },
    async (req) => {
      const k = await mustGetKiosk(req.params.id);
      const slots = await store.transaction((tx) => tx.slots.list(k.id));
      return { kiosk: kioskView(k, hub.isConnected(k.id), slots) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/operator/kiosks/:id/rotate-secret',
    { config: op, schema: { params: IdParams } },
    async (req) => registry.rotateSecret(req.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/api/operator/kiosks/:id/revoke',
    { config: op, schema: { params: IdParams } },
    async (req) => {
      const k = await registry.revoke(req.params.id);
      return { kiosk: kioskView(k, hub.isConnected(k.id)) };
    },
  );

  app.post<{
    Params: { id: string };
    Body: { action: HubToKioskAction; payload: Record<string, unknown>; ttlSeconds?: number };
  }>(
    '/api/operator/kiosks/:id/commands',
    { config: op, schema: { params: IdParams, body: CommandBody } },
    async (req, reply) => {
      const { action, payload } = req.body;
      const probe = { ...payload, commandId: randomUUID() };
      const schema = hubToKioskActions[action].request;
      const first = Value.Errors(schema, probe).First();
      if (first || 'commandId' in payload) {
        const where = first
          ? `${first.path || '/'}: ${first.message}`
          : '/commandId: set by the hub';
        throw new HubError('VALIDATION', `invalid ${action} payload at ${where}`, 400);
      }
      await mustGetKiosk(req.params.id);
      const ttl = req.body.ttlSeconds ?? deps.commandDefaultTtlSeconds;
      const cmd = await hub.sendCommand(
        req.params.id,
        action,
        payload as never,
        new Date(Date.now() + ttl * 1000),
      );
      reply.status(202);
      return { command: commandView(cmd) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; before?: string } }>(
    '/api/operator/kiosks/:id/commands',
    { config: op, schema: { params: IdParams, querystring: ListQuery } },
    async (req) => {
      await mustGetKiosk(req.params.id);
      const list = await store.transaction((tx) =>
        tx.commands.listForKiosk(req.params.id, {
          limit: req.query.limit ?? 100,
          beforeCreatedAt: req.query.before,
        }),
      );
      return { commands: list.map(commandView) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; afterSeq?: number } }>(
    '/api/operator/kiosks/:id/events',
    { config: op, schema: { params: IdParams, querystring: ListQuery } },
    async (req) => {
      await mustGetKiosk(req.params.id);
      const list = await store.transaction((tx) =>
        tx.events.listForKiosk(req.params.id, {
          limit: req.query.limit ?? 100,
          afterSeq: req.query.afterSeq,
        }),
      );
      return { events: list.map(eventView) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/operator/commands/:id',
    { config: op, schema: { params: IdParams } },
    async (req) => {
      const c = await hub.commands.get(req.params.id);
      if (!c) throw new NotFoundError(`command ${req.params.id} does not exist`);
      return { command: commandView(c) };
    },
  );
}
