import type pg from 'pg';
import { StoreVersionError } from '../../errors.js';

/** One PostgreSQL migration: `version` is the schema version after it (as SQLite's user_version). */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Every process migrating takes this advisory lock first, so two hubs starting at once take turns. */
const MIGRATE_LOCK = 0x6b696f736b; // "kiosk"

/**
 * Brings the schema to the latest version, like common/sqlite-migrate.ts does for SQLite:
 * every pending migration runs in ONE transaction together with its row in
 * `cloud_lite_schema`, so a failure leaves the database as it was; a database from newer
 * code is refused (StoreVersionError). Returns the versions before and after.
 */
export async function pgMigrate(
  client: pg.ClientBase,
  migrations: readonly PgMigration[],
): Promise<{ from: number; to: number }> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS cloud_lite_schema (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ v: number }>(
      'SELECT coalesce(max(version), 0)::integer AS v FROM cloud_lite_schema',
    );
    const current = rows[0]?.v ?? 0;
    if (current > latest) throw new StoreVersionError(current, latest);
    for (const m of migrations.filter((m) => m.version > current)) {
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new Error(
          `migration ${m.name} failed: ${(err as Error).message}; the database was left at version ${current}`,
          { cause: err },
        );
      }
      await client.query('INSERT INTO cloud_lite_schema (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
    }
    await client.query('COMMIT');
    return { from: current, to: latest };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
