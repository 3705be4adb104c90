/**
 * Waits until the fleet is quiet after the faults stopped: hub up, every kiosk connected,
 * every outbox drained (the hub's database read through world.db), no command pending or sent, no order, reservation preparation or
 * payment in flight, no reservation past its hold still awaiting its kiosk (pickup codes). Reads the databases read-only. Resolves with what was still
 * unsettled when `timeoutMs` passed (empty when everything settled).
 */
import Database from 'better-sqlite3';
import type { World } from './world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function unsettled(world: World): Promise<string[]> {
  const out: string[] = [];
  world.hubs.forEach((h, i) => {
    if (!h.running())
      out.push(world.hubs.length > 1 ? `hub ${i + 1} is down` : 'cloud-lite is down');
  });
  const q = (sql: string, ...p: unknown[]) => world.db.all(sql, ...p);
  for (const k of await q("SELECT id FROM kiosks WHERE status != 'online'"))
    out.push(`${k.id} offline`);
  for (const c of await q(
    "SELECT id, kiosk_id, action, state FROM commands WHERE state IN ('pending','sent')",
  ))
    out.push(`command ${c.id} (${c.action} to ${c.kiosk_id}) ${c.state}`);
  for (const o of await q(
    "SELECT id, state FROM orders WHERE state NOT IN ('completed','failed','cancelled')",
  ))
    out.push(`order ${o.id} ${o.state}`);
  for (const r of await q("SELECT id FROM reservations WHERE state = 'preparing'"))
    out.push(`reservation ${r.id} preparing`);
  // Past its hold with a pickup code armed: the kiosk may have honoured the code, so the hub
  // waits for the kiosk's ReservationExpired (or its 2 min grace) before it ends it.
  for (const r of await q(
    "SELECT id FROM reservations WHERE state = 'ready' AND pickup_code_command_id IS NOT NULL AND hold_until <= ?",
    new Date().toISOString(),
  ))
    out.push(`reservation ${r.id} past its hold, awaiting its kiosk's word on the pickup code`);
  for (const p of await q(
    "SELECT id, state FROM payments WHERE state IN ('authorising','capturing','voiding','refunding')",
  ))
    out.push(`payment ${p.id} ${p.state}`);
  for (const k of world.kiosks) {
    if (!k.kiosk.running()) out.push(`kioskd ${k.id} not running`);
    const db = new Database(k.dbPath, { readonly: true, fileMustExist: true });
    try {
      const n = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
      if (n > 0) out.push(`${k.id} outbox holds ${n} events`);
      const busy = db
        .prepare("SELECT count(*) AS n FROM slots WHERE state = 'dispensing'")
        .get() as { n: number };
      if (busy.n > 0) out.push(`${k.id} has ${busy.n} slots dispensing`);
    } finally {
      db.close();
    }
  }
  return out;
}

export async function settle(world: World, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  let quietSince = 0;
  for (;;) {
    last = await unsettled(world).catch((err) => [
      `cannot read the databases: ${(err as Error).message}`,
    ]);
    if (last.length === 0) {
      quietSince ||= Date.now();
      // Quiet twice, a second apart: nothing was merely between two states.
      if (Date.now() - quietSince >= 1000) return [];
    } else quietSince = 0;
    if (Date.now() > deadline) return last;
    await sleep(250);
  }
}
