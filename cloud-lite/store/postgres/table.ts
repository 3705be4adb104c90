import type { Sql } from './sql.js';

/** How one record type maps to one table: key column and JSON (jsonb) columns. */
export interface PgTableSpec {
  name: string;
  key: string;
  json?: readonly string[];
}

/**
 * The column that keeps insertion order where SQLite's `rowid` breaks ties (`ORDER BY
 * created_at, row_no`); never part of a record.
 */
export const ROW_NO = 'row_no';

/**
 * `convert`, remembering its answers: there are only so many column and field names (a
 * regular expression per column of every row read was ~1 % of a hub's time under command
 * traffic). At most 2000 are kept.
 */
function memo(convert: (s: string) => string): (s: string) => string {
  const known = new Map<string, string>();
  return (s) => {
    let out = known.get(s);
    if (out === undefined) {
      out = convert(s);
      if (known.size < 2000) known.set(s, out);
    }
    return out;
  };
}

const snake = memo((s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
const camel = memo((s) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));

/**
 * Record <-> row conversion and keyed insert/get/update for a table (columns = record
 * fields), the PostgreSQL twin of sqlite/table.ts: jsonb columns are written as JSON text and
 * come back parsed by the driver; booleans are PostgreSQL booleans.
 */
export function pgTable<T extends object, K = string>(sql: Sql, spec: PgTableSpec) {
  const json = new Set(spec.json ?? []);
  const keyCol = snake(spec.key);
  const toRow = (rec: Partial<T>) => {
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (v === undefined) continue;
      row[snake(k)] = json.has(k) && v !== null ? JSON.stringify(v) : v;
    }
    return row;
  };
  const fromRow = (row: Record<string, unknown>): T => {
    const rec: Record<string, unknown> = {};
    for (const [col, v] of Object.entries(row)) if (col !== ROW_NO) rec[camel(col)] = v;
    return rec as T;
  };
  const keyed = {
    async insert(rec: T): Promise<void> {
      const row = toRow(rec);
      const cols = Object.keys(row);
      await sql.run(
        `INSERT INTO ${spec.name} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    },
    async get(id: K): Promise<T | undefined> {
      const r = await sql.one(`SELECT * FROM ${spec.name} WHERE ${keyCol} = $1`, [id]);
      return r && fromRow(r);
    },
    async update(id: K, patch: Partial<T>): Promise<void> {
      const row = toRow(patch);
      delete row[keyCol];
      const cols = Object.keys(row);
      if (cols.length === 0) return;
      await sql.run(
        `UPDATE ${spec.name} SET ${cols.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE ${keyCol} = $${cols.length + 1}`,
        [...Object.values(row), id],
      );
    },
  };
  return {
    fromRow,
    keyed,
    insert: keyed.insert,
    get: keyed.get,
    async all(text: string, ...params: unknown[]): Promise<T[]> {
      return (await sql.rows(text, params)).map(fromRow);
    },
    async one(text: string, ...params: unknown[]): Promise<T | undefined> {
      const r = await sql.one(text, params);
      return r && fromRow(r);
    },
  };
}
