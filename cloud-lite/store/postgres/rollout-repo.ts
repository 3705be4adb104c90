import type { RolloutKioskRecord, RolloutRecord, RolloutRepo } from '../repos/rollout-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function pgRolloutRepo(sql: Sql): RolloutRepo {
  const rollouts = pgTable<RolloutRecord>(sql, {
    name: 'rollouts',
    key: 'id',
    json: ['waves', 'waveSpec'],
  });
  const kiosks = pgTable<RolloutKioskRecord>(sql, { name: 'rollout_kiosks', key: 'rolloutId' });
  return {
    async insert(r, list) {
      await rollouts.insert(r);
      for (const k of list) await kiosks.insert(k);
    },
    get: (id) => rollouts.get(id),
    list: (limit) =>
      rollouts.all('SELECT * FROM rollouts ORDER BY created_at DESC, row_no DESC LIMIT $1', limit),
    listOpen: () =>
      rollouts.all(
        "SELECT * FROM rollouts WHERE state IN ('running', 'halted') ORDER BY created_at, row_no",
      ),
    update: (id, patch) => rollouts.keyed.update(id, patch),
    kiosks: (rolloutId) =>
      kiosks.all('SELECT * FROM rollout_kiosks WHERE rollout_id = $1 ORDER BY position', rolloutId),
    kioskByCommand: (commandId) =>
      kiosks.one('SELECT * FROM rollout_kiosks WHERE command_id = $1', commandId),
    async updateKiosk(rolloutId, kioskId, patch) {
      const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
      if (entries.length === 0) return;
      await sql.run(
        `UPDATE rollout_kiosks SET ${entries.map(([k], i) => `${snake(k)} = $${i + 1}`).join(', ')}
         WHERE rollout_id = $${entries.length + 1} AND kiosk_id = $${entries.length + 2}`,
        [...entries.map(([, v]) => v), rolloutId, kioskId],
      );
    },
  };
}
