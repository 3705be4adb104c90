import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { audit } from '../../audit.js';
import type { RefusalReason } from '../../error-codes.js';
import { RentalError } from '../../rental/errors.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf } from '../guard.js';
import { route } from '../schemas/common.js';
import { ContentPackage, KioskSession, NearbyKiosk } from '../schemas/components.js';
import { IdParams, NearQuery } from '../schemas/rental.js';

/** Content, kiosks near a place, and the kiosk session (1st instruction). */
export function registerCatalogRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['catalog'];
  app.get(
    '/api/content',
    route({
      method: 'GET',
      summary: 'The content packages (titles and collections) disks can carry',
      tags,
      access: 'public',
      response: { 200: Type.Array(Type.Ref(ContentPackage)) },
    }),
    async () =>
      (await d.catalog.listContent()).map((c) => ({
        id: c.id,
        title: c.title,
        version: c.version,
        sizeBytes: c.sizeBytes,
        description: c.description,
      })),
  );

  app.get(
    '/api/kiosks',
    route({
      method: 'GET',
      summary: 'Kiosks with a site, nearest first (4th instruction: choose a kiosk by location)',
      description:
        '`near=lat,lng` sorts by distance and fills distanceMeters; without it, every kiosk with a site by id. Each lists what it has ready per disk type and how many reservations it can still take.',
      tags,
      access: 'public',
      querystring: NearQuery,
      response: { 200: Type.Array(Type.Ref(NearbyKiosk)) },
      errors: ['VALIDATION'],
    }),
    async (req) => {
      let near: { lat: number; lng: number } | undefined;
      if (req.query.near) {
        const [lat, lng] = req.query.near.split(',').map(Number) as [number, number];
        if (Math.abs(lat) > 90 || Math.abs(lng) > 180)
          throw new RentalError('VALIDATION', 'near must be lat,lng in degrees', 400);
        near = { lat, lng };
      }
      return d.catalog.nearby(near, req.query.limit ?? 50);
    },
  );

  app.post(
    '/api/kiosks/:id/session',
    route({
      method: 'POST',
      summary: 'A renter at a kiosk (1st instruction): may I rent here, and what',
      description:
        "The kiosk id comes from its QR code. Answers whether the renter may rent (canRent, reasons) or reserve (canReserve, reserveReasons) here now, the disk types the kiosk offers with what is ready and reservable, and the renter's reservations at this kiosk (a ready one is picked up with POST /api/reservations/{id}/pickup). Send `{}` or no body.",
      tags,
      access: 'account',
      params: IdParams,
      response: { 200: Type.Ref(KioskSession) },
      errors: ['KIOSK_NOT_FOUND'],
    }),
    async (req) => {
      const userId = req.who!.userId;
      const kioskId = req.params.id;
      return d.deps.store.transaction(async (tx) => {
        const k = await tx.kiosks.get(kioskId);
        if (!k || k.revokedAt)
          throw new RentalError('KIOSK_NOT_FOUND', `kiosk ${kioskId} does not exist`, 404);
        const site = await tx.sites.get(kioskId);
        const online = d.deps.hub.canServe(k);
        // Why the renter cannot rent (reserve) here now: their standing and limits, and the
        // kiosk (KIOSK_OFFLINE).
        const kiosk: RefusalReason[] = online ? [] : ['KIOSK_OFFLINE'];
        const reasons = [...(await d.deposits.reasons(tx, userId)), ...kiosk];
        const reserveReasons = [...(await d.deposits.reasons(tx, userId, 'reserve')), ...kiosk];
        const diskTypes = [];
        for (const t of await d.catalog.offered(tx, kioskId)) {
          const content = await tx.content.get(t.contentId);
          diskTypes.push({
            id: t.id,
            capacityBytes: t.capacityBytes,
            contentId: t.contentId,
            contentTitle: content?.title ?? t.contentId,
            contentVersion: content?.version,
            writeProtect: t.writeProtect,
            pricePerDayMinor: t.pricePerDayMinor,
            currency: t.currency,
            defaultDays: t.defaultDays,
            maxDays: t.maxDays,
            available: (await d.catalog.readySlots(tx, kioskId, t)).length,
            reservable: await d.catalog.reservable(tx, kioskId, t),
          });
        }
        await audit(
          tx,
          { ...actorOf(req), kioskId },
          d.now().toISOString(),
          'kiosk.session',
          kioskId,
          { canRent: reasons.length === 0 },
        );
        return {
          kiosk: {
            id: k.id,
            name: site?.name ?? k.name,
            address: site?.address ?? '',
            online,
          },
          canRent: reasons.length === 0,
          reasons,
          canReserve: reserveReasons.length === 0,
          reserveReasons,
          diskTypes,
          reservations: await d.reservations.forSession(tx, userId, kioskId),
        };
      });
    },
  );
}
