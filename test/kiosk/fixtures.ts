import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureIdentity, type KioskDb, openDb } from '../../kiosk/db/open-db.js';
import { HubClock } from '../../kiosk/link/clock.js';
import { Outbox } from '../../kiosk/link/outbox.js';
import { silentLogger } from '../../kiosk/log.js';
import { SlotStore } from '../../kiosk/slots/slot-store.js';

/** A fresh temp dir removed in teardown. */
export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'kioskd-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Kit {
  db: KioskDb;
  clock: HubClock;
  outbox: Outbox;
  slots: SlotStore;
  file: string;
}

/** Opens (or reopens) a kiosk database in `dir` with its outbox, clock and slot store. */
export function openKit(dir: string, kioskId = 'kiosk-1', slotCount = 4): Kit {
  const file = path.join(dir, 'kioskd.sqlite');
  const db = openDb({ file });
  ensureIdentity(db, kioskId);
  const clock = new HubClock({ db });
  const outbox = new Outbox({ db, clock });
  const slots = new SlotStore({ db, outbox, clock, log: silentLogger() });
  slots.ensureSlots(slotCount);
  return { db, clock, outbox, slots, file };
}

/** openKit in a temp dir, closed in teardown. */
export function kit(t: { teardown(fn: () => void): void }, slotCount = 4): Kit {
  const k = openKit(tempDir(t), 'kiosk-1', slotCount);
  t.teardown(() => {
    if (k.db.open) k.db.close();
  });
  return k;
}
