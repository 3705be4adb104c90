import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { audit } from '../../audit.js';
import type { RefusalReason } from '../../error-codes.js';
import type { RentalAmounts } from '../../rental/billing/rental-settings.js';
import type { RentalConfig } from '../../rental/config.js';
import { RentalError } from '../../rental/errors.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { Throttle } from '../../store/throttle.js';
import type { Tx } from '../../store/types.js';
import { sendError } from '../errors.js';
import { actorOf } from '../guard.js';
import { route } from '../schemas/common.js';
import {
  ContentPackage,
  KioskOffer,
  KioskSession,
  NearbyKiosk,
  Terms,
} from '../schemas/components.js';
import { IdParams, NearQuery } from '../schemas/rental.js';

/** Public offer lookups one client address may make per minute (GET /api/kiosks/{id}/offer). */
export const OFFER_LIMIT = { max: 120, windowSeconds: 60 };

/**
 * The rental terms a renter reads before paying: the stored rental settings (deposit, late
 * fee, lost-disk charge; edited on /ops) and the rest of the hub's rental config.
 */
export function termsOf(c: RentalConfig, s: RentalAmounts) {
  return {
    currency: c.currency,
    depositMinor: s.depositMinor,
    overdueFeePerDayMinor: s.overdueFeePerDayMinor,
    overdueMaxDays: c.overdueMaxDays,
    lostDiskChargeMinor: s.lostDiskChargeMinor,
    pickupWindowSeconds: c.pickupWindowSeconds,
    holdWindowSeconds: c.holdWindowSeconds,
    noShowFeeMinor: c.noShowFeeMinor,
    ...(c.termsUrl ? { termsUrl: c.termsUrl } : {}),
    ...(c.privacyUrl ? { privacyUrl: c.privacyUrl } : {}),
  };
}

/** The disk types a kiosk offers, with content titles and what is ready and reservable now. */
async function offeredTypes(d: RentalDomain, tx: Tx, kioskId: string) {
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
  return diskTypes;
}

/**
 * A kiosk's public offer (name, address, online, disk types with stock, terms), as GET
 * /api/kiosks/{id}/offer answers it and as the kiosk's QR page (/k/<id>) shows it, or the
 * refusal: KIOSK_NOT_FOUND, or TOO_MANY_ATTEMPTS (OFFER_LIMIT per client address; the count
 * is kept in the store, so the API and the page share it).
 */
export function offerLookup(d: RentalDomain) {
  const throttle = new Throttle();
  return async (
    kioskId: string,
    clientIp: string,
  ): Promise<
    | { offer: Static<typeof KioskOffer> }
    | {
        error: {
          status: number;
          code: 'KIOSK_NOT_FOUND' | 'TOO_MANY_ATTEMPTS';
          message: string;
          details?: Record<string, unknown>;
        };
      }
  > => {
    const limits = [{ key: `offer:${clientIp}`, ...OFFER_LIMIT }];
    const retry = await d.deps.store.transaction((tx) => throttle.take(tx, limits, d.now()));
    if (retry > 0) {
      return {
        error: {
          status: 429,
          code: 'TOO_MANY_ATTEMPTS',
          message: `too many requests; try again in ${retry} s`,
          details: { retryAfterSeconds: retry },
        },
      };
    }
    return d.deps.store.transaction(async (tx) => {
      const k = await tx.kiosks.get(kioskId);
      if (!k || k.revokedAt) {
        const message = `kiosk ${kioskId} does not exist`;
        return { error: { status: 404, code: 'KIOSK_NOT_FOUND' as const, message } };
      }
      const site = await tx.sites.get(kioskId);
      return {
        offer: {
          kiosk: {
            id: k.id,
            name: site?.name ?? k.name,
            address: site?.address ?? '',
            online: d.deps.hub.canServe(k),
            lat: site?.lat ?? null,
            lng: site?.lng ?? null,
          },
          diskTypes: await offeredTypes(d, tx, kioskId),
          terms: termsOf(d.deps.config, await d.settings.get(tx)),
        },
      };
    });
  };
}

/** Content, kiosks near a place, a kiosk's public offer, the terms, and the kiosk session (1st instruction). */
export function registerCatalogRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['catalog'];
  const lookup = offerLookup(d);
  app.get(
    '/api/terms',
    route({
      method: 'GET',
      summary: "The hub's rental terms: currency, deposit, late fee, lost-disk charge, windows",
      description:
        'What the renter pages state before anyone pays: the deposit, late fee and lost-disk charge from the stored rental settings (GET/POST /api/operator/rental-settings), the rest from the rental configuration. A rental keeps the late fee and lost-disk charge it was paid under.',
      tags,
      access: 'public',
      response: { 200: Type.Ref(Terms) },
    }),
    async () => termsOf(d.deps.config, await d.settings.current()),
  );

  app.get(
    '/api/kiosks/:id/offer',
    route({
      method: 'GET',
      summary:
        'What a kiosk offers, before login: name, address, online, disk types, prices, stock, terms',
      description:
        "What the kiosk's QR code page shows before it asks anyone to log in. Public, so limited per client address (TOO_MANY_ATTEMPTS with retryAfterSeconds, 120 a minute).",
      tags,
      access: 'public',
      params: IdParams,
      response: { 200: Type.Ref(KioskOffer) },
      errors: ['KIOSK_NOT_FOUND', 'TOO_MANY_ATTEMPTS'],
    }),
    async (req, reply) => {
      const r = await lookup(req.params.id, req.ip);
      if ('offer' in r) return r.offer;
      return sendError(reply, r.error.status, r.error.code, r.error.message, r.error.details);
    },
  );

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
        const diskTypes = await offeredTypes(d, tx, kioskId);
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
