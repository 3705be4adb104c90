import {
  type CommandRecord,
  type CommandRepo,
  type CommandState,
  commandValues,
} from '../repos/command-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

const FINAL = "('rejected', 'completed', 'failed', 'expired')";

export function pgCommandRepo(sql: Sql): CommandRepo {
  const commands = pgTable<CommandRecord>(sql, {
    name: 'commands',
    key: 'id',
    json: ['payload', 'result'],
  });
  return {
    insert: commands.insert,
    async insertIfKiosk(c, kiosk) {
      return (
        (await sql.run(
          `INSERT INTO commands (id, kiosk_id, action, payload, state, created_at, updated_at, deadline, attempts, last_sent_at, result)
           SELECT $1::text, $2::text, $3::text, $4::jsonb, $5::text, $6::text, $7::text, $8::text, $9::bigint, $10::text, $11::jsonb
           WHERE EXISTS (SELECT 1 FROM kiosks WHERE id = $2 AND CASE WHEN $12::boolean
             THEN last_boot_at IS NOT NULL AND features IS NOT DISTINCT FROM $13::jsonb ELSE last_boot_at IS NULL END)`,
          [
            ...commandValues(c),
            kiosk.booted,
            kiosk.features === null ? null : JSON.stringify(kiosk.features),
          ],
        )) === 1
      );
    },
    get: commands.get,
    listOutstanding: (kioskId) =>
      commands.all(
        "SELECT * FROM commands WHERE kiosk_id = $1 AND state IN ('pending', 'sent') ORDER BY created_at, row_no",
        kioskId,
      ),
    listForKiosk: (kioskId, opts) =>
      commands.all(
        'SELECT * FROM commands WHERE kiosk_id = $1 AND created_at < $2 ORDER BY created_at DESC, row_no DESC LIMIT $3',
        kioskId,
        opts.beforeCreatedAt ?? '9999',
        opts.limit,
      ),
    async markSent(id, at) {
      return (
        (await sql.run(
          "UPDATE commands SET state = 'sent', attempts = attempts + 1, last_sent_at = $1, updated_at = $1 WHERE id = $2 AND state IN ('pending', 'sent')",
          [at, id],
        )) === 1
      );
    },
    async setState(id, state, at, result, onlyFrom) {
      // A final state is final: no late answer or event revives a command (e.g. expired -> completed).
      const json = result == null ? null : JSON.stringify(result);
      const from = onlyFrom ? ' AND state = ANY($5::text[])' : '';
      const values: unknown[] = [state, at, json, id];
      if (onlyFrom) values.push([...onlyFrom]);
      return (
        (await sql.run(
          `UPDATE commands SET state = $1, updated_at = $2, result = coalesce($3::jsonb, result)
           WHERE id = $4 AND state NOT IN ${FINAL}${from}`,
          values,
        )) === 1
      );
    },
    async countSend(id, at) {
      return (
        (await sql.run(
          'UPDATE commands SET attempts = attempts + 1, last_sent_at = $1 WHERE id = $2 AND (last_sent_at IS NULL OR last_sent_at < $1)',
          [at, id],
        )) === 1
      );
    },
    async setAnswered(id, state, at, result, sentAt) {
      return (
        (await sql.run(
          `UPDATE commands SET state = $1, updated_at = $2, result = $3::jsonb,
             attempts = attempts + 1, last_sent_at = $4
           WHERE id = $5 AND state IN ('pending', 'sent')`,
          [state, at, JSON.stringify(result), sentAt, id],
        )) === 1
      );
    },
    async recordAnswers(answers) {
      // One statement, one round trip, one commit for every answer (setAnswered's where
      // sent_at is given, setState's from pending or sent where not); the ids it changed back.
      const rows = await sql.rows<{ id: string }>(
        `UPDATE commands c SET state = a.state, updated_at = a.at, result = a.result::jsonb,
           attempts = c.attempts + CASE WHEN a.sent_at IS NULL THEN 0 ELSE 1 END,
           last_sent_at = COALESCE(a.sent_at, c.last_sent_at)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           AS a(id, state, at, result, sent_at)
         WHERE c.id = a.id AND c.state IN ('pending', 'sent')
         RETURNING c.id`,
        // By id: two processes' batches (and expireDue) lock common rows in one order, so
        // they wait for each other instead of deadlocking.
        ((sorted) => [
          sorted.map((a) => a.id),
          sorted.map((a) => a.state),
          sorted.map((a) => a.at),
          sorted.map((a) => JSON.stringify(a.result)),
          sorted.map((a) => a.sentAt),
        ])([...answers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))),
      );
      const changed = new Set(rows.map((r) => r.id));
      return answers.map((a) => changed.has(a.id));
    },
    async expireDue(now) {
      // One statement: what it expires is what it returns, whatever another process does meanwhile.
      const rows = await sql.rows(
        `WITH due AS (
           SELECT id FROM commands WHERE state IN ('pending', 'sent') AND deadline < $1
           ORDER BY id FOR UPDATE
         )
         UPDATE commands c SET state = 'expired', updated_at = $1 FROM due WHERE c.id = due.id
         RETURNING c.*`,
        [now],
      );
      const order = (r: Record<string, unknown>) =>
        [r.created_at as string, r.row_no as number] as const;
      return rows
        .sort((a, b) => {
          const [ca, na] = order(a);
          const [cb, nb] = order(b);
          return ca < cb ? -1 : ca > cb ? 1 : na - nb;
        })
        .map(commands.fromRow);
    },
    async countByState() {
      const out: Record<string, number> = {};
      const rows = await sql.rows<{ state: CommandState; n: number }>(
        'SELECT state, count(*) AS n FROM commands GROUP BY state',
      );
      for (const r of rows) out[r.state] = r.n;
      return out;
    },
  };
}
