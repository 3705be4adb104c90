import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * The queries of one transaction, on the pool client that runs it. Every statement is sent
 * as a named prepared statement (the name is a hash of its text), so PostgreSQL parses and
 * plans each distinct statement once per connection, as better-sqlite3's prepared statements
 * do for the SQLite store.
 */
export interface Sql {
  /** The rows a statement returns (`$1`, `$2`, ... take `values`). */
  rows<T = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<T[]>;
  /** The first row, if any. */
  one<T = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<T | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(text: string, values?: readonly unknown[]): Promise<number>;
}

const names = new Map<string, string>();

/** A stable statement name for `text` (the same text gets the same name on every connection). */
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `dk_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/** `counted`: called once per statement sent (one round trip each), to count them. */
export function sqlOn(client: pg.ClientBase, counted?: () => void): Sql {
  const query = (text: string, values: readonly unknown[] = []) => {
    counted?.();
    return client.query({ name: statementName(text), text, values: values as unknown[] });
  };
  return {
    async rows<T>(text: string, values?: readonly unknown[]) {
      return (await query(text, values)).rows as T[];
    },
    async one<T>(text: string, values?: readonly unknown[]) {
      return (await query(text, values)).rows[0] as T | undefined;
    },
    async run(text: string, values?: readonly unknown[]) {
      return (await query(text, values)).rowCount ?? 0;
    },
  };
}
