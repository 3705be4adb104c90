import type { KioskCommands } from '../hub/kiosk-commands.js';
import type { Catalog } from '../rental/catalog/catalog.js';
import type { FleetStock } from '../rental/catalog/preparable.js';
import type { Tx } from '../store/types.js';
import type { AlertsConfig } from './config.js';
import type { AlertKind } from './kinds.js';

/** One live cause: an alert of `kind` for `key` (its subject: a kiosk, a slot, an order...). */
export interface Finding {
  kind: AlertKind;
  key: string;
  kioskId: string | null;
  message: string;
  details?: Record<string, unknown>;
}

/** The kinds the periodic sweep decides alone: raised while found, resolved once not. */
export const SWEPT_KINDS = [
  'kiosk_offline',
  'slot_fault',
  'zero_stock',
  'order_stuck',
  'authorisation_expiring',
  'prepare_failures',
  'cache_full',
] as const satisfies readonly AlertKind[];

export interface RuleContext {
  config: AlertsConfig;
  kiosks: KioskCommands;
  catalog: Catalog;
  now: Date;
}

const STUCK_ORDER_STATES = ['created', 'authorised', 'dispensing'] as const;
const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;

/** Groups records by their kiosk id (keeping their order). */
function byKiosk<T extends { kioskId: string }>(list: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of list) {
    const group = out.get(x.kioskId);
    if (group) group.push(x);
    else out.set(x.kioskId, [x]);
  }
  return out;
}

/**
 * The facts of the fleet now, as findings of the swept kinds (read inside `tx`). Every read is
 * one statement for the whole fleet (booted kiosks, cache use, faulted slots, recent
 * preparation failures, disk types and stock, orders, payments), so a sweep costs the same
 * number of statements with 10 kiosks as with 10,000; only a disk type's stock check reads
 * more (one rental look-up per candidate slot until one sells, and a page of ready slots per
 * STOCK_PAGE candidates read).
 */
