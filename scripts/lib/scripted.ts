/**
 * The scripted demo: one rent, one reservation with pickup and one return, end to end
 * through the hub's real HTTP API and the real kioskd processes of a Fleet, with the
 * person's actions played on the board simulators. Each step is printed; the first
 * failing step ends the run with what failed.
 */
import { randomUUID } from 'node:crypto';
import type { HubApi, Json } from './api-client.js';
import type { Fleet, FleetKiosk } from './fleet.js';
import { diskIsOut, takeWhenOut } from './person.js';
import { demoCard } from './seed.js';
import { DemoError, waitFor } from './wait.js';

export interface ScriptedStep {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface ScriptedResult {
  ok: boolean;
  steps: ScriptedStep[];
  /** The failing step's name and error, when !ok. */
  failed?: { step: string; error: string };
  ids: {
    rentOrderId?: string;
    reservationId?: string;
    pickupOrderId?: string;
    rentalIds: string[];
  };
}

export interface ScriptedOptions {
  /** Printed lines (default none). */
  log?: (line: string) => void;
  /** Bound of each waiting step (default 45 s; a PrepareDisk on loop devices takes a few seconds). */
  stepTimeoutMs?: number;
  /** Kiosks playing each part (default kiosk-1 rent, kiosk-2 reservation, kiosk-3 return). */
  rentAt?: string;
  reserveAt?: string;
  returnAt?: string;
  /** The hub API the renter and the operator use (default the fleet's, direct to the hub). */
  api?: HubApi;
}

class StepFailed extends Error {}

/** Runs the scenario on a started fleet; never throws (the result says what failed). */
export async function runScripted(
  fleet: Fleet,
  opts: ScriptedOptions = {},
): Promise<ScriptedResult> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.stepTimeoutMs ?? 45_000;
  const { adminToken } = fleet.hub;
  const api = opts.api ?? fleet.hub.api;
  const token = fleet.renter.token;
  const result: ScriptedResult = { ok: false, steps: [], ids: { rentalIds: [] } };
  const admin = { token: adminToken };
  const me = { token };

  const step = async (name: string, fn: () => Promise<string>): Promise<void> => {
    const t0 = Date.now();
    log(`[${result.steps.length + 1}] ${name}...`);
    try {
      const detail = await fn();
      const ms = Date.now() - t0;
      result.steps.push({ name, ok: true, detail, ms });
      log(`    ok${detail ? `: ${detail}` : ''} (${(ms / 1000).toFixed(1)} s)`);
    } catch (err) {
      const msg = (err as Error).message;
      result.steps.push({ name, ok: false, detail: msg, ms: Date.now() - t0 });
      result.failed = { step: name, error: msg };
      log(`    FAILED: ${msg}`);
      throw new StepFailed(msg);
    }
  };

