import type Database from 'better-sqlite3';

/** How one record type maps to one table: key column, JSON columns and boolean columns. */
export interface TableSpec {
  name: string;
  key: string;
  json?: readonly string[];
  bool?: readonly string[];
  /** Called before every insert or update (the store syncs commits that wrote money tables). */
  onWrite?: () => void;
}

/** `?, ?, ?` for an IN list of `n` values. */
export const marks = (n: number) => new Array(n).fill('?').join(', ');

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Record <-> row conversion and keyed insert/get/update for a table (columns = record fields). */
export function table<T extends object, K = string>(db: Database.Database, spec: TableSpec) {
  const json = new Set(spec.json ?? []);
  const bool = new Set(spec.bool ?? []);
  const keyCol = snake(spec.key);
  const toRow = (rec: Partial<T>) => {
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (v === undefined) continue;
      row[snake(k)] = json.has(k)
        ? v === null
          ? null
          : JSON.stringify(v)
        : bool.has(k)
          ? v
            ? 1
            : 0
          : v;
    }
    return row;
  };
  const fromRow = (row: Record<string, unknown>): T => {
    const rec: Record<string, unknown> = {};
    for (const [col, v] of Object.entries(row)) {
      const k = camel(col);
      rec[k] = json.has(k)
        ? v === null
          ? null
          : JSON.parse(v as string)
        : bool.has(k)
          ? v === 1
          : v;
    }
    return rec as T;
  };
  const getStmt = db.prepare(`SELECT * FROM ${spec.name} WHERE ${keyCol} = ?`);
  const inserts = new Map<string, Database.Statement>();
  const updates = new Map<string, Database.Statement>();
  /** The keyed access of the `Table` interface (insert, get by key, update by key). */
  const keyed = {
    async insert(rec: T): Promise<void> {
      spec.onWrite?.();
      const row = toRow(rec);
      const cols = Object.keys(row);
      const sig = cols.join(',');
      let st = inserts.get(sig);
      if (!st) {
        st = db.prepare(
          `INSERT INTO ${spec.name} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
        );
        inserts.set(sig, st);
      }
      st.run(row);
    },
    async get(id: K): Promise<T | undefined> {
      const r = getStmt.get(id) as Record<string, unknown> | undefined;
      return r && fromRow(r);
    },
    async update(id: K, patch: Partial<T>): Promise<void> {
      spec.onWrite?.();
      const row = toRow(patch);
      delete row[keyCol];
      const cols = Object.keys(row);
      if (cols.length === 0) return;
      const sig = cols.join(',');
      let st = updates.get(sig);
      if (!st) {
        st = db.prepare(
          `UPDATE ${spec.name} SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE ${keyCol} = @__key`,
        );
        updates.set(sig, st);
      }
      st.run({ ...row, __key: id });
    },
  };
  return {
    fromRow,
    keyed,
    insert: keyed.insert,
    get: keyed.get,
    all(sql: string, ...params: unknown[]): T[] {
      return (db.prepare(sql).all(...params) as Record<string, unknown>[]).map(fromRow);
    },
    one(sql: string, ...params: unknown[]): T | undefined {
      const r = db.prepare(sql).get(...params) as Record<string, unknown> | undefined;
      return r && fromRow(r);
    },
  };
}
