import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { TERMINAL_ORDER_STATES } from '../../rental/orders/order-view.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf } from '../guard.js';
import { EventStream, route } from '../schemas/common.js';
import { OrderAnswer, QuoteAnswer, RentalAnswer } from '../schemas/components.js';
import {
  EventsQuery,
  ExtendBody,
  ExtendQuoteQuery,
  IdempotencyHeaders,
  IdParams,
  OptionalIdempotencyHeaders,
  OrderBody,
  PAYMENT_ERRORS,
  RENT_ERRORS,
} from '../schemas/rental.js';
import { streamChanges } from '../sse.js';

const LIMIT = 16 * 1024;

/** Orders (2nd/3rd instructions), their live stream, and rental extension (quote, extend). */
export function registerOrderRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['orders'];
  app.post(
    '/api/orders',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Rent a disk at a kiosk now (2nd/3rd instructions): pay, and the kiosk dispenses',
        description:
          'Authorises the rental price (`card`: a payment-method id from the provider\'s card form, `{"paymentMethod": "pm_…"}` (GET /api/payments/config says how to get one; card details are refused, CARD_DATA_REFUSED), or `{"useSaved": true}`), then the kiosk dispenses a disk of the type; follow the order with GET /api/orders/{id}/events (or poll GET /api/orders/{id}) until completed (the disk is out and the rental runs: `rentalId`), failed or cancelled (the payment is voided). 201: a new order; 200: the same Idempotency-Key and body again, the same order.',
        tags,
        access: 'account',
        headers: IdempotencyHeaders,
        body: OrderBody,
        response: { 201: OrderAnswer, 200: OrderAnswer },
        errors: RENT_ERRORS,
      }),
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

  app.get(
    '/api/orders/:id',
    route({
      method: 'GET',
      summary: 'One of my orders and its steps',
      tags,
      access: 'account',
      params: IdParams,
      response: { 200: OrderAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => ({
      order: await d.orders.get(req.who!, req.params.id),
    }),
  );

  app.get(
    '/api/orders/:id/events',
    route({
      method: 'GET',
      summary: "An order's live state (Server-Sent Events)",
      description:
        'One `event: order` message with `data: {"order": <Order>}` at once and after every change; the stream ends after the first message in a terminal state (completed, failed, cancelled). `: keep-alive` comments every 15 s.',
      tags,
      access: 'account',
      params: IdParams,
      querystring: EventsQuery,
      response: { 200: EventStream('order', 'Order') },
      errors: ['NOT_FOUND'],
    }),
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

  app.post(
    '/api/orders/:id/not-received',
    route({
      method: 'POST',
      summary: "I didn't get my disk: the renter reports that the order's disk never reached them",
      description:
        'Raises a NOT_RECEIVED flag for an operator (once per order; listed by GET /api/operator/reconciliation) and audits it. Moves no money: the payment follows what the kiosk reports (taken: captured; not taken, or unreachable past the hold: voided). Send `{}` or no body.',
      tags,
      access: 'account',
      params: IdParams,
      response: { 200: OrderAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => ({
      order: await d.orders.reportNotReceived(req.who!, req.params.id, actorOf(req)),
    }),
  );

  app.get(
    '/api/rentals/:id/extension-quote',
    route({
      method: 'GET',
      summary: 'What `days` more would cost and give (nothing is charged)',
      description:
        'Pays with the saved card if there is one, else from the deposit (`payWith`). Send the quoted `amountMinor` back as `quotedAmountMinor` to extend at that price.',
      tags: ['rentals'],
      access: 'account',
      params: IdParams,
      querystring: ExtendQuoteQuery,
      response: { 200: QuoteAnswer },
      errors: ['NOT_FOUND', 'RENTAL_CLOSED', 'RENTAL_TOO_LONG', 'VALIDATION'],
    }),
    async (req) => ({
      quote: await d.extensions.quote(req.who!.userId, req.params.id, req.query.days),
    }),
  );

  app.post(
    '/api/rentals/:id/extend',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Extend an open rental by `days` (pays with the saved card or the deposit)',
        description:
          'The due date moves once the payment is captured (`pendingExtensionDays` until then). With `quotedAmountMinor`, refused (QUOTE_CHANGED with the new `amountMinor`) if the price moved. An optional Idempotency-Key makes a retry the same extension.',
        tags: ['rentals'],
        access: 'account',
        params: IdParams,
        headers: OptionalIdempotencyHeaders,
        body: ExtendBody,
        response: { 200: RentalAnswer },
        errors: [
          'VALIDATION',
          'NOT_FOUND',
          'RENTAL_CLOSED',
          'RENTAL_TOO_LONG',
          'QUOTE_CHANGED',
          'IDEMPOTENCY_MISMATCH',
          'NO_PAYMENT_METHOD',
          ...PAYMENT_ERRORS,
        ],
      }),
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