  const order = async (id: string): Promise<Json> =>
    (await api.ok('GET', `/api/orders/${id}`, undefined, me)).order;
  const reservation = async (id: string): Promise<Json> =>
    (await api.ok('GET', `/api/reservations/${id}`, undefined, me)).reservation;
  const events = async (kioskId: string): Promise<Json[]> =>
    (await api.ok('GET', `/api/operator/kiosks/${kioskId}/events?limit=1000`, undefined, admin))
      .events;
  const commands = async (kioskId: string): Promise<Json[]> =>
    (await api.ok('GET', `/api/operator/kiosks/${kioskId}/commands?limit=1000`, undefined, admin))
      .commands;
  const captures = async (refIds: string[]): Promise<Json[]> =>
    (await api.ok('GET', '/api/operator/audit?limit=1000', undefined, admin)).audit.filter(
      (a: Json) => a.action === 'payment.captured' && refIds.includes(a.details?.refId),
    );
  const untilOrder = (id: string, what: string, pred: (o: Json) => boolean) =>
    waitFor(
      what,
      async () => {
        const o = await order(id);
        if (['failed', 'cancelled'].includes(o.state) && !pred(o))
          throw new DemoError(
            'ESTEP',
            `order ${id} ended ${o.state}: ${o.failureReason ?? 'no reason given'}`,
          );
        return pred(o) ? o : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  /** Dispense command for `orderId` as the hub recorded it (state and the kiosk's answer). */
  const dispenseCommand = async (kioskId: string, orderId: string) =>
    (await commands(kioskId)).find(
      (c) => c.action === 'Dispense' && c.payload?.orderId === orderId,
    );

  /** Disk out -> the person takes it -> order completed, exactly one DispenseCompleted (taken). */
  const dispenseAndTake = async (k: FleetKiosk, orderId: string): Promise<Json> => {
    const o = await untilOrder(
      orderId,
      `order ${orderId} to name a slot`,
      (x) => x.slot !== undefined,
    );
    const slot = o.slot as number;
    try {
      await takeWhenOut(k.kiosk.sim, slot, timeoutMs);
    } catch (err) {
      const cmd = await dispenseCommand(k.id, orderId);
      throw new DemoError(
        'ESTEP',
        `${(err as Error).message}; the hub's Dispense command is ${cmd ? `${cmd.state} (${JSON.stringify(cmd.result ?? {})})` : 'missing'}`,
      );
    }
    log(`    the renter takes the disk from ${k.id} slot ${slot}`);
    const done = await untilOrder(
      orderId,
      `order ${orderId} to complete`,
      (x) => x.state === 'completed',
    );
    const cmd = await dispenseCommand(k.id, orderId);
    const completed = (await events(k.id)).filter(
      (e) => e.type === 'DispenseCompleted' && e.data.orderId === orderId,
    );
    if (completed.length !== 1 || completed[0].data.outcome !== 'taken')
      throw new DemoError(
        'ESTEP',
        `expected one DispenseCompleted (taken) from ${k.id} for order ${orderId}, the hub has ${JSON.stringify(completed.map((e) => e.data))}`,
      );
    return { order: done, slot, commandId: cmd?.id };
  };

  const rentAt = fleet.kiosk(opts.rentAt ?? 'kiosk-1');
  const reserveAt = fleet.kiosk(opts.reserveAt ?? 'kiosk-2');
  const returnAt = fleet.kiosk(opts.returnAt ?? 'kiosk-3');
  const films = fleet.diskTypes.find((d) => d.contentId === 'nature-films') ?? fleet.diskTypes[0]!;
  const course = fleet.diskTypes.find((d) => d.contentId === 'open-course') ?? fleet.diskTypes[1]!;

  try {
    // ---- 1. rent now ---------------------------------------------------------------
    let rentOrder: Json;
    await step(
      `rent: the renter opens ${rentAt.id}'s page (1st instruction: session)`,
      async () => {
        const s = await api.ok('POST', `/api/kiosks/${rentAt.id}/session`, undefined, me);
        const t = s.diskTypes.find((d: Json) => d.id === films.id);
        if (!s.canRent)
          throw new DemoError(
            'ESTEP',
            `the hub says the renter cannot rent: ${s.reasons.join(', ')}`,
          );
        if (!t || t.available < 1)
          throw new DemoError('ESTEP', `${films.id} is not available at ${rentAt.id}`);
        return `${films.id} available: ${t.available}, ${t.pricePerDayMinor / 100} ${t.currency}/day`;
      },
    );
    await step(
      `rent: order ${films.id} for 1 day (2nd instruction: payment authorised)`,
      async () => {
        const r = await api.ok(
          'POST',
          '/api/orders',
          {
            kioskId: rentAt.id,
            diskTypeId: films.id,
            writeProtect: true,
            days: 1,
            card: demoCard(),
          },
          { ...me, headers: { 'idempotency-key': randomUUID() } },
        );
        rentOrder = r.order;
        result.ids.rentOrderId = rentOrder.id;
        return `order ${rentOrder.id}: ${rentOrder.state}, ${rentOrder.amountMinor / 100} ${rentOrder.currency}`;
      },
    );
    let rentDone: Json;
    await step(
      `rent: Dispense (3rd instruction) -> ${rentAt.id} pushes the disk out -> taken -> DispenseCompleted`,
      async () => {
        rentDone = await dispenseAndTake(rentAt, rentOrder.id);
        return `order ${rentDone.order.state}, disk ${rentDone.order.diskId} from slot ${rentDone.slot}, rental ${rentDone.order.rentalId}`;
      },
    );
    await step('rent: payment captured once', async () => {
      const c = await waitFor(
        'the capture to be recorded',
        async () => {
          const x = await captures([rentOrder.id]);
          return x.length > 0 ? x : undefined;
        },
        { timeoutMs },
      );
      if (c.length !== 1)
        throw new DemoError(
          'ESTEP',
          `payment captured ${c.length} times for order ${rentOrder.id}`,
        );
      result.ids.rentalIds.push(rentDone.order.rentalId);
      return `1 capture (payment ${c[0].subject})`;
    });

    // ---- 2. reservation with pickup ---------------------------------------------------
    let rsv: Json;
    await step(
      `reserve: kiosks near ${reserveAt.site.name} (4th instruction: by location)`,
      async () => {
        const list = await api.ok(
          'GET',
          `/api/kiosks?near=${reserveAt.site.lat},${reserveAt.site.lng}&limit=10`,
        );
        const k = list.find((x: Json) => x.id === reserveAt.id);
        if (!k?.online)
          throw new DemoError('ESTEP', `${reserveAt.id} is not listed online near its site`);
        return list.map((x: Json) => `${x.id} ${x.distanceMeters} m`).join(', ');
      },
    );
    await step(
      `reserve: ${course.id} at ${reserveAt.id} (payment authorised, hub sends PrepareDisk)`,
      async () => {
        const r = await api.ok(
          'POST',
          '/api/reservations',
          {
            kioskId: reserveAt.id,
            diskTypeId: course.id,
            writeProtect: true,
            days: 1,
            card: demoCard(),
          },
          { ...me, headers: { 'idempotency-key': randomUUID() } },
        );
        rsv = r.reservation;
        result.ids.reservationId = rsv.id;
        const cmd = await waitFor(
          `${reserveAt.id} to answer PrepareDisk`,
          async () => {
            const c = (await commands(reserveAt.id)).find(
              (x) => x.action === 'PrepareDisk' && x.payload?.reservationId === rsv.id,
            );
            return c && c.state !== 'pending' && c.state !== 'sent' ? c : undefined;
          },
          { timeoutMs },
        );
        if (cmd.state !== 'accepted' && cmd.state !== 'completed') {
          const reason = cmd.result?.reason ?? JSON.stringify(cmd.result);
          throw new DemoError(
            'EMISSING',
            `${reserveAt.id} answered PrepareDisk ${cmd.state}: "${reason}"` +
              (/not supported/.test(String(reason))
                ? ' -- this kioskd build has no PrepareDisk handler (kiosk/daemon.ts composes it from kiosk/cloning)'
                : ''),
          );
        }
        return `reservation ${rsv.id}: ${rsv.state}; PrepareDisk ${cmd.state}`;
      },
    );
    await step(
      `reserve: ${reserveAt.id} prepares a disk (5th instruction: fetch, format, copy, verify)`,
      async () => {
        let last = '';
        const ready = await waitFor(
          'the reservation to be ready',
          async () => {
            const r = await reservation(rsv.id);
            if (['failed', 'cancelled', 'expired'].includes(r.state))
              throw new DemoError(
                'ESTEP',
                `reservation ${r.state}: ${r.failureReason ?? 'no reason given'}`,
              );
            const p = r.progress;
            const line = p ? `${p.step} ${p.percent}%` : r.state;
            if (line !== last) log(`    progress: ${line}`);
            last = line;
            return r.state === 'ready' ? r : undefined;
          },
          { timeoutMs: timeoutMs * 2, intervalMs: 100 },
        );
        const ev = (await events(reserveAt.id)).filter(
          (e) => e.data?.reservationId === rsv.id && e.type.startsWith('Prepare'),
        );
        const types = [...new Set(ev.map((e) => e.type))];
        if (!types.includes('PrepareCompleted'))
          throw new DemoError('ESTEP', 'no PrepareCompleted event recorded');
        rsv = ready;
        return `ready in slot ${ready.slot} until ${ready.holdUntil}; events ${types.join(', ')} (${ev.length})`;
      },
    );
    let pickupOrder: Json;
    await step(
      `pickup: the renter scans ${reserveAt.id}'s code, the session lists the reservation, pickup`,
      async () => {
        const s = await api.ok('POST', `/api/kiosks/${reserveAt.id}/session`, undefined, me);
        if (!s.reservations.some((x: Json) => x.id === rsv.id && x.state === 'ready'))
          throw new DemoError('ESTEP', `the session does not list reservation ${rsv.id} as ready`);
        const r = await api.ok('POST', `/api/reservations/${rsv.id}/pickup`, undefined, me);
        pickupOrder = r.order;
        result.ids.pickupOrderId = pickupOrder.id;
        return `order ${pickupOrder.id}: ${pickupOrder.state}`;
      },
    );
    let pickupDone: Json;
    await step(
      `pickup: Dispense -> ${reserveAt.id} pushes the disk out -> taken -> DispenseCompleted`,
      async () => {
        pickupDone = await dispenseAndTake(reserveAt, pickupOrder.id);
        const r = await reservation(rsv.id);
        if (r.state !== 'picked_up')
          throw new DemoError('ESTEP', `reservation is ${r.state}, expected picked_up`);
        const c = await waitFor(
          'the capture to be recorded',
          async () => {
            const x = await captures([rsv.id, pickupOrder.id]);
            return x.length > 0 ? x : undefined;
          },
          { timeoutMs },
        );
        if (c.length !== 1)
          throw new DemoError('ESTEP', `reservation payment captured ${c.length} times`);
        result.ids.rentalIds.push(pickupDone.order.rentalId);
        return `reservation picked_up, disk ${pickupDone.order.diskId}, payment captured once, rental ${pickupDone.order.rentalId}`;
      },
    );

    // ---- 3. return at another kiosk -----------------------------------------------------
    const bay = returnAt.plan.find(
      (s) => s.kind === 'return-bay' && `disk-${s.disk.name}` === pickupDone.order.diskId,
    );
    await step(
      `return: the renter pushes disk ${pickupDone.order.diskId} into ${returnAt.id}`,
      async () => {
        if (!bay)
          throw new DemoError(
            'ESTEP',
            `${returnAt.id} has no return bay wired to disk ${pickupDone.order.diskId} (fleet layout)`,
          );
        if (diskIsOut(returnAt.kiosk.sim, bay.slot) || returnAt.kiosk.sim.sensors(bay.slot).present)
          throw new DemoError('ESTEP', `${returnAt.id} slot ${bay.slot} is not empty`);
        returnAt.kiosk.sim.insertDisk(bay.slot);
        return `slot ${bay.slot}`;
      },
    );
    await step('return: DiskReturned -> rental closed with its charges', async () => {
      const rentalId = pickupDone.order.rentalId;
      const diskId = pickupDone.order.diskId;
      let returnedEvent: Json;
      const rental = await waitFor(
        `rental ${rentalId} to be returned`,
        async () => {
          const list = await api.ok('GET', '/api/me/rentals', undefined, me);
          const r = list.find((x: Json) => x.id === rentalId);
          if (r?.state === 'returned') return r;
          returnedEvent = (await events(returnAt.id)).find((e) => e.type === 'DiskReturned');
          if (returnedEvent && !returnedEvent.data.diskId)
            throw new DemoError(
              'EMISSING',
              `${returnAt.id} reported DiskReturned without a disk id (${JSON.stringify(returnedEvent.data)}) -- this kioskd build does not read a returned disk's identity file (ReturnExtensions.readIdentity, composed in kiosk/daemon.ts)`,
            );
          return undefined;
        },
        { timeoutMs, intervalMs: 200 },
      );
      if (rental.returnKioskId !== returnAt.id)
        throw new DemoError(
          'ESTEP',
          `rental returned at ${rental.returnKioskId}, expected ${returnAt.id}`,
        );
      const charges = rental.charges
        .map((c: Json) => `${c.kind} ${(c.amountMinor / 100).toFixed(2)}`)
        .join(', ');
      return `disk ${diskId} back at ${returnAt.id}; rental ${rental.state}, charges: ${charges}`;
    });

    // ---- 4. the outcome, read back from the hub -------------------------------------------
    await step(
      'verify: orders completed, payments captured once, reservation picked up, rental returned',
      async () => {
        const o1 = await order(rentOrder.id);
        const o2 = await order(pickupOrder.id);
        const r = await reservation(rsv.id);
        const rentals = await api.ok('GET', '/api/me/rentals', undefined, me);
        const byId = (id: string) => rentals.find((x: Json) => x.id === id);
        const problems: string[] = [];
        if (o1.state !== 'completed') problems.push(`rent order ${o1.state}`);
        if (o2.state !== 'completed') problems.push(`pickup order ${o2.state}`);
        if (r.state !== 'picked_up') problems.push(`reservation ${r.state}`);
        if ((await captures([rentOrder.id])).length !== 1)
          problems.push('rent payment not captured exactly once');
        if ((await captures([rsv.id, pickupOrder.id])).length !== 1)
          problems.push('reservation payment not captured exactly once');
        if (byId(o1.rentalId)?.state !== 'open')
          problems.push(`rented disk's rental ${byId(o1.rentalId)?.state}`);
        if (byId(o2.rentalId)?.state !== 'returned')
          problems.push(`returned disk's rental ${byId(o2.rentalId)?.state}`);
        if (problems.length) throw new DemoError('ESTEP', problems.join('; '));
        return `2 orders completed, 2 captures, reservation picked_up, 1 rental open (${o1.diskId}), 1 returned (${o2.diskId})`;
      },
    );
    result.ok = true;
  } catch (err) {
    if (!(err instanceof StepFailed)) {
      result.failed ??= { step: '(outside a step)', error: (err as Error).message };
    }
  }
  return result;
}
