import type { FastifyInstance } from 'fastify';
import { userView } from '../../rental/accounts/accounts.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import type { DiskTypeRecord, KioskSiteRecord, Role } from '../../store/types.js';
import { actorOf } from '../guard.js';
import { ContentBody, DiskTypeBody, LimitQuery, SiteBody, UserBody } from '../schemas/rental.js';

const LIMIT = 64 * 1024;

/** Operator extras: orders, reservations, catalog, kiosk sites, audit, missing disks, reconciliation, staff accounts. */
export function registerOperatorRentalRoutes(app: FastifyInstance, d: RentalDomain): void {
  app.get<{ Querystring: { limit?: number } }>(
    '/api/operator/orders',
    { config: { access: 'operator' }, schema: { querystring: LimitQuery } },
    async (req) => ({ orders: await d.orders.listAll(req.query.limit ?? 200) }),
  );
  app.get<{ Querystring: { limit?: number } }>(
    '/api/operator/reservations',
    { config: { access: 'operator' }, schema: { querystring: LimitQuery } },
    async (req) => ({ reservations: await d.reservations.listAll(req.query.limit ?? 200) }),
  );
  app.get('/api/operator/content', { config: { access: 'operator' } }, async () => ({
    content: await d.catalog.listContent(),
  }));
  app.post<{
    Body: { id: string; title: string; version: string; sizeBytes: number; description?: string };
  }>(
    '/api/operator/content',
    { config: { access: 'operator' }, bodyLimit: LIMIT, schema: { body: ContentBody } },
    async (req, reply) => {
      reply.status(201);
      return {
        content: await d.catalog.putContent({ description: '', ...req.body }, actorOf(req)),
      };
    },
  );
  app.get('/api/operator/disk-types', { config: { access: 'operator' } }, async () => ({
    diskTypes: await d.catalog.listDiskTypes(),
  }));
  app.post<{
    Body: Omit<DiskTypeRecord, 'currency' | 'defaultDays' | 'maxDays' | 'kioskIds'> &
      Partial<DiskTypeRecord>;
  }>(
    '/api/operator/disk-types',
    { config: { access: 'operator' }, bodyLimit: LIMIT, schema: { body: DiskTypeBody } },
    async (req, reply) => {
      const b = req.body;
      reply.status(201);
      return {
        diskType: await d.catalog.putDiskType(
          {
            ...b,
            currency: b.currency ?? d.deps.config.currency,
            defaultDays: b.defaultDays ?? 1,
            maxDays: b.maxDays ?? 30,
            kioskIds: b.kioskIds ?? null,
          },
          actorOf(req),
        ),
      };
    },
  );
  app.post<{ Body: KioskSiteRecord }>(
    '/api/operator/kiosk-sites',
    { config: { access: 'operator' }, bodyLimit: LIMIT, schema: { body: SiteBody } },
    async (req) => ({ site: await d.catalog.putSite(req.body, actorOf(req)) }),
  );
  app.get<{ Querystring: { limit?: number } }>(
    '/api/operator/audit',
    { config: { access: 'operator' }, schema: { querystring: LimitQuery } },
    async (req) => ({
      audit: await d.deps.store.transaction((tx) => tx.audit.list(req.query.limit ?? 200)),
    }),
  );
  app.get<{ Querystring: { limit?: number } }>(
    '/api/operator/missing-disks',
    { config: { access: 'operator' }, schema: { querystring: LimitQuery } },
    async (req) => ({ missingDisks: await d.missingDisks.list(req.query.limit ?? 200) }),
  );
  app.get('/api/operator/reconciliation', { config: { access: 'staff' } }, async () => ({
    flags: await d.reconciliation.flags(),
  }));
  app.post('/api/operator/reconciliation/run', { config: { access: 'operator' } }, async () => {
    await d.reconciliation.runOnce();
    return { flags: await d.reconciliation.flags() };
  });
  app.post<{
    Body: { email?: string; phone?: string; password: string; name?: string; role: Role };
  }>(
    '/api/operator/users',
    { config: { access: 'admin' }, bodyLimit: LIMIT, schema: { body: UserBody } },
    async (req, reply) => {
      reply.status(201);
      return { user: userView(await d.accounts.createUser(req.body, actorOf(req))) };
    },
  );
}
