/**
 * kioskctl without kioskd: the database read-only (never the hardware), so a technician
 * still sees the last known slots, queues and faults while the daemon is down.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { databasePath, type KioskConfig } from '../config.js';
import type { KioskDb } from '../db/open-db.js';
import { MaintenanceError } from '../maintenance-wire.js';
import { diskSpace, identityView, queueDepths, recordedFaults, slotViews } from '../state/views.js';
import { imageVersion, packageVersion } from '../version.js';

/** Opens the kiosk database read-only; rejects with ENODB when it does not exist. */
export function openReadOnly(config: KioskConfig): KioskDb {
  const file = databasePath(config);
  if (!existsSync(file))
    throw new MaintenanceError(
      'ENODB',
      `no kiosk database at ${file} (kioskd has never run with this dataDir)`,
    );
  try {
    return new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new MaintenanceError('ENODB', `cannot open ${file} read-only: ${(err as Error).message}`);
  }
}

function withDb<T>(config: KioskConfig, fn: (db: KioskDb) => T): T {
  const db = openReadOnly(config);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function offlineStatus(config: KioskConfig, imageVersionFile?: string) {
  return withDb(config, (db) => {
    const slots = slotViews(db);
    const id = identityView(db);
    const counts: Record<string, number> = {};
    for (const s of slots) counts[s.state] = (counts[s.state] ?? 0) + 1;
    return {
      daemon: 'not running',
      kioskId: config.kioskId,
      softwareVersion: packageVersion(),
      imageVersion: imageVersion(imageVersionFile),
      hub: {
        url: config.hub.url,
        state: 'unknown',
        connected: false,
        lastSync: id.lastSync,
        lastError: null,
      },
      clockOffsetMs: id.clockOffsetMs,
      queues: queueDepths(db),
      dataDir: diskSpace(config.dataDir),
      board: null,
      slots: counts,
      faults: recordedFaults(slots),
    };
  });
}

export function offlineSlots(config: KioskConfig) {
  return withDb(config, (db) => ({ slots: slotViews(db) }));
}
