import { ACTIVE_ORDER_STATES, TERMINAL_ORDER_STATES } from '../rental/orders/order-view.js';
import type { OrderState, PaymentState, Tx } from '../store/types.js';
import type { InvariantFacts } from './invariants.js';

const ORDER_STATES = [...ACTIVE_ORDER_STATES, ...TERMINAL_ORDER_STATES] as OrderState[];
const PAYMENT_STATES: readonly PaymentState[] = [
  'authorising',
  'authorised',
  'declined',
  'failed',
  'capturing',
  'captured',
  'capture_failed',
  'voiding',
  'voided',
  'refunding',
  'refunded',
  'refund_failed',
];
const ALL = 10_000_000;
const PAGE = 5000;

/**
 * The invariants' facts from the store, read in one transaction (a consistent snapshot): every
 * order, payment, DispenseCompleted, event seq, slot and open rental. Reads every event of
 * every kiosk (seqs only are kept): linear in the events recorded.
 */
export async function loadInvariantFacts(tx: Tx, now: Date): Promise<InvariantFacts> {
  const orders = await tx.orders.listByStates(ORDER_STATES, ALL);
  const payments = await tx.payments.listByState(PAYMENT_STATES, now.toISOString());
  const ledger = await tx.sandbox.ledger();
  const providerCaptures = new Map<string, number>();
  for (const l of ledger)
    if (l.op === 'capture')
      providerCaptures.set(l.paymentId, (providerCaptures.get(l.paymentId) ?? 0) + 1);
  const facts: InvariantFacts = {
    orders: orders.map((o) => ({
      id: o.id,
      state: o.state,
      kioskId: o.kioskId,
      slot: o.slot,
      reservationId: o.reservationId,
      steps: o.steps,
    })),
    payments,
    providerCaptures: ledger.length > 0 ? providerCaptures : undefined,
    dispenses: [],
    kiosks: [],
    slots: [],
    openRentals: (await tx.rentals.listByStates(['open', 'overdue'])).flatMap((r) =>
      r.diskId ? [{ id: r.id, diskId: r.diskId }] : [],
    ),
  };
  for (const k of await tx.kiosks.list()) {
    const seqs: number[] = [];
    for (let after = 0; ; ) {
      const page = await tx.events.listForKiosk(k.id, { afterSeq: after, limit: PAGE });
      for (const e of page) {
        if (k.seqSince && e.receivedAt < k.seqSince) continue;
        seqs.push(e.seq);
        if (e.type === 'DispenseCompleted')
          facts.dispenses.push({ kioskId: k.id, seq: e.seq, data: e.data });
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.seq;
    }
    facts.kiosks.push({ id: k.id, lastSeq: k.lastSeq, seqs });
    for (const s of await tx.slots.list(k.id))
      facts.slots.push({
        kioskId: k.id,
        slot: s.slot,
        state: s.state,
        diskId: typeof s.snapshot.diskId === 'string' ? s.snapshot.diskId : null,
      });
  }
  return facts;
}
