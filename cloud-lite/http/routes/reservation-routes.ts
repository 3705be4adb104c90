import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { TERMINAL_RESERVATION_STATES } from '../../rental/reservations/reservation-view.js';
import { actorOf } from '../guard.js';
import { EventStream, route } from '../schemas/common.js';
import { PickupAnswer, ReservationAnswer } from '../schemas/components.js';
import {
  EventsQuery,
  IdempotencyHeaders,
  IdParams,
  OrderBody,
  RENT_ERRORS,
} from '../schemas/rental.js';
import { streamChanges } from '../sse.js';

const LIMIT = 16 * 1024;

/** Reservations (4th/5th instructions), their live stream, cancel and pickup. */
export function registerReservationRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['reservations'];
  app.post(
    '/api/reservations',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Reserve a disk at a kiosk (4th instruction): pay, and the kiosk prepares it',
        description:
          'The same body as an order. The kiosk writes the content to a disk (`state: preparing`, `progress`), then holds it until `holdUntil` (`ready`); pick it up at the kiosk with POST /api/reservations/{id}/pickup. Cancelling before pickup voids the payment (fees may apply, `fees`). 201: a new reservation; 200: the same Idempotency-Key and body again.',
        tags,
        access: 'account',
        headers: IdempotencyHeaders,
        body: OrderBody,
        response: { 201: ReservationAnswer, 200: ReservationAnswer },
        errors: RENT_ERRORS,
      }),
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

  app.get(
    '/api/reservations/:id',
    route({
      method: 'GET',
      summary: 'One of my reservations',
      tags,
      access: 'account',
      params: IdParams,
      response: { 200: ReservationAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => ({ reservation: await d.reservations.get(req.who!, req.params.id) }),
  );

  app.get(
    '/api/reservations/:id/events',
    route({
      method: 'GET',
      summary: "A reservation's live state and preparation progress (Server-Sent Events)",
      description:
        'One `event: reservation` message with `data: {"reservation": <Reservation>}` at once and after every change (progress included); the stream ends after the first message in a terminal state (picked_up, cancelled, expired, failed). `: keep-alive` comments every 15 s.',
      tags,
      access: 'account',
      params: IdParams,
      querystring: EventsQuery,
      response: { 200: EventStream('reservation', 'Reservation') },
      errors: ['NOT_FOUND'],
    }),
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

  app.post(
    '/api/reservations/:id/cancel',
    route({
      method: 'POST',
      summary: 'Cancel a reservation before pickup (the payment is voided; fees may apply)',
      tags,
      access: 'account',
      params: IdParams,
      response: { 200: ReservationAnswer },
      errors: ['NOT_FOUND', 'RESERVATION_CLOSED', 'PICKUP_IN_PROGRESS', 'PICKUP_CODE_OFFLINE'],
    }),
    async (req) => ({
      reservation: await d.reservations.cancel(req.who!, req.params.id, actorOf(req)),
    }),
  );

  app.post(
    '/api/reservations/:id/pickup',
    route({
      method: 'POST',
      summary: 'Pick up a ready reservation at the kiosk (5th instruction): the kiosk dispenses it',
      description:
        'Answers the pickup order; follow it like any order (GET /api/orders/{id}/events). Calling again while it runs answers the same order.',
      tags,
      access: 'account',
      params: IdParams,
      response: { 200: PickupAnswer },
      errors: ['NOT_FOUND', 'RESERVATION_NOT_READY', 'KIOSK_OFFLINE'],
    }),
    async (req) => d.reservations.pickup(req.who!, req.params.id, actorOf(req)),
  );
}
