/**
 * The money-and-disk invariants over the hub's records, as pure functions of plain facts: ONE
 * implementation, run live by the hub (invariant-job.ts over the store, `cloud-lite check`) and
 * by fleet-sim's end-of-run checker (scripts/fleet-sim/checker.ts builds the same facts from
 * the hub's SQLite file). Each violation names the invariant and the ids to look at:
 *
 *  - `one-capture`: an order (with the reservation it picks up) was captured at most once; a
 *    payment the provider captured more than once (when its captures are known);
 *  - `capture-has-taken`: an order's captured payment matches a DispenseCompleted `taken` for
 *    the order (or a jam hold: the disk was pulled from the jammed slot);
 *  - `authorisation-closed`: no card authorisation older than `authorisationMaxAgeMs` is still
 *    open (captured or voided by then);
 *  - `disk-one-place`: in the hub's records, a disk is in at most one slot, and not in a slot
 *    while a rental of it is open;
 *  - `slot-one-order`: no slot belongs to two live orders;
 *  - `events-gap-free`: each kiosk's events are recorded with seq 1..last without a gap.
 */
import { isActiveOrder } from '../rental/orders/order-view.js';

export interface Violation {
  invariant: string;
  message: string;
  ids: Record<string, string | number>;
}

export interface InvariantFacts {
  orders: Array<{
    id: string;
    state: string;
    kioskId: string;
    slot: number | null;
    reservationId: string | null;
    steps: Array<{ state: string }>;
  }>;
  payments: Array<{
    id: string;
    kind: string;
    purpose: string;
    refId: string | null;
    state: string;
    providerRef: string | null;
    createdAt: string;
  }>;
  /** Captures the provider recorded per providerRef, when the hub can know (the sandbox's ledger). */
  providerCaptures?: ReadonlyMap<string, number>;
  /** DispenseCompleted events (data: orderId, outcome). */
  dispenses: Array<{ kioskId: string; seq: number; data: Record<string, unknown> }>;
  /** Per kiosk: the seqs recorded for its current database, and the last seq the hub took. */
  kiosks: Array<{ id: string; lastSeq: number; seqs: readonly number[] }>;
  /** The hub's slot view: the disk each slot holds (null: none or unknown). */
  slots: Array<{ kioskId: string; slot: number; state: string; diskId: string | null }>;
  /** Rentals not yet returned (open, overdue). */
  openRentals: Array<{ id: string; diskId: string }>;
}

export interface InvariantOptions {
  now: Date;
  authorisationMaxAgeMs: number;
  /** Only these invariants (default: all). */
  only?: readonly string[];
}

export const INVARIANTS = [
  'one-capture',
  'capture-has-taken',
  'authorisation-closed',
  'disk-one-place',
  'slot-one-order',
  'events-gap-free',
] as const;

const CAPTURED = ['captured', 'refunding', 'refunded', 'refund_failed'];
/** Gaps listed per kiosk at most (one gap usually means many). */
const MAX_GAPS = 20;

export function checkInvariants(f: InvariantFacts, opts: InvariantOptions): Violation[] {
  const v: Violation[] = [];
  const on = (name: string) => !opts.only || opts.only.includes(name);
  const add = (invariant: string, message: string, ids: Record<string, string | number>) => {
    if (on(invariant)) v.push({ invariant, message, ids });
  };
  const auths = f.payments.filter((p) => p.kind === 'auth');
  const byRef = new Map<string, typeof auths>();
  for (const p of auths) if (p.refId) byRef.set(p.refId, [...(byRef.get(p.refId) ?? []), p]);
  // The provider's count where it is known, else the hub's state (captured once or not).
  const captures = (p: (typeof auths)[number]) =>
    p.providerRef && f.providerCaptures?.has(p.providerRef)
      ? f.providerCaptures.get(p.providerRef)!
      : CAPTURED.includes(p.state)
        ? 1
        : 0;
  const taken = new Map<string, number>();
  for (const e of f.dispenses)
    if (e.data.outcome === 'taken' && typeof e.data.orderId === 'string')
      taken.set(e.data.orderId, (taken.get(e.data.orderId) ?? 0) + 1);

  for (const o of f.orders) {
    const own = byRef.get(o.id) ?? [];
    const pays = [...own, ...(o.reservationId ? (byRef.get(o.reservationId) ?? []) : [])];
    const n = pays.reduce((s, p) => s + captures(p), 0);
    if (n > 1) add('one-capture', `order captured ${n} times`, { orderId: o.id });
    const capturedOwn = own.filter((p) => captures(p) > 0);
    if (capturedOwn.length > 0 && !taken.has(o.id) && !o.steps.some((s) => s.state === 'jam_hold'))
      add(
        'capture-has-taken',
        `order ${o.state}: its payment was captured but no DispenseCompleted(taken) names it`,
        { orderId: o.id, paymentId: capturedOwn[0]!.id },
      );
  }
  if (f.providerCaptures)
    for (const p of auths) {
      const n = p.providerRef ? (f.providerCaptures.get(p.providerRef) ?? 0) : 0;
      if (n > 1)
        add('one-capture', `the provider recorded ${n} captures of one payment`, {
          paymentId: p.id,
        });
    }
  const oldest = opts.now.getTime() - opts.authorisationMaxAgeMs;
  for (const p of auths)
    if ((p.state === 'authorised' || p.state === 'authorising') && Date.parse(p.createdAt) < oldest)
      add(
        'authorisation-closed',
        `${p.purpose} payment still ${p.state} since ${p.createdAt} (neither captured nor voided)`,
        { paymentId: p.id, ...(p.refId ? { refId: p.refId } : {}) },
      );

  const places = new Map<string, string[]>();
  for (const s of f.slots)
    if (s.diskId && s.state !== 'empty')
      places.set(s.diskId, [...(places.get(s.diskId) ?? []), `${s.kioskId} slot ${s.slot}`]);
  for (const r of f.openRentals)
    places.set(r.diskId, [...(places.get(r.diskId) ?? []), `rental ${r.id}`]);
  for (const [disk, where] of places)
    if (where.length > 1)
      add('disk-one-place', `disk is in ${where.length} places: ${where.join(', ')}`, {
        diskId: disk,
      });

  const bySlot = new Map<string, string[]>();
  for (const o of f.orders)
    if (isActiveOrder(o) && o.slot !== null) {
      const k = `${o.kioskId}/${o.slot}`;
      bySlot.set(k, [...(bySlot.get(k) ?? []), o.id]);
    }
  for (const [k, ids] of bySlot)
    if (ids.length > 1) {
      ids.sort();
      const [kioskId, slot] = k.split('/') as [string, string];
      add('slot-one-order', `slot is claimed by ${ids.length} live orders: ${ids.join(', ')}`, {
        kioskId,
        slot: Number(slot),
        orderIds: ids.join(','),
      });
    }

  for (const k of f.kiosks) {
    const seen = new Set(k.seqs);
    const last = Math.max(k.lastSeq, ...k.seqs, 0);
    let gaps = 0;
    for (let s = 1; s <= last && gaps < MAX_GAPS; s++)
      if (!seen.has(s)) {
        gaps++;
        add('events-gap-free', `seq ${s} missing at the hub`, { kioskId: k.id, seq: s });
      }
  }
  return v;
}
