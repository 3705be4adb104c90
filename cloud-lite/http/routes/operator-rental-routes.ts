import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { userView } from '../../rental/accounts/accounts.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf } from '../guard.js';
import { route } from '../schemas/common.js';
import {
  AuditList,
  ContentAnswer,
  ContentList,
  DiskTypeAnswer,
  DiskTypesList,
  FlagsList,
  MissingDisksList,
  OpsOrdersList,
  RefundAnswer,
  RentalSettingsAnswer,
  ReservationsList,
  SiteAnswer,
  UserAnswer,
} from '../schemas/components.js';
import {
  ContentBody,
  DiskTypeBody,
  IdempotencyHeaders,
  IdParams,
  LimitQuery,
  OpsOrdersQuery,
  RefundBody,
  RentalSettingsBody,
  SiteBody,
  UserBody,
} from '../schemas/rental.js';

const LIMIT = 64 * 1024;

/** Operator extras: orders, reservations, catalog, kiosk sites, audit, missing disks, reconciliation, staff accounts. */
export function registerOperatorRentalRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['operations'];
  const catalog = ['catalog (operators)'];
  app.get(
    '/api/operator/orders',
    route({
      method: 'GET',
      summary: 'Recent orders of every renter, newest first (only one state with `state`)',
      description:
        'Each with its renter and `chargedMinor`, the amount actually charged (captured minus refunded; 0 for a failed order).',
      tags,
      access: 'operator',
      querystring: OpsOrdersQuery,
      response: { 200: OpsOrdersList },
    }),
    async (req) => ({ orders: await d.orders.listAll(req.query.limit ?? 200, req.query.state) }),
  );
  app.get(
    '/api/operator/reservations',
    route({
      method: 'GET',
      summary: 'Recent reservations of every renter, newest first',
      tags,
      access: 'operator',
      querystring: LimitQuery,
      response: { 200: ReservationsList },
    }),
    async (req) => ({ reservations: await d.reservations.listAll(req.query.limit ?? 200) }),
  );
  app.post(
    '/api/operator/payments/:id/refund',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary:
          'Refund captured money (an order, a fee, an extension), all or part, with a reason',
        description:
          "Audited (payment.refund_requested, with the reason); the renter's order shows it as a receipt line. The Idempotency-Key makes a repeat the same refund (200). VALIDATION (409) when the payment is not captured or the amount exceeds what is left to refund.",
        tags,
        access: 'operator',
        params: IdParams,
        headers: IdempotencyHeaders,
        body: RefundBody,
        response: { 200: RefundAnswer, 201: RefundAnswer },
        errors: ['VALIDATION', 'NOT_FOUND', 'CARD_DATA_REFUSED'],
      }),
    },
    async (req, reply) => {
      const out = await d.operatorRefunds.refund(
        req.params.id,
        req.body,
        req.headers['idempotency-key'],
        actorOf(req),
      );
      reply.status(out.created ? 201 : 200);
      return { refund: out.refund };
    },
  );
  app.get(
    '/api/operator/content',
    route({
      method: 'GET',
      summary: 'The content packages',
      tags: catalog,
      access: 'operator',
      response: { 200: ContentList },
    }),
    async () => ({ content: await d.catalog.listContent() }),
  );
  app.post(
    '/api/operator/content',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Add or replace a content package (by id)',
        tags: catalog,
        access: 'operator',
        body: ContentBody,
        response: { 201: ContentAnswer },
        errors: ['VALIDATION'],
      }),
    },
    async (req, reply) => {
      reply.status(201);
      return {
        content: await d.catalog.putContent({ description: '', ...req.body }, actorOf(req)),
      };
    },
  );
  app.get(
    '/api/operator/disk-types',
    route({
      method: 'GET',
      summary: 'The disk types (capacity, content, price, days, kiosks)',
      tags: catalog,
      access: 'operator',
      response: { 200: DiskTypesList },
    }),
    async () => ({ diskTypes: await d.catalog.listDiskTypes() }),
  );
  app.post(
    '/api/operator/disk-types',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Add or replace a disk type (by id)',
        description:
          "Defaults: currency the hub's, defaultDays 1, maxDays 30, kioskIds null (every kiosk).",
        tags: catalog,
        access: 'operator',
        body: DiskTypeBody,
        response: { 201: DiskTypeAnswer },
        errors: ['VALIDATION', 'NOT_FOUND'],
      }),
    },
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
  const settingsView = (s: Awaited<ReturnType<typeof d.settings.current>>) => ({
    depositMinor: s.depositMinor,
    overdueFeePerDayMinor: s.overdueFeePerDayMinor,
    lostDiskChargeMinor: s.lostDiskChargeMinor,
    currency: d.deps.config.currency,
    updatedAt: s.updatedAt,
    updatedBy: s.updatedBy,
  });
  app.get(
    '/api/operator/rental-settings',
    route({
      method: 'GET',
      summary: 'The rental settings: deposit, late fee per day, lost-disk charge',
      description:
        "Stored in the hub's store and read by every hub process; seeded from the config's rental.minDepositMinor, overdueFeePerDayMinor and lostDiskChargeMinor at the first start (docs/money-and-limits.md).",
      tags: catalog,
      access: 'operator',
      response: { 200: RentalSettingsAnswer },
    }),
    async () => ({ settings: settingsView(await d.settings.current()) }),
  );
  app.post(
    '/api/operator/rental-settings',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Change the deposit, the late fee per day and the lost-disk charge',
        description:
          'Applies to rentals paid from now on (and the deposit a renter needs from now on); orders, reservations and rentals already paid keep the late fee and lost-disk charge they were shown. Audited (rental_settings.saved, with the values before and after).',
        tags: catalog,
        access: 'operator',
        body: RentalSettingsBody,
        response: { 200: RentalSettingsAnswer },
        errors: ['VALIDATION'],
      }),
    },
    async (req) => ({ settings: settingsView(await d.settings.put(req.body, actorOf(req))) }),
  );
  app.post(
    '/api/operator/kiosk-sites',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: "Set a kiosk's site: name, address and position on the renters' map",
        tags: catalog,
        access: 'operator',
        body: SiteBody,
        response: { 200: SiteAnswer },
        errors: ['VALIDATION', 'NOT_FOUND'],
      }),
    },
    async (req) => ({ site: await d.catalog.putSite(req.body, actorOf(req)) }),
  );
  app.get(
    '/api/operator/audit',
    route({
      method: 'GET',
      summary: 'The audit log, newest first',
      tags,
      access: 'operator',
      querystring: LimitQuery,
      response: { 200: AuditList },
    }),
    async (req) => ({
      audit: await d.deps.store.transaction((tx) => tx.audit.list(req.query.limit ?? 200)),
    }),
  );
  app.get(
    '/api/operator/missing-disks',
    route({
      method: 'GET',
      summary: 'Disks the kiosks reported missing, newest first',
      tags,
      access: 'operator',
      querystring: LimitQuery,
      response: { 200: MissingDisksList },
    }),
    async (req) => ({ missingDisks: await d.missingDisks.list(req.query.limit ?? 200) }),
  );
  app.get(
    '/api/operator/reconciliation',
    route({
      method: 'GET',
      summary: "The reconciliation's open flags (payments and slots that disagree)",
      tags,
      access: 'staff',
      response: { 200: FlagsList },
    }),
    async () => ({ flags: await d.reconciliation.flags() }),
  );
  app.post(
    '/api/operator/reconciliation/run',
    route({
      method: 'POST',
      summary: 'Run the reconciliation now; answers the open flags',
      tags,
      access: 'operator',
      response: { 200: FlagsList },
    }),
    async () => {
      await d.reconciliation.runOnce();
      return { flags: await d.reconciliation.flags() };
    },
  );
  app.post(
    '/api/operator/users',
    {
      bodyLimit: LIMIT,
      ...route({
        method: 'POST',
        summary: 'Create an account with a role (staff accounts; admin only)',
        tags,
        access: 'admin',
        body: UserBody,
        response: { 201: UserAnswer },
        errors: ['VALIDATION', 'EMAIL_TAKEN', 'WEAK_PASSWORD'],
      }),
    },
    async (req, reply) => {
      reply.status(201);
      return { user: userView(await d.accounts.createUser(req.body, actorOf(req))) };
    },
  );
}
