/**
 * The end-of-run checker: reads the hub's and every kiosk's SQLite file READ-ONLY, the
 * board simulators' physical records and the renters' hands, and lists every invariant
 * violation with the ids to investigate. Pure reading: nothing is repaired. A disk a renter
 * took must be billed (a completed order for it) or flagged missing at the hub for that kiosk.
 */
import Database from 'better-sqlite3';
import { checkInvariants } from '../../cloud-lite/invariants/invariants.js';
import type { MotorBoardSim } from '../../hal/motor-board/sim.js';
import type { Hands } from './bots.js';
import type { FaultLogEntry } from './faults.js';
import { checkMoneyRules } from './money-check.js';
import { checkReadyStock, type StockPolicy } from './stock-check.js';

export interface Violation {
  invariant: string;
  message: string;
  ids: Record<string, string | number>;
}

export interface CheckInput {
  hubDb: string;
  kiosks: Array<{
    id: string;
    dbPath: string;
    sim: MotorBoardSim;
    slots: number;
    diskAt: Map<number, string>;
  }>;
  hands: Hands;
  diskNames: string[];
  noShowFeeMinor: number;
  /** The hub's stock policy for the run (default: ready stock never reformatted, keep 1). */
  stockPolicy?: StockPolicy;
  /** The run's fault log, absolute times (money-check.ts reads the mid-dispense kills). */
  faults?: readonly FaultLogEntry[];
  now?: number;
}

export interface CheckResult {
  violations: Violation[];
  stats: Record<string, number>;
}

type Row = Record<string, unknown>;
const TERMINAL_ORDER = ['completed', 'failed', 'cancelled'];
const TERMINAL_RESERVATION = ['picked_up', 'cancelled', 'expired', 'failed'];
const INTERMEDIATE_PAYMENT = ['authorising', 'capturing', 'voiding', 'refunding'];
const NOT_CHARGED = ['voided', 'refunded', 'declined', 'failed'];

export const diskIdOf = (name: string) => `disk-${name}`;

const json = (s: unknown): Row => {
  try {
    return JSON.parse(String(s)) as Row;
  } catch {
    return {};
  }
};

function open(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true });
}

