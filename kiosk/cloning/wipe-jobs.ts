/**
 * The `wipe_jobs` rows (migration 003): which slot in `preparing` is being checked or
 * wiped, so that a restart resumes the work instead of offering a disk that may still
 * hold a renter's data. Synchronous; record() and clear() run inside SlotStore
 * transitions' `also`, so the row and the slot state always agree.
 */
import type { KioskDb } from '../db/open-db.js';

export interface WipeJob {
  slot: number;
  diskId: string;
  /** `check`: a returned disk (verify if write-protected, else wipe); `wipe`: WipeDisk. */
  kind: 'check' | 'wipe';
  mode: 'quick' | 'full';
  writeProtected: boolean;
  commandId?: string | undefined;
  attempts: number;
}

export function recordWipeJob(db: KioskDb, job: Omit<WipeJob, 'attempts'>, now: string): void {
  db.prepare(
    `INSERT INTO wipe_jobs (slot, disk_id, kind, mode, write_protected, command_id, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (slot) DO UPDATE SET disk_id = excluded.disk_id, kind = excluded.kind,
       mode = excluded.mode, write_protected = excluded.write_protected,
       command_id = excluded.command_id, attempts = 1, started_at = excluded.started_at`,
  ).run(
    job.slot,
    job.diskId,
    job.kind,
    job.mode,
    job.writeProtected ? 1 : 0,
    job.commandId ?? null,
    now,
  );
}

export function clearWipeJob(db: KioskDb, slot: number): void {
  db.prepare('DELETE FROM wipe_jobs WHERE slot = ?').run(slot);
}

export function listWipeJobs(db: KioskDb): WipeJob[] {
  const rows = db
    .prepare(
      'SELECT slot, disk_id, kind, mode, write_protected, command_id, attempts FROM wipe_jobs ORDER BY slot',
    )
    .all() as {
    slot: number;
    disk_id: string;
    kind: 'check' | 'wipe';
    mode: 'quick' | 'full';
    write_protected: number;
    command_id: string | null;
    attempts: number;
  }[];
  return rows.map((r) => ({
    slot: r.slot,
    diskId: r.disk_id,
    kind: r.kind,
    mode: r.mode,
    writeProtected: r.write_protected === 1,
    commandId: r.command_id ?? undefined,
    attempts: r.attempts,
  }));
}

export function countWipeAttempt(db: KioskDb, slot: number): void {
  db.prepare('UPDATE wipe_jobs SET attempts = attempts + 1 WHERE slot = ?').run(slot);
}

/** Slots a running PrepareDisk job claims (PrepareHandler.recover() handles those). */
export function prepareClaimedSlots(db: KioskDb): Set<number> {
  const rows = db
    .prepare("SELECT slot FROM prepare_jobs WHERE state = 'running' AND slot IS NOT NULL")
    .all() as { slot: number }[];
  return new Set(rows.map((r) => r.slot));
}
