import type { HubConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** The store of either kind: the `Store` interface, and the commit counts both keep. */
export type HubStore = SqliteStore | PostgresStore;

/**
 * Opens (and migrates) the store the configuration names: SQLite at `databasePath`, or
 * PostgreSQL at `store.url` with `store.poolSize` connections at most. Throws
 * StoreVersionError for a schema newer than this program, StoreServerError for a
 * PostgreSQL that cannot be reached or is too old. The PostgreSQL store (and `pg`) is loaded
 * only for `store.kind: 'postgres'`: a SQLite hub never has it in memory.
 */
export async function openStore(
  config: Pick<HubConfig, 'databasePath' | 'store'>,
  opts: { logger?: Pick<Logger, 'error'>; moneySync?: boolean } = {},
): Promise<HubStore> {
  if (config.store.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    return PostgresStore.open(config.store.url ?? '', {
      poolSize: config.store.poolSize,
      syncBookkeeping: config.store.syncBookkeeping,
      logger: opts.logger,
    });
  }
  return SqliteStore.open(config.databasePath, opts);
}
