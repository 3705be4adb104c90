import type Database from 'better-sqlite3';
import {
  COMMAND_STATES,
  type CommandRecord,
  type CommandRepo,
  type CommandState,
} from '../repos/command-repo.js';
import { fromJson, toJson } from './json.js';

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

function toRow(c: CommandRecord) {
  return {
    id: c.id,
    kiosk_id: c.kioskId,
    action: c.action,
    payload: toJson(c.payload),
    state: c.state,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    deadline: c.deadline,
    attempts: c.attempts,
    last_sent_at: c.lastSentAt,
    result: c.result === null ? null : toJson(c.result),
  };
}

export function sqliteCommandRepo(db: Database.Database): CommandRepo {
  const s = {
    insert: db.prepare(
      `INSERT INTO commands (id, kiosk_id, action, payload, state, created_at, updated_at, deadline, attempts, last_sent_at, result)
       VALUES (@id, @kiosk_id, @action, @payload, @state, @created_at, @updated_at, @deadline, @attempts, @last_sent_at, @result)`,
    ),
    insertIfKiosk: db.prepare(
      `INSERT INTO commands (id, kiosk_id, action, payload, state, created_at, updated_at, deadline, attempts, last_sent_at, result)
       SELECT @id, @kiosk_id, @action, @payload, @state, @created_at, @updated_at, @deadline, @attempts, @last_sent_at, @result
       WHERE EXISTS (SELECT 1 FROM kiosks WHERE id = @kiosk_id AND CASE WHEN @booted
         THEN last_boot_at IS NOT NULL AND features IS @features ELSE last_boot_at IS NULL END)`,
    ),
    get: db.prepare('SELECT * FROM commands WHERE id = ?'),
    outstanding: db.prepare(
      "SELECT * FROM commands WHERE kiosk_id = ? AND state IN ('pending', 'sent') ORDER BY created_at, rowid",
    ),
    forKiosk: db.prepare(
      'SELECT * FROM commands WHERE kiosk_id = ? AND created_at < ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    ),
    sent: db.prepare(
      "UPDATE commands SET state = 'sent', attempts = attempts + 1, last_sent_at = @at, updated_at = @at WHERE id = @id AND state IN ('pending', 'sent')",
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
      s.insert.run(toRow(c));
    },
    async insertIfKiosk(c, kiosk) {
      return (
        s.insertIfKiosk.run({
          ...toRow(c),
          booted: kiosk.booted ? 1 : 0,
          features: kiosk.features === null ? null : JSON.stringify(kiosk.features),
        }).changes === 1
      );
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
      return s.sent.run({ at, id }).changes === 1;
    },
    async setAnswered(id, state, at, result, sentAt) {
      return s.answered.run({ id, state, at, result: toJson(result), sentAt }).changes === 1;
    },
    async setState(id, state, at, result, onlyFrom) {
      const json = result == null ? null : toJson(result);
      const stmt = onlyFrom ? setStateFrom(onlyFrom) : s.setState;
      return stmt.run(state, at, json, id).changes === 1;
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
