import type Database from 'better-sqlite3';
import {
  COMMAND_COLUMNS,
  COMMAND_STATES,
  type CommandRecord,
  type CommandRepo,
  type CommandState,
  commandValues,
} from '../repos/command-repo.js';
import { fromJson, toJson } from './json.js';
import { marks } from './table.js';

interface Row {
  id: string;
  kiosk_id: string;
  action: string;
  payload: string;
  state: CommandState;
  created_at: string;
  updated_at: string;
  deadline: string;
  attempts: number;
  last_sent_at: string | null;
  result: string | null;
}

function toRecord(r: Row): CommandRecord {
  return {
    id: r.id,
    kioskId: r.kiosk_id,
    action: r.action,
    payload: fromJson<Record<string, unknown>>(r.payload) ?? {},
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deadline: r.deadline,
    attempts: r.attempts,
    lastSentAt: r.last_sent_at,
    result: fromJson<Record<string, unknown>>(r.result),
  };
}

/**
 * Features lists as the kiosks' column stores them (JSON text), by list: the dispatcher passes
 * the same KioskFacts, and so the same array, for every command to a kiosk.
 */
const featuresJson = new WeakMap<readonly string[], string>();
function featuresText(features: readonly string[] | null): string | null {
  if (features === null) return null;
  let text = featuresJson.get(features);
  if (text === undefined) {
    text = JSON.stringify(features);
    featuresJson.set(features, text);
  }
  return text;
}

export function sqliteCommandRepo(db: Database.Database): CommandRepo {
  const s = {
    insert: db.prepare(`INSERT INTO commands (${COMMAND_COLUMNS}) VALUES (${marks(11)})`),
    // The columns, then the kiosk again, booted (1/0) and its features as stored.
    insertIfKiosk: db.prepare(
      `INSERT INTO commands (${COMMAND_COLUMNS})
       SELECT ${marks(11)}
       WHERE EXISTS (SELECT 1 FROM kiosks WHERE id = ? AND CASE WHEN ?
         THEN last_boot_at IS NOT NULL AND features IS ? ELSE last_boot_at IS NULL END)`,
    ),
    get: db.prepare('SELECT * FROM commands WHERE id = ?'),
    outstanding: db.prepare(
      "SELECT * FROM commands WHERE kiosk_id = ? AND state IN ('pending', 'sent') ORDER BY created_at, rowid",
    ),
    forKiosk: db.prepare(
      'SELECT * FROM commands WHERE kiosk_id = ? AND created_at < ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    ),
    sent: db.prepare(
      "UPDATE commands SET state = 'sent', attempts = attempts + 1, last_sent_at = ?, updated_at = ? WHERE id = ? AND state IN ('pending', 'sent')",
    ),
    countSend: db.prepare(
      'UPDATE commands SET attempts = attempts + 1, last_sent_at = @at WHERE id = @id AND (last_sent_at IS NULL OR last_sent_at < @at)',
    ),
    answered: db.prepare(
      `UPDATE commands SET state = @state, updated_at = @at, result = @result,
         attempts = attempts + 1, last_sent_at = @sentAt
       WHERE id = @id AND state IN ('pending', 'sent')`,
    ),
    // A final state is final: no late answer or event revives a command (e.g. expired -> completed).
    setState: db.prepare(
      `UPDATE commands SET state = ?, updated_at = ?, result = coalesce(?, result)
       WHERE id = ? AND state NOT IN ('rejected', 'completed', 'failed', 'expired')`,
    ),
    due: db.prepare(
      "SELECT * FROM commands WHERE state IN ('pending', 'sent') AND deadline < ? ORDER BY created_at",
    ),
    expire: db.prepare("UPDATE commands SET state = 'expired', updated_at = ? WHERE id = ?"),
    count: db.prepare('SELECT state, count(*) AS n FROM commands GROUP BY state'),
  };
  /** setState with `onlyFrom`: one guarded UPDATE per set of states, prepared once. */
  const fromStatements = new Map<string, Database.Statement>();
  const setStateFrom = (onlyFrom: readonly CommandState[]) => {
    const key = onlyFrom.join(',');
    let stmt = fromStatements.get(key);
    if (!stmt) {
      const states = onlyFrom.filter((st) => COMMAND_STATES.includes(st));
      stmt = db.prepare(
        `UPDATE commands SET state = ?, updated_at = ?, result = coalesce(?, result)
         WHERE id = ? AND state NOT IN ('rejected', 'completed', 'failed', 'expired')
         AND state IN (${states.map((st) => `'${st}'`).join(', ') || 'NULL'})`,
      );
      fromStatements.set(key, stmt);
    }
    return stmt;
  };
  return {
    async insert(c) {
      s.insert.run(commandValues(c));
    },
    async insertIfKiosk(c, kiosk) {
      const row = commandValues(c);
      row.push(c.kioskId, kiosk.booted ? 1 : 0, featuresText(kiosk.features));
      return s.insertIfKiosk.run(row).changes === 1;
    },
    async get(id) {
      const r = s.get.get(id) as Row | undefined;
      return r && toRecord(r);
    },
    async listOutstanding(kioskId) {
      return (s.outstanding.all(kioskId) as Row[]).map(toRecord);
    },
    async listForKiosk(kioskId, opts) {
      const before = opts.beforeCreatedAt ?? '9999';
      return (s.forKiosk.all(kioskId, before, opts.limit) as Row[]).map(toRecord);
    },
    async markSent(id, at) {
      return s.sent.run(at, at, id).changes === 1;
    },
    async countSend(id, at) {
      return s.countSend.run({ id, at }).changes === 1;
    },
    async setAnswered(id, state, at, result, sentAt) {
      return s.answered.run({ id, state, at, result: toJson(result), sentAt }).changes === 1;
    },
    async setState(id, state, at, result, onlyFrom) {
      const json = result == null ? null : toJson(result);
      const stmt = onlyFrom ? setStateFrom(onlyFrom) : s.setState;
      return stmt.run(state, at, json, id).changes === 1;
    },
    async recordAnswers(answers) {
      return answers.map((a) =>
        a.sentAt === null
          ? setStateFrom(['pending', 'sent']).run(a.state, a.at, toJson(a.result), a.id).changes ===
            1
          : s.answered.run({ ...a, result: toJson(a.result) }).changes === 1,
      );
    },
    async expireDue(now) {
      const rows = (s.due.all(now) as Row[]).map(toRecord);
      for (const r of rows) {
        s.expire.run(now, r.id);
        r.state = 'expired';
        r.updatedAt = now;
      }
      return rows;
    },
    async countByState() {
      const out: Record<string, number> = {};
      for (const r of s.count.all() as { state: string; n: number }[]) out[r.state] = r.n;
      return out;
    },
  };
}
