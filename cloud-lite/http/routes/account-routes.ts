import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { acceptLanguage } from '../../notifications/renter-mail-text.js';
import { userView } from '../../rental/accounts/accounts.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf, SESSION_COOKIE } from '../guard.js';
import { Exact, route } from '../schemas/common.js';
import { Deposit, Me, Order, Rental, Reservation, Session } from '../schemas/components.js';
import {
  ConfirmRegistrationBody,
  DepositBody,
  LoginBody,
  PAYMENT_ERRORS,
  RegisterBody,
} from '../schemas/rental.js';

const LIMIT = 16 * 1024;
const tags = ['accounts'];
const DepositAnswer = Exact({ deposit: Type.Ref(Deposit) });

/** Register, login, logout, me, deposit, my lists. */
export function registerAccountRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const setCookie = (reply: FastifyReply, token: string, secure: boolean) =>
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${d.deps.config.sessionTtlSeconds}${secure ? '; Secure' : ''}`,
    );

  // The same answer for a new and a taken login: the difference reaches only the owner.
  app.post(
    '/api/auth/register',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Ask for an account: a confirmation link goes to the e-mail or phone',
        description:
          "The same answer whether the login is new or taken (the difference reaches only the owner of the address). The link is `<publicUrl>/register/confirm#<token>`; post its token to /api/auth/register/confirm. The mail is in `language` (else the Accept-Language header's en or zh-CN), which the account keeps for all its e-mails (GET/POST /api/me/notifications).",
        tags,
        access: 'public',
        body: RegisterBody,
        response: {
          202: Exact({
            status: Type.Literal('confirmation-sent'),
            message: Type.String(),
          }),
        },
        errors: ['VALIDATION', 'WEAK_PASSWORD', 'TOO_MANY_ATTEMPTS', 'BUSY'],
      }),
    },
    async (req, reply) => {
      const language = req.body.language ?? acceptLanguage(req.headers['accept-language']);
      await d.accounts.register({ ...req.body, language }, req.ip);
      reply.status(202);
      return {
        status: 'confirmation-sent' as const,
        message: 'we sent a link to this e-mail address or phone; open it to finish',
      };
    },
  );

  app.post(
    '/api/auth/register/confirm',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: "Confirm a registration with the link's token: creates the renter and logs in",
        description: 'Sets the dk_session cookie; the answer carries the session token too.',
        tags,
        access: 'public',
        body: ConfirmRegistrationBody,
        response: { 201: Type.Ref(Session) },
        errors: ['REGISTRATION_INVALID', 'TOO_MANY_ATTEMPTS', 'BUSY'],
      }),
    },
    async (req, reply) => {
      const { token, user } = await d.accounts.confirmRegistration(req.body.token, req.ip);
      setCookie(reply, token, req.protocol === 'https');
      reply.status(201);
      return { token, user: userView(user) };
    },
  );

  app.post(
    '/api/auth/login',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Log in with e-mail or phone and password',
        description:
          'Sets the dk_session cookie (HttpOnly, SameSite=Strict, Secure over https); API clients send the returned token as `Authorization: Bearer <token>`.',
        tags,
        access: 'public',
        body: LoginBody,
        response: { 200: Type.Ref(Session) },
        errors: ['INVALID_CREDENTIALS', 'TOO_MANY_ATTEMPTS', 'BUSY'],
      }),
    },
    async (req, reply) => {
      const { token, user } = await d.accounts.login(req.body.login, req.body.password, req.ip);
      setCookie(reply, token, req.protocol === 'https');
      return { token, user: userView(user) };
    },
  );

  app.post(
    '/api/auth/logout',
    route({
      method: 'POST',
      summary: 'End the session (the token and the cookie)',
      tags,
      access: 'account',
      response: { 204: Type.Null({ description: 'logged out' }) },
    }),
    async (req, reply) => {
      await d.accounts.logout(req.who!.token!, actorOf(req));
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
      );
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/me',
    route({
      method: 'GET',
      summary: 'Who I am, my deposit, my saved card, and whether I may rent (with the reasons)',
      tags,
      access: 'account',
      response: { 200: Type.Ref(Me) },
    }),
    async (req) => {
      const userId = req.who!.userId;
      return d.deps.store.transaction(async (tx) => {
        const user = (await tx.users.get(userId))!;
        const reasons = await d.deposits.reasons(tx, userId);
        return {
          user: userView(user),
          deposit: await d.deposits.view(tx, userId),
          savedCard: user.cardLast4 ? { last4: user.cardLast4 } : null,
          canRent: reasons.length === 0,
          reasons,
        };
      });
    },
  );

  app.post(
    '/api/me/deposit',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Top up the deposit with a card (captured at once)',
        description:
          "`card` is a payment-method id from the provider's card form (GET /api/payments/config says which); card details are refused (CARD_DATA_REFUSED). `saveCard: true` saves the card for later payments, only once this payment is authorised.",
        tags: ['payments'],
        access: 'account',
        body: DepositBody,
        response: { 200: DepositAnswer },
        errors: PAYMENT_ERRORS.filter((c) => c !== 'NO_SAVED_CARD'),
      }),
    },
    async (req) => ({
      deposit: await d.deposits.topUp(
        req.who!.userId,
        req.body.amountMinor,
        req.body.card,
        actorOf(req),
        req.body.saveCard ?? false,
      ),
    }),
  );

  app.post(
    '/api/me/deposit/refund',
    route({
      method: 'POST',
      summary: 'Refund the deposit (refused while a disk is out or an order in flight)',
      tags: ['payments'],
      access: 'account',
      response: { 200: DepositAnswer },
      errors: ['RENTAL_OPEN', 'PAYMENT_REFUSED', 'PAYMENT_UNAVAILABLE'],
    }),
    async (req) => ({
      deposit: await d.deposits.refund(req.who!.userId, actorOf(req)),
    }),
  );

  app.get(
    '/api/me/orders',
    route({
      method: 'GET',
      summary: 'My orders, newest first (at most 200)',
      tags: ['history'],
      access: 'account',
      response: { 200: Type.Array(Type.Ref(Order)) },
    }),
    async (req) => d.orders.listForUser(req.who!.userId),
  );
  app.get(
    '/api/me/reservations',
    route({
      method: 'GET',
      summary: 'My reservations, newest first (at most 200)',
      tags: ['history'],
      access: 'account',
      response: { 200: Type.Array(Type.Ref(Reservation)) },
    }),
    async (req) => d.reservations.listForUser(req.who!.userId),
  );
  app.get(
    '/api/me/rentals',
    route({
      method: 'GET',
      summary: 'My rentals with their charges',
      tags: ['history'],
      access: 'account',
      response: { 200: Type.Array(Type.Ref(Rental)) },
    }),
    async (req) => d.rentals.listForUser(req.who!.userId),
  );
}