export function check(input: CheckInput): CheckResult {
  const v: Violation[] = [];
  const add = (invariant: string, message: string, ids: Record<string, string | number> = {}) =>
    v.push({ invariant, message, ids });
  const now = input.now ?? Date.now();
  const hub = open(input.hubDb);
  const kdbs = input.kiosks.map((k) => ({ k, db: open(k.dbPath) }));
  try {
    // ---- integrity -------------------------------------------------------------------------
    for (const [name, db] of [
      ['hub', hub] as const,
      ...kdbs.map(({ k, db }) => [k.id, db] as const),
    ]) {
      const r = db.pragma('integrity_check', { simple: true });
      if (r !== 'ok')
        add('integrity', `${name}: PRAGMA integrity_check says ${String(r)}`, { db: name });
    }

    const all = (db: Database.Database, sql: string, ...p: unknown[]) =>
      db.prepare(sql).all(...p) as Row[];
    const orders = all(hub, 'SELECT * FROM orders');
    const reservations = all(hub, 'SELECT * FROM reservations');
    const payments = all(hub, 'SELECT * FROM payments');
    const rentals = all(hub, 'SELECT * FROM rentals');
    const commands = all(hub, 'SELECT * FROM commands');
    const ledger = all(hub, 'SELECT * FROM sandbox_ledger');
    const sandbox = new Map(
      all(hub, 'SELECT * FROM sandbox_payments').map((r) => [String(r.id), r]),
    );
    const hubEvents = all(hub, 'SELECT * FROM events ORDER BY kiosk_id, seq');
    // Disks that left a kiosk with no order to bill, flagged for the operator (DiskRemoved).
    const missing = all(hub, 'SELECT * FROM missing_disks');
    const flaggedAt = (disk: string, kioskId: string, openOnly: boolean) =>
      missing.some(
        (m) => m.disk_id === disk && m.kiosk_id === kioskId && (!openOnly || m.cleared_at === null),
      );
    const paymentsByRef = new Map<string, Row[]>();
    for (const p of payments) {
      const key = String(p.ref_id);
      paymentsByRef.set(key, [...(paymentsByRef.get(key) ?? []), p]);
    }
    const capturesOf = (p: Row) =>
      ledger.filter((l) => l.payment_id === p.provider_ref && l.op === 'capture').length;
    const completedEvents = hubEvents.filter((e) => e.type === 'DispenseCompleted');
    // A pickup-code dispense's DispenseCompleted names no order (the kiosk made its commandId):
    // it belongs to the order the hub opened with that commandId at that kiosk.
    const ofOrder = (e: Row, o: Row) => {
      const d = json(e.data);
      return d.orderId !== undefined
        ? d.orderId === o.id
        : d.commandId === o.command_id && e.kiosk_id === o.kiosk_id;
    };
    const codeAccepted = hubEvents.filter((e) => e.type === 'PickupCodeAccepted');

    // ---- orders ------------------------------------------------------------------------
    let heldThenPulled = 0;
    for (const o of orders) {
      const id = String(o.id);
      if (!TERMINAL_ORDER.includes(String(o.state)))
        add('order-terminal', `order is still ${o.state} after the fleet settled`, { orderId: id });
      const refs = [id, ...(o.reservation_id ? [String(o.reservation_id)] : [])];
      const pays = refs.flatMap((r) => paymentsByRef.get(r) ?? []).filter((p) => p.kind === 'auth');
      const orderPays = paymentsByRef.get(id) ?? [];
      const captures =
        orderPays.reduce((s, p) => s + capturesOf(p), 0) +
        (o.reservation_id
          ? (paymentsByRef.get(String(o.reservation_id)) ?? []).reduce(
              (s, p) => s + capturesOf(p),
              0,
            )
          : 0);
      const taken = completedEvents.filter(
        (e) => ofOrder(e, o) && json(e.data).outcome === 'taken',
      );
      if (o.state === 'completed') {
        if (captures !== 1 && !pays.some((p) => p.state === 'captured'))
          add('capture-for-dispense', 'completed order without a capture', { orderId: id });
        // Or held after a jam (or a failure leaving the slot in fault): one such outcome, then
        // the kiosk's DiskRemoved for that slot and disk (the renter pulled the stuck disk).
        const stuck = completedEvents.filter(
          (e) => ofOrder(e, o) && ['jammed', 'failed'].includes(String(json(e.data).outcome)),
        );
        const pulled =
          taken.length === 0 &&
          stuck.length === 1 &&
          String(o.steps ?? '').includes('"jam_hold"') &&
          hubEvents.some(
            (e) =>
              e.type === 'DiskRemoved' &&
              e.kiosk_id === stuck[0]!.kiosk_id &&
              Number(e.seq) > Number(stuck[0]!.seq) &&
              json(e.data).slot === json(stuck[0]!.data).slot &&
              json(e.data).diskId === json(stuck[0]!.data).diskId,
          );
        if (pulled) heldThenPulled++;
        if (taken.length !== 1 && !pulled)
          add(
            'dispense-once',
            `completed order has ${taken.length} DispenseCompleted(taken) events`,
            { orderId: id },
          );
        if (!o.rental_id)
          add('rental-for-order', 'completed order without a rental', { orderId: id });
      } else {
        if (captures > 0 && !o.reservation_id)
          add('capture-for-dispense', `order ${o.state} but its payment was captured`, {
            orderId: id,
          });
        if (taken.length > 0)
          add('dispense-outcome', `order ${o.state} although the kiosk reported the disk taken`, {
            orderId: id,
          });
        for (const p of orderPays)
          if (
            TERMINAL_ORDER.includes(String(o.state)) &&
            !NOT_CHARGED.includes(String(p.state)) &&
            p.kind === 'auth'
          )
            add(
              'failure-voided',
              `order ${o.state} but its payment is ${p.state} (not voided/refunded)`,
              { orderId: id, paymentId: String(p.id) },
            );
      }
    }
    // ---- reservations --------------------------------------------------------------------
    for (const r of reservations) {
      const id = String(r.id);
      const st = String(r.state);
      const pending =
        (st === 'ready' && Date.parse(String(r.hold_until)) > now) ||
        (st === 'preparing' && Date.parse(String(r.prepare_deadline)) > now);
      if (!TERMINAL_RESERVATION.includes(st) && !pending)
        add(
          'reservation-terminal',
          `reservation is ${st} past its ${st === 'ready' ? 'hold' : 'deadline'}`,
          { reservationId: id },
        );
      for (const p of (paymentsByRef.get(id) ?? []).filter((x) => x.kind === 'auth')) {
        if ((st === 'cancelled' || st === 'failed') && !NOT_CHARGED.includes(String(p.state)))
          add('failure-voided', `reservation ${st} but its payment is ${p.state}`, {
            reservationId: id,
            paymentId: String(p.id),
          });
        // The no-show fee is captured (at most the authorised amount), the rest voided.
        const fee = Math.min(input.noShowFeeMinor, Number(p.amount_minor));
        if (
          st === 'expired' &&
          !(p.state === 'captured' && Number(p.captured_minor) === fee) &&
          !(fee === 0 && NOT_CHARGED.includes(String(p.state)))
        )
          add(
            'no-show-fee',
            `expired reservation payment is ${p.state} with ${p.captured_minor} captured (fee ${fee})`,
            { reservationId: id, paymentId: String(p.id) },
          );
      }
    }
    // ---- payments: no money in flight, hub and provider agree ------------------------------
    for (const p of payments) {
      const id = String(p.id);
      if (INTERMEDIATE_PAYMENT.includes(String(p.state)) || String(p.state).endsWith('_failed'))
        add('payment-settled', `payment is ${p.state} (${p.purpose} ${p.ref_id})`, {
          paymentId: id,
        });
      const s = p.provider_ref ? sandbox.get(String(p.provider_ref)) : undefined;
      if (s && (s.captures as number) > 1)
        add('one-capture', `provider recorded ${s.captures} captures`, { paymentId: id });
      if (s && p.state === 'captured' && s.state !== 'captured' && s.state !== 'partially_refunded')
        add('provider-agrees', `hub says captured, provider says ${s.state}`, { paymentId: id });
      if (s && p.state === 'voided' && s.state !== 'voided')
        add('provider-agrees', `hub says voided, provider says ${s.state}`, { paymentId: id });
    }

    // ---- disks: exactly one place ------------------------------------------------------------
    const places = new Map<string, string[]>(input.diskNames.map((n) => [diskIdOf(n), []]));
    for (const { k, db } of kdbs) {
      const slots = all(db, 'SELECT * FROM slots');
      for (const s of slots) {
        const sensors = k.sim.sensors(Number(s.slot));
        const occupied = s.state !== 'empty';
        // A fault slot without a disk id lost its disk (DiskRemoved) or never knew it.
        const either = s.state === 'disabled' || (s.state === 'fault' && !s.disk_id);
        if (occupied !== sensors.present && !either)
          add(
            'physical-agrees',
            `${k.id} slot ${s.slot} is ${s.state} in kioskd but the sensor says ${sensors.present ? 'present' : 'empty'}`,
            { kioskId: k.id, slot: Number(s.slot) },
          );
        if (sensors.present) {
          const wired = k.diskAt.get(Number(s.slot));
          const id = wired ? diskIdOf(wired) : `unknown-disk@${k.id}/${s.slot}`;
          places.set(id, [...(places.get(id) ?? []), `${k.id} slot ${s.slot}`]);
          if (s.disk_id && s.disk_id !== id)
            add('disk-identity', `${k.id} slot ${s.slot} records ${s.disk_id} but holds ${id}`, {
              kioskId: k.id,
              slot: Number(s.slot),
            });
        }
      }
    }
    for (const [name, h] of input.hands.held) {
      const id = diskIdOf(name);
      places.set(id, [...(places.get(id) ?? []), `renter bot ${h.bot}`]);
    }
    for (const [disk, where] of places)
      if (where.length !== 1)
        add(
          'disk-one-place',
          `disk is in ${where.length} places: ${where.join(', ') || 'nowhere'}`,
          { diskId: disk },
        );
    const open = rentals.filter((r) => r.state === 'open' || r.state === 'overdue');
    for (const [disk] of places) {
      const rs = open.filter((r) => r.disk_id === disk);
      const inHands = input.hands.held.has(disk.replace(/^disk-/, ''));
      if (rs.length > 1)
        add('disk-one-renter', `${rs.length} open rentals`, {
          diskId: disk,
          rentalIds: rs.map((r) => r.id).join(','),
        });
      const held = input.hands.held.get(disk.replace(/^disk-/, ''));
      if (inHands && rs.length === 0 && !(held && flaggedAt(disk, held.kioskId, true)))
        add('disk-one-renter', 'a renter holds the disk but no rental is open nor missing flag', {
          diskId: disk,
        });
      if (!inHands && rs.length > 0)
        add('disk-one-renter', `rental ${rs[0]!.id} is open but the disk is back in a kiosk`, {
          diskId: disk,
          rentalId: String(rs[0]!.id),
        });
    }
    for (const t of input.hands.log.filter((x) => x.what === 'take')) {
      // A disk picked up with a code offline: its order is the one the kiosk's events opened.
      const ofReservation = orders.filter(
        (x) =>
          !!t.reservationId && x.reservation_id === t.reservationId && x.kiosk_id === t.kioskId,
      );
      const o =
        orders.find((x) => x.id === t.orderId) ??
        ofReservation.find((x) => x.state === 'completed') ??
        ofReservation[0];
      const billed = o?.state === 'completed' && o.disk_id === diskIdOf(t.disk);
      // Not billed: the hub must at least know the disk left that kiosk (flagged missing).
      if (!billed && !flaggedAt(diskIdOf(t.disk), t.kioskId, false))
        add(
          'take-billed',
          `renter bot ${t.bot} took ${t.disk} from ${t.kioskId} slot ${t.slot} but the order is ${o?.state} (disk ${o?.disk_id}) and the hub did not flag it missing`,
          { orderId: String(t.orderId) },
        );
    }

    // ---- events: gap-free, exactly once -----------------------------------------------------------
    for (const { k, db } of kdbs) {
      const ev = hubEvents.filter((e) => e.kiosk_id === k.id);
      const seqs = ev.map((e) => Number(e.seq));
      const max = seqs.length ? Math.max(...seqs) : 0;
      const distinct = new Set(seqs);
      if (distinct.size !== seqs.length)
        add('events-once', `${seqs.length - distinct.size} duplicated seqs at the hub`, {
          kioskId: k.id,
        });
      const counter = (
        db.prepare("SELECT value FROM counters WHERE name = 'outbox_seq'").get() as Row | undefined
      )?.value;
      if (Number(counter) !== max)
        add('events-delivered', `kiosk wrote ${counter} events, the hub has up to seq ${max}`, {
          kioskId: k.id,
        });
      const left = (db.prepare('SELECT count(*) AS n FROM outbox').get() as Row).n;
      if (Number(left) > 0)
        add('events-delivered', `${left} events still in the outbox`, { kioskId: k.id });
      const hubLast = (
        hub.prepare('SELECT last_seq FROM kiosks WHERE id = ?').get(k.id) as Row | undefined
      )?.last_seq;
      if (Number(hubLast) !== max)
        add('events-delivered', `hub last_seq ${hubLast} but events up to ${max}`, {
          kioskId: k.id,
        });
    }

    // ---- commands: delivered once, executed once ----------------------------------------------------
    for (const { k, db } of kdbs) {
      const inbox = all(db, 'SELECT * FROM inbox');
      const hubCmds = commands.filter((c) => c.kiosk_id === k.id);
      const byId = new Map(hubCmds.map((c) => [String(c.id), c]));
      for (const c of hubCmds)
        if (c.state === 'pending' || c.state === 'sent')
          add('commands-settled', `${c.action} still ${c.state} at the hub`, {
            kioskId: k.id,
            commandId: String(c.id),
          });
      // Dispenses the kiosk started itself against a pickup code: known through PickupCodeAccepted.
      const byCode = new Map(
        codeAccepted
          .filter((e) => e.kiosk_id === k.id)
          .map((e) => [String(json(e.data).commandId), json(e.data)]),
      );
      for (const i of inbox) {
        const c = byId.get(String(i.command_id));
        const local = byCode.get(String(i.command_id));
        if (!c && local) {
          if (i.action !== 'Dispense' || Number(json(i.payload).slot) !== Number(local.slot))
            add('commands-known', `pickup-code ${i.action} does not match its PickupCodeAccepted`, {
              kioskId: k.id,
              commandId: String(i.command_id),
            });
        } else if (!c)
          add('commands-known', `kiosk executed ${i.action} the hub never sent`, {
            kioskId: k.id,
            commandId: String(i.command_id),
          });
        else if (c.action !== i.action)
          add('commands-known', `action ${i.action} vs hub ${c.action}`, {
            kioskId: k.id,
            commandId: String(i.command_id),
          });
        else if (
          c.state === 'expired' &&
          i.state === 'done' &&
          ['Dispense', 'PrepareDisk'].includes(String(i.action))
        )
          add('commands-expired-executed', `hub expired ${c.action} but the kiosk executed it`, {
            kioskId: k.id,
            commandId: String(i.command_id),
          });
      }
      // The motor pushed each slot out at most once per Dispense the kiosk accepted for it.
      // The Dispense commands of a slot are those in the kiosk's inbox plus those the kiosk
      // reported a DispenseCompleted for (a hub Dispense for the same kiosk and slot): the
      // inbox prunes commands it stamped finished over 30 days ago, and a kioskd restarted
      // with its clock far in the past (kioskd_clock_past) settles an interrupted dispense
      // before its Boot resyncs the clock, so that row is stamped years back and pruned at
      // the next command (seed 31: Dispense 1331a664 pushed slot 1 out once, settled
      // not_taken, and left the inbox; its eject was counted against the other four). Each
      // command id counts once however many places name it, so a second push for one
      // Dispense is still a violation.
      const dispenseIds = new Map<number, Set<string>>();
      const addDispense = (slot: number, id: string) =>
        dispenseIds.set(slot, (dispenseIds.get(slot) ?? new Set()).add(id));
      for (const i of inbox)
        if (i.action === 'Dispense')
          addDispense(Number(json(i.payload).slot), String(i.command_id));
      for (const e of hubEvents)
        if (e.kiosk_id === k.id && e.type === 'DispenseCompleted') {
          const d = json(e.data);
          const c = byId.get(String(d.commandId));
          if (c?.action === 'Dispense' && Number(json(c.payload).slot) === Number(d.slot))
            addDispense(Number(d.slot), String(d.commandId));
          const local = byCode.get(String(d.commandId));
          if (local && Number(local.slot) === Number(d.slot))
            addDispense(Number(d.slot), String(d.commandId));
        }
      for (let slot = 1; slot <= k.slots; slot++) {
        const ejects = k.sim.record.filter(
          (r) => r.slot === slot && r.kind === 'eject' && r.result === 'ok',
        ).length;
        const cmds = dispenseIds.get(slot)?.size ?? 0;
        if (ejects > cmds)
          add('eject-once', `slot ${slot} ejected ${ejects} times for ${cmds} Dispense commands`, {
            kioskId: k.id,
            slot,
          });
      }
      const perOrder = new Map<string, number>();
      for (const c of hubCmds.filter((x) => x.action === 'Dispense')) {
        const oid = String(json(c.payload).orderId ?? '');
        if (oid) perOrder.set(oid, (perOrder.get(oid) ?? 0) + 1);
      }
      for (const [oid, n] of perOrder)
        if (n > 1)
          add('dispense-once', `${n} Dispense commands for one order`, {
            orderId: oid,
            kioskId: k.id,
          });
    }
    // ---- pickup codes: armed by the hub, one dispense per code, one order per dispense ------
    const codeDispenses = new Map<string, Set<string>>();
    for (const e of codeAccepted) {
      const d = json(e.data);
      const rid = String(d.reservationId);
      codeDispenses.set(rid, (codeDispenses.get(rid) ?? new Set()).add(String(d.commandId)));
      const opened = orders.filter(
        (o) => o.command_id === d.commandId && o.kiosk_id === e.kiosk_id,
      );
      if (opened.length !== 1 || opened[0]!.reservation_id !== rid)
        add('pickup-code-order', `PickupCodeAccepted opened ${opened.length} orders of it`, {
          kioskId: String(e.kiosk_id),
          reservationId: rid,
          commandId: String(d.commandId),
        });
      const armed = commands.some(
        (c) =>
          c.kiosk_id === e.kiosk_id &&
          c.action === 'ArmPickupCode' &&
          json(c.payload).reservationId === rid,
      );
      if (!armed)
        add('pickup-code-armed', 'the kiosk honoured a code the hub never armed for it', {
          kioskId: String(e.kiosk_id),
          reservationId: rid,
        });
    }
    for (const [rid, ids] of codeDispenses)
      if (ids.size > 1)
        add('pickup-code-once', `one reservation's code dispensed ${ids.size} times`, {
          reservationId: rid,
        });

    // ---- ready stock: never reformatted for other content unless allowed (stock-check.ts) --
    let readyReformats = 0;
    let reservationReformats = 0;
    for (const { k, db } of kdbs) {
      const r = checkReadyStock(
        {
          kioskId: k.id,
          db,
          events: hubEvents.filter((e) => e.kiosk_id === k.id),
          commands: commands.filter((c) => c.kiosk_id === k.id),
          policy: input.stockPolicy ?? { reservationsMayReformatReady: false, keepReadyPerType: 1 },
        },
        add,
      );
      readyReformats += r.reformats;
      reservationReformats += r.reservationReformats;
    }

    // ---- the hub's live invariants, the same code the hub runs (cloud-lite/invariants/) ------
    // Here: one capture per order and per provider payment, gap-free seqs. The others need
    // the hub's view only and overlap the physical checks above (disk-one-place, dispense-once).
    for (const x of checkInvariants(
      {
        orders: orders.map((o) => ({
          id: String(o.id),
          state: String(o.state),
          kioskId: String(o.kiosk_id),
          slot: o.slot === null ? null : Number(o.slot),
          reservationId: o.reservation_id ? String(o.reservation_id) : null,
          steps: JSON.parse(String(o.steps ?? '[]')) as Array<{ state: string }>,
        })),
        payments: payments.map((p) => ({
          id: String(p.id),
          kind: String(p.kind),
          purpose: String(p.purpose),
          refId: p.ref_id ? String(p.ref_id) : null,
          state: String(p.state),
          providerRef: p.provider_ref ? String(p.provider_ref) : null,
          createdAt: String(p.created_at),
        })),
        providerCaptures: ledger.reduce(
          (m, l) =>
            l.op === 'capture'
              ? m.set(String(l.payment_id), (m.get(String(l.payment_id)) ?? 0) + 1)
              : m,
          new Map<string, number>(),
        ),
        dispenses: completedEvents.map((e) => ({
          kioskId: String(e.kiosk_id),
          seq: Number(e.seq),
          data: json(e.data),
        })),
        kiosks: input.kiosks.map((k) => ({
          id: k.id,
          lastSeq: 0,
          seqs: hubEvents.filter((e) => e.kiosk_id === k.id).map((e) => Number(e.seq)),
        })),
        slots: [],
        openRentals: [],
      },
      {
        now: new Date(now),
        authorisationMaxAgeMs: Infinity,
        only: ['one-capture', 'events-gap-free'],
      },
    ))
      add(x.invariant, x.message, x.ids);

    // ---- money and limits: max days, extensions charged once, kiosk lost told (money-check.ts)
    const money = checkMoneyRules({ hub, faults: input.faults ?? [] }, add);

    const stats = {
      ...money,
      orders: orders.length,
      ordersCompleted: orders.filter((o) => o.state === 'completed').length,
      ordersFailed: orders.filter((o) => o.state === 'failed' || o.state === 'cancelled').length,
      reservations: reservations.length,
      reservationsPickedUp: reservations.filter((r) => r.state === 'picked_up').length,
      reservationsExpired: reservations.filter((r) => r.state === 'expired').length,
      reservationsFailedOrCancelled: reservations.filter(
        (r) => r.state === 'failed' || r.state === 'cancelled',
      ).length,
      rentalsReturned: rentals.filter((r) => r.state === 'returned').length,
      rentalsOpen: open.length,
      disksFlaggedMissing: missing.length,
      disksStillMissing: missing.filter((m) => m.cleared_at === null).length,
      takenAfterJam: completedEvents.filter(
        (e) =>
          json(e.data).outcome === 'taken' && /jammed|faulted/.test(String(json(e.data).reason)),
      ).length,
      pulledDuringJamHold: heldThenPulled,
      captures: ledger.filter((l) => l.op === 'capture').length,
      voids: ledger.filter((l) => l.op === 'void').length,
      refunds: ledger.filter((l) => l.op === 'refund').length,
      hubEvents: hubEvents.length,
      // Stamped by a kiosk clock far in the past (before its Boot synced it with the hub).
      eventsStampedInThePast: hubEvents.filter(
        (e) => Date.parse(String(e.received_at)) - Date.parse(String(e.at)) > 24 * 3600 * 1000,
      ).length,
      hubCommands: commands.length,
      pickupCodesArmed: commands.filter((c) => c.action === 'ArmPickupCode').length,
      pickupCodesAccepted: codeAccepted.length,
      // Typed while the hub could not be told: the event reached it 2 s or more after the take.
      pickupCodesAcceptedOffline: codeAccepted.filter(
        (e) => Date.parse(String(e.received_at)) - Date.parse(String(e.at)) >= 2000,
      ).length,
      pickupCodesRefused: hubEvents.filter((e) => e.type === 'PickupCodeRefused').length,
      readyReformats,
      readyReformatsForReservations: reservationReformats,
      // The kiosk refused the slot the hub named (busy meanwhile) or to reformat its stock.
      reservationsFailedSlotBusy: reservations.filter(
        (r) => r.failure_reason === 'PREPARE_FAILED: ESLOTBUSY',
      ).length,
      reservationsFailedStock: reservations.filter(
        (r) => r.failure_reason === 'PREPARE_FAILED: ESTOCK',
      ).length,
      ejects: input.kiosks.reduce(
        (s, k) => s + k.sim.record.filter((r) => r.kind === 'eject').length,
        0,
      ),
    };
    return { violations: v, stats };
  } finally {
    hub.close();
    for (const { db } of kdbs) db.close();
  }
}
