/**
 * The checker's money-and-limits invariants, read from the hub's
 * database after the run:
 *  - `rental-max-days`: no rental lasts longer than its disk type's maxDays (its due date
 *    minus its start), whatever the extend storms sent;
 *  - `extension-charged-once`: every applied extension has exactly one extension charge of its
 *    amount on its rental (and a card extension's payment was captured once, for that amount);
 *    no extension is still `pending` once the fleet settled; a failed one took no money;
 *  - `unreachable-told`: an order whose kioskd was killed mid-dispense and stayed down for at
 *    least TOLD_WITHIN_MS shows `kiosk_unreachable` within TOLD_WITHIN_MS of the kill, unless
 *    it had already ended (or the hub itself was down meanwhile).
 */
import type Database from 'better-sqlite3';
import type { FaultLogEntry } from './faults.js';

type Row = Record<string, unknown>;
type Add = (invariant: string, message: string, ids?: Record<string, string | number>) => void;

const DAY_MS = 24 * 3600 * 1000;
/** How soon a renter is told their kiosk went away ("within about 10 s"). */
export const TOLD_WITHIN_MS = 10_000;

export interface MoneyCheckInput {
  hub: Database.Database;
  /** The run's fault log (absolute times). */
  faults: readonly FaultLogEntry[];
}

export function checkMoneyRules(input: MoneyCheckInput, add: Add): Record<string, number> {
  const all = (sql: string) => input.hub.prepare(sql).all() as Row[];
  const rentals = all('SELECT * FROM rentals');
  const types = new Map(all('SELECT * FROM disk_types').map((t) => [String(t.id), t]));
  const extensions = all('SELECT * FROM rental_extensions');
  const charges = all("SELECT * FROM charges WHERE kind = 'extension'");
  const payments = new Map(all('SELECT * FROM payments').map((p) => [String(p.id), p]));
  const ledger = all("SELECT * FROM sandbox_ledger WHERE op = 'capture'");

  for (const r of rentals) {
    const type = types.get(String(r.disk_type_id));
    const days = Math.round(
      (Date.parse(String(r.due_at)) - Date.parse(String(r.started_at))) / DAY_MS,
    );
    if (type && days > Number(type.max_days))
      add('rental-max-days', `rental lasts ${days} days; ${type.id} allows ${type.max_days}`, {
        rentalId: String(r.id),
      });
  }
  for (const e of extensions) {
    const id = String(e.id);
    const p = e.payment_id ? payments.get(String(e.payment_id)) : undefined;
    const captures = p ? ledger.filter((l) => l.payment_id === p.provider_ref).length : 0;
    if (e.state === 'pending')
      add('extension-charged-once', 'extension still pending after the fleet settled', {
        extensionId: id,
      });
    else if (e.state === 'failed' && captures > 0)
      add('extension-charged-once', `failed extension but its payment was captured`, {
        extensionId: id,
      });
    else if (e.state === 'applied' && p && (captures !== 1 || p.captured_minor !== e.amount_minor))
      add(
        'extension-charged-once',
        `applied extension of ${e.amount_minor}: payment captured ${captures} times (${p.captured_minor})`,
        { extensionId: id, paymentId: String(p.id) },
      );
  }
  for (const r of rentals) {
    const applied = extensions.filter((e) => e.rental_id === r.id && e.state === 'applied');
    const charged = charges.filter((c) => c.rental_id === r.id);
    const sum = (xs: Row[]) => xs.reduce((n, x) => n + Number(x.amount_minor), 0);
    if (applied.length !== charged.length || sum(applied) !== sum(charged))
      add(
        'extension-charged-once',
        `${applied.length} extensions applied (${sum(applied)}) but ${charged.length} extension charges (${sum(charged)})`,
        { rentalId: String(r.id) },
      );
  }

  // ---- a kiosk lost mid-dispense is told to the renter ------------------------------------
  const orders = new Map(all('SELECT id, state, steps FROM orders').map((o) => [String(o.id), o]));
  const hubDown = input.faults.filter((f) => f.kind === 'hub_restart');
  let told = 0;
  let kills = 0;
  for (const f of input.faults) {
    if (f.kind !== 'kioskd_dies_mid_dispense' || !f.orderId) continue;
    kills++;
    const o = orders.get(f.orderId);
    const steps = (o ? JSON.parse(String(o.steps)) : []) as Array<{ at: string; state: string }>;
    const at = (s: { at: string }) => Date.parse(s.at);
    const seen = steps.find((s) => s.state === 'kiosk_unreachable' && at(s) >= f.at);
    if (seen) told++;
    if ((f.downMs ?? 0) < TOLD_WITHIN_MS) continue;
    const ended = steps.some(
      (s) =>
        ['completed', 'failed', 'cancelled'].includes(s.state) && at(s) <= f.at + TOLD_WITHIN_MS,
    );
    // The hub down too (restarted within the window, or still starting): it cannot tell anyone.
    const hubAway = hubDown.some((h) => h.at <= f.at + TOLD_WITHIN_MS && h.at + 20_000 >= f.at);
    if (ended || hubAway) continue;
    if (!seen || at(seen) > f.at + TOLD_WITHIN_MS)
      add(
        'unreachable-told',
        seen
          ? `order shown kiosk_unreachable ${at(seen) - f.at} ms after its kioskd was killed`
          : `kioskd ${f.target} killed mid-dispense for ${f.downMs} ms; the order never showed kiosk_unreachable`,
        { orderId: f.orderId, kioskId: f.target },
      );
  }
  return {
    extensionsApplied: extensions.filter((e) => e.state === 'applied').length,
    extensionsFailed: extensions.filter((e) => e.state === 'failed').length,
    longestRentalDays: Math.max(
      0,
      ...rentals.map((r) =>
        Math.round((Date.parse(String(r.due_at)) - Date.parse(String(r.started_at))) / DAY_MS),
      ),
    ),
    kioskdKilledMidDispense: kills,
    ordersToldKioskUnreachable: [...orders.values()].filter((o) =>
      String(o.steps).includes('"kiosk_unreachable"'),
    ).length,
    killedOrdersToldKioskUnreachable: told,
  };
}
