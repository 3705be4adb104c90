import type { FastifyInstance, FastifyReply } from 'fastify';
import { userView } from '../../rental/accounts/accounts.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf, SESSION_COOKIE } from '../guard.js';
import {
  ConfirmRegistrationBody,
  DepositBody,
  LoginBody,
  RegisterBody,
} from '../schemas/rental.js';

const LIMIT = 16 * 1024;

/** Register, login, logout, me, deposit, my lists. */
export function registerAccountRoutes(app: FastifyInstance, d: RentalDomain): void {
  const setCookie = (reply: FastifyReply, token: string, secure: boolean) =>
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${d.deps.config.sessionTtlSeconds}${secure ? '; Secure' : ''}`,
    );

  // The same answer for a new and a taken login: the difference reaches only the owner.
  app.post<{ Body: { email?: string; phone?: string; password: string; name?: string } }>(
    '/api/auth/register',
    { config: { access: 'public' }, bodyLimit: LIMIT, schema: { body: RegisterBody } },
    async (req, reply) => {
      await d.accounts.register(req.body, req.ip);
      reply.status(202);
      return {
        status: 'confirmation-sent',
        message: 'we sent a link to this e-mail address or phone; open it to finish',
      };
    },
  );

  app.post<{ Body: { token: string } }>(
    '/api/auth/register/confirm',
    { config: { access: 'public' }, bodyLimit: LIMIT, schema: { body: ConfirmRegistrationBody } },
    async (req, reply) => {
      const { token, user } = await d.accounts.confirmRegistration(req.body.token, req.ip);
      setCookie(reply, token, req.protocol === 'https');
      reply.status(201);
      return { token, user: userView(user) };
    },
  );

  app.post<{ Body: { login: string; password: string } }>(
    '/api/auth/login',
    { config: { access: 'public' }, bodyLimit: LIMIT, schema: { body: LoginBody } },
    async (req, reply) => {
      const { token, user } = await d.accounts.login(req.body.login, req.body.password, req.ip);
      setCookie(reply, token, req.protocol === 'https');
      return { token, user: userView(user) };
    },
  );

  app.post('/api/auth/logout', { config: { access: 'account' } }, async (req, reply) => {
    await d.accounts.logout(req.who!.token!, actorOf(req));
    reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return reply.status(204).send();
  });

  app.get('/api/me', { config: { access: 'account' } }, async (req) => {
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
  });

  app.post<{
    Body: {
      amountMinor: number;
      card: { number: string; expMonth: number; expYear: number; cvc: string };
      saveCard?: boolean;
    };
  }>(
    '/api/me/deposit',
    { config: { access: 'account' }, bodyLimit: LIMIT, schema: { body: DepositBody } },
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

  app.post('/api/me/deposit/refund', { config: { access: 'account' } }, async (req) => ({
    deposit: await d.deposits.refund(req.who!.userId, actorOf(req)),
  }));

  app.get('/api/me/orders', { config: { access: 'account' } }, async (req) =>
    d.orders.listForUser(req.who!.userId),
  );
  app.get('/api/me/reservations', { config: { access: 'account' } }, async (req) =>
    d.reservations.listForUser(req.who!.userId),
  );
  app.get('/api/me/rentals', { config: { access: 'account' } }, async (req) =>
    d.rentals.listForUser(req.who!.userId),
  );
}
