import type Database from 'better-sqlite3';
import type { RolloutKioskRecord, RolloutRecord, RolloutRepo } from '../repos/rollout-repo.js';
import { table } from './table.js';

export function sqliteRolloutRepo(db: Database.Database): RolloutRepo {
  const rollouts = table<RolloutRecord>(db, {
    name: 'rollouts',
    key: 'id',
    json: ['waves', 'waveSpec'],
  });
  const kiosks = table<RolloutKioskRecord>(db, { name: 'rollout_kiosks', key: 'rolloutId' });
  const setKiosk = (patch: Record<string, unknown>) => {
    const cols = Object.keys(patch).filter((k) => patch[k] !== undefined);
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return {
      sql: `UPDATE rollout_kiosks SET ${cols.map((c) => `${snake(c)} = @${c}`).join(', ')}
            WHERE rollout_id = @__rollout AND kiosk_id = @__kiosk`,
      params: Object.fromEntries(cols.map((c) => [c, patch[c]])),
      empty: cols.length === 0,
    };
  };
  return {
    async insert(r, list) {
      await rollouts.insert(r);
      for (const k of list) await kiosks.insert(k);
    },
    get: (id) => rollouts.get(id),
    async list(limit) {
      return rollouts.all(
        'SELECT * FROM rollouts ORDER BY created_at DESC, rowid DESC LIMIT ?',
        limit,
      );
    },
    async listOpen() {
      return rollouts.all(
        "SELECT * FROM rollouts WHERE state IN ('running', 'halted') ORDER BY created_at",
      );
    },
    update: (id, patch) => rollouts.keyed.update(id, patch),
    async kiosks(rolloutId) {
      return kiosks.all(
        'SELECT * FROM rollout_kiosks WHERE rollout_id = ? ORDER BY position',
        rolloutId,
      );
    },
    async kioskByCommand(commandId) {
      return kiosks.one('SELECT * FROM rollout_kiosks WHERE command_id = ?', commandId);
    },
    async updateKiosk(rolloutId, kioskId, patch) {
      const u = setKiosk(patch);
      if (u.empty) return;
      db.prepare(u.sql).run({ ...u.params, __rollout: rolloutId, __kiosk: kioskId });
    },
  };
}