export async function sweepFindings(tx: Tx, ctx: RuleContext): Promise<Finding[]> {
  const { config, kiosks, now } = ctx;
  const out: Finding[] = [];
  const nowMs = now.getTime();
  // Kiosks that ran once (booted) and are not revoked; one never booted is still being set up.
  // Only the fields the rules use are read (a full record per kiosk was most of a sweep's
  // garbage at 10,000 kiosks).
  const fleet = await tx.kiosks.listBooted();
  const reported = new Map((await tx.remoteConfig.listCacheUse()).map((r) => [r.kioskId, r]));
  const faults = byKiosk(await tx.slots.listInStates(['fault']));
  // Repeated preparation failures: each kiosk's recent events (its newest 500 seqs).
  const windowStart = nowMs - config.prepareFailureWindowSeconds * 1000;
  const prepareFailed = byKiosk(
    await tx.events.recentOfType('PrepareFailed', {
      receivedSince: new Date(windowStart).toISOString(),
      window: 500,
    }),
  );
  for (const k of fleet) {
    // The content cache use of its last Heartbeat.
    const r = reported.get(k.id);
    if (r?.cacheUsedBytes != null && r.cacheMaxBytes) {
      const percent = (r.cacheUsedBytes / r.cacheMaxBytes) * 100;
      if (percent > config.cacheFullPercent)
        out.push({
          kind: 'cache_full',
          key: k.id,
          kioskId: k.id,
          message: `kiosk ${k.id} content cache is ${percent.toFixed(1)}% full (${r.cacheUsedBytes} of ${r.cacheMaxBytes} bytes)`,
          details: {
            usedBytes: r.cacheUsedBytes,
            maxBytes: r.cacheMaxBytes,
            reportedAt: r.reportedAt,
          },
        });
    }
    const silent = kiosks.silentForMs(k);
    if (k.status !== 'online' && silent > config.offlineAfterSeconds * 1000)
      out.push({
        kind: 'kiosk_offline',
        key: k.id,
        kioskId: k.id,
        message: `kiosk ${k.id} (${k.name}) has been offline for ${minutes(silent)}`,
        details: { lastSeenAt: k.lastSeenAt },
      });
    for (const s of faults.get(k.id) ?? []) {
      const fault = s.snapshot.fault as { code?: string; message?: string } | undefined;
      out.push({
        kind: 'slot_fault',
        key: `${k.id}:${s.slot}`,
        kioskId: k.id,
        message: `kiosk ${k.id} slot ${s.slot} is in fault${fault ? `: ${fault.code} ${fault.message}` : ''}`,
        details: { slot: s.slot, fault: fault ?? null, diskId: s.snapshot.diskId ?? null },
      });
    }
    const failures = prepareFailed.get(k.id) ?? [];
    if (failures.length >= config.prepareFailureThreshold)
      out.push({
        kind: 'prepare_failures',
        key: k.id,
        kioskId: k.id,
        message: `kiosk ${k.id} failed ${failures.length} disk preparations in the last ${minutes(config.prepareFailureWindowSeconds * 1000)}`,
        details: {
          failures: failures.map((e) => ({
            at: e.at,
            code: e.data.code,
            reservationId: e.data.reservationId,
          })),
        },
      });
  }
  // Zero rentable stock of a disk type across the kiosks that offer it and can serve now
  // (the fleet's claims read once, for every type; each type's ready slots a page at a time,
  // until one sells).
  let stock: FleetStock | undefined;
  for (const type of await tx.diskTypes.list()) {
    const serving = fleet.filter(
      (k) => (!type.kioskIds || type.kioskIds.includes(k.id)) && kiosks.canServe(k),
    );
    if (serving.length === 0) continue;
    stock ??= await ctx.catalog.fleetStock(tx);
    const ids = new Set(serving.map((k) => k.id));
    if (!(await ctx.catalog.sellsAnywhere(tx, type, ids, stock)))
      out.push({
        kind: 'zero_stock',
        key: type.id,
        kioskId: null,
        message: `no disk of type ${type.id} can be rented at any of the ${serving.length} online kiosks offering it`,
        details: { diskTypeId: type.id, kiosks: serving.map((k) => k.id) },
      });
  }
  for (const o of await tx.orders.listByStates(STUCK_ORDER_STATES, 1000)) {
    const age = nowMs - Date.parse(o.updatedAt);
    if (age > config.stuckOrderAfterSeconds * 1000)
      out.push({
        kind: 'order_stuck',
        key: o.id,
        kioskId: o.kioskId,
        message: `order ${o.id} at kiosk ${o.kioskId} has been ${o.state} for ${minutes(age)}`,
        details: { orderId: o.id, state: o.state, since: o.updatedAt },
      });
  }
  // Authorisations near expiry: by the provider's own lapse time when it told one
  // (`authorisedUntil`), else by age.
  const oldEnough = new Date(nowMs - config.authorisationWarnAfterHours * 3600_000).toISOString();
  const lapsingBy = new Date(nowMs + config.authorisationWarnBeforeHours * 3600_000).toISOString();
  for (const p of await tx.payments.listByState(['authorised'], now.toISOString())) {
    if (p.kind !== 'auth') continue;
    const near = p.authorisedUntil ? p.authorisedUntil <= lapsingBy : p.createdAt <= oldEnough;
    if (!near) continue;
    out.push({
      kind: 'authorisation_expiring',
      key: p.id,
      kioskId: null,
      message: `payment ${p.id} (${p.purpose} ${p.refId}) has been authorised since ${p.createdAt} and is neither captured nor voided${p.authorisedUntil ? `; it lapses at ${p.authorisedUntil}` : ''}`,
      details: {
        paymentId: p.id,
        purpose: p.purpose,
        refId: p.refId,
        since: p.createdAt,
        authorisedUntil: p.authorisedUntil,
      },
    });
  }
  return out;
}
