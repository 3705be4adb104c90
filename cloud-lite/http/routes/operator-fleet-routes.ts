import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { hubToKioskActions } from '../../../protocol/index.js';
import { audit } from '../../audit.js';
import { HubError, NotFoundError } from '../../errors.js';
import type { KioskHub } from '../../hub/hub.js';
import type { KioskRegistry } from '../../registry/kiosk-registry.js';
import { makeSticker } from '../../registry/sticker.js';
import type { Store } from '../../store/types.js';
import { actorOf } from '../guard.js';
import { EventStream, route } from '../schemas/common.js';
import {
  CommandAnswer,
  CommandsList,
  EventsList,
  IssuedToken,
  KioskAnswer,
  KioskCreated,
  KiosksList,
} from '../schemas/components.js';
import {
  CommandBody,
  CommandListQuery,
  CreateKioskBody,
  EventListQuery,
  FleetEventsQuery,
  FleetIdParams,
} from '../schemas/fleet.js';
import { streamChangedItems } from '../sse.js';
import { commandView, eventView, kioskView } from './fleet-views.js';

export { MAINTENANCE_ACTIONS } from '../schemas/fleet.js';

export interface OperatorRoutesDeps {
  store: Store;
  registry: KioskRegistry;
  hub: KioskHub;
  commandDefaultTtlSeconds: number;
  /** The renters' web origin (config publicUrl); else the origin the operator's request came to. */
  publicOrigin?: string;
}

const StickerAnswer = Type.Object(
  {
    url: Type.String({ description: "the kiosk's landing page, what the QR code holds" }),
    svg: Type.String({
      description: 'the printable sticker (60 x 80 mm): QR code, name and URL, as SVG',
    }),
    png: Type.String({ description: 'the QR code alone, 1024 px PNG, base64' }),
  },
  { additionalProperties: false },
);

