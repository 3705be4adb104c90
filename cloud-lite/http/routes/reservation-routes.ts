import type { FastifyInstance } from 'fastify';
import type { OrderInput } from '../../rental/orders/orders.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { TERMINAL_RESERVATION_STATES } from '../../rental/reservations/reservation-view.js';
import { actorOf } from '../guard.js';
import { EventsQuery, IdempotencyHeaders, IdParams, OrderBody } from '../schemas/rental.js';
import { streamChanges } from '../sse.js';

const LIMIT = 16 * 1024;

/** Reservations (4th/5th instructions), their live stream, cancel and pickup. */
export function registerReservationRoutes(app: FastifyInstance, d: RentalDomain): void {
  app.post<{ Body: OrderInput; Headers: { 'idempotency-key': string } }>(
    '/api/reservations',
    {
      config: { access: 'account' },
      bodyLimit: LIMIT,
      schema: { body: OrderBody, headers: IdempotencyHeaders },
    },
    async (req, reply) => {
      const out = await d.reservations.create(
        req.who!,
        req.body,
        req.headers['idempotency-key'],
        actorOf(req),
      );
      reply.status(out.created ? 201 : 200);
      return { reservation: out.reservation };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/reservations/:id',
    { config: { access: 'account' }, schema: { params: IdParams } },
    async (req) => ({ reservation: await d.reservations.get(req.who!, req.params.id) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/reservations/:id/events',
    {
      config: { access: 'account' },
      schema: { params: IdParams, querystring: EventsQuery },
    },
    async (req, reply) => {
      await d.reservations.get(req.who!, req.params.id);
      await streamChanges(req, reply, {
        notifier: d.notifier,
        name: 'reservation',
        id: req.params.id,
        load: () => d.reservations.get(req.who!, req.params.id).catch(() => undefined),
        terminal: TERMINAL_RESERVATION_STATES,
      });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/reservations/:id/cancel',
    { config: { access: 'account' }, schema: { params: IdParams } },
    async (req) => ({
      reservation: await d.reservations.cancel(req.who!, req.params.id, actorOf(req)),
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/api/reservations/:id/pickup',
    { config: { access: 'account' }, schema: { params: IdParams } },
    async (req) => d.reservations.pickup(req.who!, req.params.id, actorOf(req)),
  );
}
