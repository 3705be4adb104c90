/**
 * The database across an update and its rollback. Both root slots share the data partition,
 * so the new slot's kioskd may migrate the database to a schema the old kioskd refuses
 * (EDBNEWER). Before the reboot into the trial the updater copies the database aside
 * (`pre-update.sqlite`, an online backup); if the old slot comes back and finds the database
 * newer than it knows, it puts that copy back. The trial ran under the update lock (no
 * dispense, preparation or wipe), so what it wrote is its own bookkeeping; its events were
 * numbered past the copy's, so the event counter moves past the newer database's (the hub
 * sees a gap, never a reused `seq`).
 */
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { KioskDb } from '../db/open-db.js';
import { openDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';

export const SNAPSHOT_NAME = 'pre-update.sqlite';

/** An online, consistent copy of the database into `file` (replaced). */
export async function snapshotDatabase(db: KioskDb, file: string): Promise<void> {
  await db.backup(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
}

/**
 * Opens the database; if it is from a newer kioskd (EDBNEWER) and `snapshot` exists (an
 * update was rolled back), moves it aside (`<file>.newer-<time>`), restores the snapshot and
 * carries the newer database's event counter over. Other errors are thrown as they are.
 */
export function openDbAcrossRollback(
  file: string,
  snapshot: string,
  log: KioskLogger,
  now: () => Date = () => new Date(),
): KioskDb {
  try {
    return openDb({ file });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EDBNEWER' || !existsSync(snapshot)) throw err;
    let seq = 0;
    const newer = new Database(file, { readonly: true, fileMustExist: true });
    try {
      seq =
        (
          newer.prepare("SELECT value FROM counters WHERE name = 'outbox_seq'").get() as
            | { value: number }
            | undefined
        )?.value ?? 0;
    } finally {
      newer.close();
    }
    const aside = `${file}.newer-${now().toISOString().replace(/[:.]/g, '-')}`;
    for (const ext of ['', '-wal', '-shm']) {
      if (existsSync(file + ext)) renameSync(file + ext, aside + ext);
    }
    copyFileSync(snapshot, file);
    const db = openDb({ file });
    db.prepare("UPDATE counters SET value = MAX(value, ?) WHERE name = 'outbox_seq'").run(seq);
    log.warn(
      { database: file, keptAs: aside, snapshot, outboxSeq: seq },
      'the database was migrated by the update that was rolled back: restored the copy taken before it',
    );
    return db;
  }
}
