/**
 * Read access to the hub's database for the simulation (fault triggers, settling, the
 * end-of-run check): the SQLite file read-only, or the shared PostgreSQL database through a
 * small pool. Queries are written once in SQLite's dialect with `?` parameters (the hub's
 * timestamps are ISO-8601 text in both stores, so comparisons agree).
 *
 * The checkers read SQLite synchronously; on PostgreSQL `snapshot()` copies every hub table
 * into a SQLite file (jsonb as JSON text, booleans as 0/1, BIGINT as numbers, rows in
 * insertion order) so they read the shared database's content as it is at rest.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export type Row = Record<string, unknown>;

export interface HubDb {
  /** What the checkers open: the SQLite file itself, or a snapshot of PostgreSQL's tables. */
  readonly kind: 'sqlite' | 'postgres';
  all(sql: string, ...params: unknown[]): Promise<Row[]>;
  /** A SQLite file with the hub's tables (PostgreSQL: copied into `file`). */
  snapshot(file: string): Promise<string>;
  close(): Promise<void>;
}

export function sqliteHubDb(databasePath: string): HubDb {
  return {
    kind: 'sqlite',
    async all(sql, ...params) {
      const db = new Database(databasePath, { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all(...params) as Row[];
      } finally {
        db.close();
      }
    },
    async snapshot() {
      return databasePath;
    },
    async close() {},
  };
}

/** `?` placeholders to PostgreSQL's `$n` (the simulation's queries have no `?` in literals). */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

const INT_TYPES = new Set(['bigint', 'integer', 'smallint']);

export function postgresHubDb(url: string): HubDb {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {}); // a dropped idle connection: the next query reconnects
  return {
    kind: 'postgres',
    async all(sql, ...params) {
      return (await pool.query(numbered(sql), params)).rows as Row[];
    },
    async snapshot(file) {
      const cols = (
        await pool.query(
          `SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
        )
      ).rows as Array<{ table_name: string; column_name: string; data_type: string }>;
      const tables = new Map<string, Array<{ name: string; type: string }>>();
      for (const c of cols) {
        const list = tables.get(c.table_name) ?? [];
        list.push({ name: c.column_name, type: c.data_type });
        tables.set(c.table_name, list);
      }
      const db = new Database(file);
      try {
        for (const [table, columns] of tables) {
          const names = columns.map((c) => `"${c.name}"`).join(', ');
          db.exec(`CREATE TABLE "${table}" (${names})`);
          const order = columns.some((c) => c.name === 'row_no') ? ' ORDER BY row_no' : '';
          const rows = (await pool.query(`SELECT * FROM "${table}"${order}`)).rows as Row[];
          const insert = db.prepare(
            `INSERT INTO "${table}" (${names}) VALUES (${columns.map(() => '?').join(', ')})`,
          );
          const value = (type: string, v: unknown): unknown => {
            if (v === null || v === undefined) return null;
            if (INT_TYPES.has(type)) return Number(v);
            if (type === 'boolean') return v ? 1 : 0;
            if (type === 'jsonb' || type === 'json') return JSON.stringify(v);
            if (v instanceof Date) return v.toISOString();
            return v;
          };
          db.transaction(() => {
            for (const r of rows) insert.run(...columns.map((c) => value(c.type, r[c.name])));
          })();
        }
      } finally {
        db.close();
      }
      return file;
    },
    async close() {
      await pool.end();
    },
  };
}