/** The operator's fleet API under /api/operator: kiosks, their commands and events (access operator). */
export function registerOperatorRoutes(fastify: FastifyInstance, deps: OperatorRoutesDeps): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store, registry, hub } = deps;
  const tags = ['fleet'];

  const mustGetKiosk = async (id: string) => {
    const k = await store.transaction((tx) => tx.kiosks.get(id));
    if (!k) throw new NotFoundError(`kiosk ${id} does not exist`);
    return k;
  };

  /** Every kiosk (or only those of `ids`) with its slots, as the fleet table shows them. */
  const listKiosks = async (ids?: readonly string[]) => {
    const list = await store.transaction(async (tx) => {
      const all = ids
        ? await Promise.all(ids.map((id) => tx.kiosks.get(id)))
        : await tx.kiosks.list();
      const kiosks = all.filter((k) => k !== undefined);
      return Promise.all(kiosks.map(async (k) => ({ k, slots: await tx.slots.list(k.id) })));
    });
    return list.map(({ k, slots }) => kioskView(k, hub.connectedInCluster(k), slots));
  };

  app.post(
    '/api/operator/kiosks',
    route({
      method: 'POST',
      summary: 'Create a kiosk: answers its one-time enrolment token',
      description:
        'The kiosk enrols with the token (`kioskctl enrol`, POST /api/kiosks/enrol) and gets its secret.',
      tags,
      access: 'operator',
      body: CreateKioskBody,
      response: { 201: KioskCreated },
      errors: ['KIOSK_EXISTS', 'INVALID_ID'],
    }),
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

  app.get(
    '/api/operator/kiosks',
    route({
      method: 'GET',
      summary: 'Every kiosk with its connection and slots',
      tags,
      access: 'operator',
      response: { 200: KiosksList },
    }),
    async () => ({ kiosks: await listKiosks() }),
  );

  app.get(
    '/api/operator/fleet/events',
    route({
      method: 'GET',
      summary: 'The fleet (or one kiosk) as Server-Sent Events, then the kiosks that changed',
      description:
        'One `event: kiosks` message with `data: {"kiosks": [<OpsKiosk>, ...]}` (as GET /api/operator/kiosks answers, or only kiosk `kiosk`) at once; then, after changes a kiosk reports (connection, Boot, Inventory, events, command states, to whichever hub process of a cluster it is connected), `event: kiosksChanged` with `data: {"kiosks": [<OpsKiosk>, ...]}` holding only the kiosks that changed (replace them by `id`; a new id is a new kiosk). The whole list comes again as `event: kiosks` when changes may have been missed (the cluster link was re-made) or more than 500 kiosks changed at once. `: keep-alive` comments every 15 s.',
      tags,
      access: 'operator',
      querystring: FleetEventsQuery,
      response: { 200: EventStream('kiosks', 'OpsKiosk') },
      errors: ['NOT_FOUND'],
    }),
    async (req, reply) => {
      const only = req.query.kiosk;
      if (only) await mustGetKiosk(only);
      // The whole list once, then only the kiosks that changed (the changes name them).
      await streamChangedItems(req, reply, {
        emitter: hub,
        change: 'fleetChange',
        resync: 'fleetResync',
        name: 'kiosks',
        loadAll: () => listKiosks(only ? [only] : undefined),
        loadSome: (ids) => listKiosks(ids),
        ...(only ? { accept: (id: string) => id === only } : {}),
      });
    },
  );

  app.get(
    '/api/operator/kiosks/:id',
    route({
      method: 'GET',
      summary: 'One kiosk with its slots',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: KioskAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => {
      const k = await mustGetKiosk(req.params.id);
      const slots = await store.transaction((tx) => tx.slots.list(k.id));
      return { kiosk: kioskView(k, hub.connectedInCluster(k), slots) };
    },
  );

  app.get(
    '/api/operator/kiosks/:id/sticker',
    route({
      method: 'GET',
      summary: "The kiosk's QR sticker: its landing URL (/k/<id>) as SVG and PNG",
      description:
        'The QR code (error correction M, quiet zone 4 modules) holds `<publicUrl origin>/k/<id>`, or the origin this request came to when `publicUrl` is not set.',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: StickerAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => {
      const k = await mustGetKiosk(req.params.id);
      const origin = deps.publicOrigin ?? `${req.protocol}://${req.host}`;
      const s = await makeSticker(origin, { id: k.id, name: k.name || k.id });
      return { url: s.url, svg: s.svg, png: s.png.toString('base64') };
    },
  );

  app.post(
    '/api/operator/kiosks/:id/rotate-secret',
    route({
      method: 'POST',
      summary: 'A new enrolment token for a kiosk (its secret is replaced when it enrols again)',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: IssuedToken },
      errors: ['NOT_FOUND', 'KIOSK_REVOKED'],
    }),
    async (req) => registry.rotateSecret(req.params.id),
  );

  app.post(
    '/api/operator/kiosks/:id/revoke',
    route({
      method: 'POST',
      summary: 'Revoke a kiosk: its connection closes and its credentials stop working',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: KioskAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => {
      const k = await registry.revoke(req.params.id);
      return { kiosk: kioskView(k, hub.connectedInCluster(k)) };
    },
  );

  app.post(
    '/api/operator/kiosks/:id/commands',
    route({
      method: 'POST',
      summary: 'Send a maintenance command to a kiosk (queued until it is delivered or expires)',
      description:
        "`payload` is checked against the action's schema (docs/schemas/hub-to-kiosk/); `DisableSlot` needs a `reason` (what the dashboard asks for). Audited (`command.sent`, with the action, payload and who sent it). Follow the command with GET /api/operator/commands/{id}.",
      tags,
      access: 'operator',
      params: FleetIdParams,
      body: CommandBody,
      response: { 202: CommandAnswer },
      errors: ['VALIDATION', 'NOT_FOUND'],
    }),
    async (req, reply) => {
      const { action, payload } = req.body;
      const probe = { ...payload, commandId: randomUUID() };
      const schema = hubToKioskActions[action].request;
      const first = Value.Errors(schema, probe).First();
      const noReason =
        action === 'DisableSlot' && !String(payload.reason ?? '').trim()
          ? '/reason: say why the slot is disabled'
          : undefined;
      if (first || 'commandId' in payload || noReason) {
        const where = first
          ? `${first.path || '/'}: ${first.message}`
          : (noReason ?? '/commandId: set by the hub');
        throw new HubError('VALIDATION', `invalid ${action} payload at ${where}`, 400);
      }
      await mustGetKiosk(req.params.id);
      const ttl = req.body.ttlSeconds ?? deps.commandDefaultTtlSeconds;
      const now = new Date();
      const cmd = await store.transaction(async (tx) => {
        const c = await hub.commands.record(
          tx,
          req.params.id,
          action,
          payload as never,
          new Date(now.getTime() + ttl * 1000),
        );
        await audit(tx, actorOf(req), now.toISOString(), 'command.sent', req.params.id, {
          commandId: c.id,
          action,
          payload,
        });
        return c;
      });
      reply.status(202);
      return { command: commandView(cmd) };
    },
  );

  app.get(
    '/api/operator/kiosks/:id/commands',
    route({
      method: 'GET',
      summary: "A kiosk's commands, newest first",
      tags,
      access: 'operator',
      params: FleetIdParams,
      querystring: CommandListQuery,
      response: { 200: CommandsList },
      errors: ['NOT_FOUND'],
    }),
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

  app.get(
    '/api/operator/kiosks/:id/events',
    route({
      method: 'GET',
      summary: "A kiosk's events in seq order",
      tags,
      access: 'operator',
      params: FleetIdParams,
      querystring: EventListQuery,
      response: { 200: EventsList },
      errors: ['NOT_FOUND'],
    }),
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

  app.get(
    '/api/operator/commands/:id',
    route({
      method: 'GET',
      summary: 'One command and its state',
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: CommandAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => {
      const c = await hub.commands.get(req.params.id);
      if (!c) throw new NotFoundError(`command ${req.params.id} does not exist`);
      return { command: commandView(c) };
    },
  );
}
