import type { FastifyInstance } from 'fastify';
import { TERMINAL_ORDER_STATES } from '../../rental/orders/order-view.js';
import type { OrderInput } from '../../rental/orders/orders.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf } from '../guard.js';
import {
  EventsQuery,
  ExtendBody,
  ExtendQuoteQuery,
  IdempotencyHeaders,
  IdParams,
  OptionalIdempotencyHeaders,
  OrderBody,
} from '../schemas/rental.js';
import { streamChanges } from '../sse.js';

const LIMIT = 16 * 1024;

/** Orders (2nd/3rd instructions), their live stream, and rental extension (quote, extend). */
export function registerOrderRoutes(app: FastifyInstance, d: RentalDomain): void {
  app.post<{ Body: OrderInput; Headers: { 'idempotency-key': string } }>(
    '/api/orders',
    {
      config: { access: 'account' },
      bodyLimit: LIMIT,
      schema: { body: OrderBody, headers: IdempotencyHeaders },
    },
    async (req, reply) => {
      const out = await d.orders.create(
        req.who!,
        req.body,
        req.headers['idempotency-key'],
        actorOf(req),
      );
      reply.status(out.created ? 201 : 200);
      return { order: out.order };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/orders/:id',
    { config: { access: 'account' }, schema: { params: IdParams } },
    async (req) => ({
      order: await d.orders.get(req.who!, req.params.id),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/orders/:id/events',
    {
      config: { access: 'account' },
      schema: { params: IdParams, querystring: EventsQuery },
    },
    async (req, reply) => {
      await d.orders.get(req.who!, req.params.id);
      await streamChanges(req, reply, {
        notifier: d.notifier,
        name: 'order',
        id: req.params.id,
        load: () => d.orders.get(req.who!, req.params.id).catch(() => undefined),
        terminal: TERMINAL_ORDER_STATES,
      });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { days: number } }>(
    '/api/rentals/:id/extension-quote',
    { config: { access: 'account' }, schema: { params: IdParams, querystring: ExtendQuoteQuery } },
    async (req) => ({
      quote: await d.extensions.quote(req.who!.userId, req.params.id, req.query.days),
    }),
  );

  app.post<{
    Params: { id: string };
    Body: { days: number; quotedAmountMinor?: number };
    Headers: { 'idempotency-key'?: string };
  }>(
    '/api/rentals/:id/extend',
    {
      config: { access: 'account' },
      bodyLimit: LIMIT,
      schema: { params: IdParams, body: ExtendBody, headers: OptionalIdempotencyHeaders },
    },
    async (req) => ({
      rental: await d.extensions.extend(
        req.who!.userId,
        req.params.id,
        req.body.days,
        actorOf(req),
        {
          idempotencyKey: req.headers['idempotency-key'],
          quotedAmountMinor: req.body.quotedAmountMinor,
        },
      ),
    }),
  );
}
