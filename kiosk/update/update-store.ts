/**
 * The `updates` table (migration 006): one row per software update. Every change of an
 * update's state is written together with its UpdateStatus event, in one transaction.
 */
import type { UpdateState, UpdateStatusData } from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from '../state/clock.js';
import type { Outbox } from '../state/outbox.js';

export const FINAL_STATES: readonly UpdateState[] = ['committed', 'rolled_back', 'failed'];

export interface UpdateRecord {
  updateId: string;
  commandId: string | null;
  version: string;
  fromVersion: string;
  source: 'hub' | 'technician';
  actor: string | null;
  bundleUrl: string | null;
  sha256: string | null;
  size: number | null;
  deadline: string | null;
  bundleFile: string;
  state: UpdateState;
  fromSlot: string | null;
  boardOk: boolean;
  code: string | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  update_id: string;
  command_id: string | null;
  version: string;
  from_version: string;
  source: 'hub' | 'technician';
  actor: string | null;
  bundle_url: string | null;
  sha256: string | null;
  size: number | null;
  deadline: string | null;
  bundle_file: string;
  state: UpdateState;
  from_slot: string | null;
  board_ok: number;
  code: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: Row): UpdateRecord => ({
  updateId: r.update_id,
  commandId: r.command_id,
  version: r.version,
  fromVersion: r.from_version,
  source: r.source,
  actor: r.actor,
  bundleUrl: r.bundle_url,
  sha256: r.sha256,
  size: r.size,
  deadline: r.deadline,
  bundleFile: r.bundle_file,
  state: r.state,
  fromSlot: r.from_slot,
  boardOk: r.board_ok === 1,
  code: r.code,
  reason: r.reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** What an UpdateStatus event adds to the record's own fields. */
export type StatusExtras = Pick<
  UpdateStatusData,
  'percent' | 'bytesDone' | 'bytesTotal' | 'waitingFor' | 'code' | 'reason'
>;

export class UpdateStore {
  constructor(private readonly deps: { db: KioskDb; outbox: Outbox; clock: TimeSource }) {}

  /** The update that is not final yet, if any. */
  active(): UpdateRecord | undefined {
    const r = this.deps.db
      .prepare(
        "SELECT * FROM updates WHERE state NOT IN ('committed', 'rolled_back', 'failed') ORDER BY created_at DESC LIMIT 1",
      )
      .get() as Row | undefined;
    return r && fromRow(r);
  }

  get(updateId: string): UpdateRecord | undefined {
    const r = this.deps.db.prepare('SELECT * FROM updates WHERE update_id = ?').get(updateId) as
      | Row
      | undefined;
    return r && fromRow(r);
  }

  byCommand(commandId: string): UpdateRecord | undefined {
    const r = this.deps.db.prepare('SELECT * FROM updates WHERE command_id = ?').get(commandId) as
      | Row
      | undefined;
    return r && fromRow(r);
  }

  /** The newest `limit` updates, newest first. */
  history(limit = 10): UpdateRecord[] {
    return (
      this.deps.db
        .prepare('SELECT * FROM updates ORDER BY created_at DESC, rowid DESC LIMIT ?')
        .all(limit) as Row[]
    ).map(fromRow);
  }

  /** Records a new update in `state` and sends its first UpdateStatus. */
  create(
    u: Omit<UpdateRecord, 'createdAt' | 'updatedAt' | 'code' | 'reason' | 'fromSlot' | 'boardOk'>,
    extras: StatusExtras = {},
  ): UpdateRecord {
    const now = this.deps.clock.now().toISOString();
    this.deps.db.transaction(() => {
      this.deps.db
        .prepare(
          `INSERT INTO updates (update_id, command_id, version, from_version, source, actor,
             bundle_url, sha256, size, deadline, bundle_file, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          u.updateId,
          u.commandId,
          u.version,
          u.fromVersion,
          u.source,
          u.actor,
          u.bundleUrl,
          u.sha256,
          u.size,
          u.deadline,
          u.bundleFile,
          u.state,
          now,
          now,
        );
      this.event(u, u.state, extras);
    })();
    return this.get(u.updateId) as UpdateRecord;
  }

  /**
   * Moves an update to `state` (with the fields given) and sends UpdateStatus, in one
   * transaction. The same state again only sends the event (progress).
   */
  set(
    updateId: string,
    state: UpdateState,
    extras: StatusExtras = {},
    fields: { fromSlot?: string; boardOk?: boolean } = {},
  ): UpdateRecord {
    const { db } = this.deps;
    db.transaction(() => {
      const cur = this.get(updateId);
      if (!cur) throw new Error(`no update ${updateId}`);
      db.prepare(
        `UPDATE updates SET state = ?, code = ?, reason = ?, updated_at = ?,
           from_slot = COALESCE(?, from_slot), board_ok = COALESCE(?, board_ok)
         WHERE update_id = ?`,
      ).run(
        state,
        extras.code ?? (state === cur.state ? cur.code : null),
        extras.reason ?? (state === cur.state ? cur.reason : null),
        this.deps.clock.now().toISOString(),
        fields.fromSlot ?? null,
        fields.boardOk === undefined ? null : fields.boardOk ? 1 : 0,
        updateId,
      );
      this.event(cur, state, extras);
    })();
    return this.get(updateId) as UpdateRecord;
  }

  private event(
    u: Pick<UpdateRecord, 'commandId' | 'version' | 'fromVersion'>,
    state: UpdateState,
    extras: StatusExtras,
  ): void {
    const data: UpdateStatusData = {
      ...(u.commandId ? { commandId: u.commandId } : {}),
      version: u.version,
      fromVersion: u.fromVersion,
      state,
    };
    for (const [k, v] of Object.entries(extras)) {
      if (v !== undefined) (data as Record<string, unknown>)[k] = v;
    }
    if (data.reason !== undefined) data.reason = data.reason.slice(0, 1024);
    this.deps.outbox.append('UpdateStatus', data);
  }
}
