import type { FastifyInstance } from 'fastify';
import { audit } from '../../rental/audit/audit.js';
import { RentalError } from '../../rental/errors.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { actorOf } from '../guard.js';
import { IdParams, NearQuery } from '../schemas/rental.js';

/** Content, kiosks near a place, and the kiosk session (1st instruction). */
export function registerCatalogRoutes(app: FastifyInstance, d: RentalDomain): void {
  app.get('/api/content', { config: { access: 'public' } }, async () =>
    (await d.catalog.listContent()).map((c) => ({
      id: c.id,
      title: c.title,
      version: c.version,
      sizeBytes: c.sizeBytes,
      description: c.description,
    })),
  );

  app.get<{ Querystring: { near?: string; limit?: number } }>(
    '/api/kiosks',
    { config: { access: 'public' }, schema: { querystring: NearQuery } },
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

  app.post<{ Params: { id: string } }>(
    '/api/kiosks/:id/session',
    { config: { access: 'account' }, schema: { params: IdParams } },
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
        const kiosk = online ? [] : ['KIOSK_OFFLINE'];
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
