/**
 * The store kinds the contract suite runs against: SQLite always; PostgreSQL when a server is
 * available (test/helpers/postgres.ts: DISK_KIOSK_PG_URL or a throw-away cluster), and
 * without fail when DISK_KIOSK_FULL_TESTS=1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../../../cloud-lite/log.js';
import { PostgresStore } from '../../../../cloud-lite/store/postgres/postgres-store.js';
import { SqliteStore } from '../../../../cloud-lite/store/sqlite/sqlite-store.js';
import type { Store } from '../../../../cloud-lite/store/types.js';
import { pgServer } from '../../../helpers/postgres.js';

export type Kind = 'sqlite' | 'postgres';

/** One fresh, empty store of a kind, and how to open more connections to the same data. */
export interface Opened {
  store: Store;
  /** Where the data is: the SQLite file or the PostgreSQL URL (for child processes). */
  location: string;
  /** Another store (its own connection or pool) on the same data; closed at teardown. */
  another(): Promise<Store>;
}

export interface OpenOptions {
  /** Gets the store's errors (failed after-commit callbacks). */
  logger?: Pick<Logger, 'error'>;
}

export interface StoreKind {
  kind: Kind;
  open(t: { teardown(fn: () => unknown): void }, opts?: OpenOptions): Promise<Opened>;
}

interface Tap {
  teardown(fn: () => unknown): void;
  fail(message: string, extra: object): unknown;
  comment(...args: unknown[]): void;
}

/** Opens a store of `kind` at `location` (what the child-process writers do too). */
export async function openStoreAt(kind: Kind, location: string): Promise<Store> {
  return kind === 'sqlite' ? SqliteStore.open(location) : PostgresStore.open(location);
}

/** Call once per test file, at the top level (it may start the file's PostgreSQL cluster). */
export async function storeKinds(t: Tap): Promise<StoreKind[]> {
  const kinds: StoreKind[] = [
    {
      kind: 'sqlite',
      async open(t, opts = {}) {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'store-contract-'));
        const location = path.join(dir, 'hub.db');
        const stores: Store[] = [];
        t.teardown(async () => {
          for (const s of stores) await s.close();
          await rm(dir, { recursive: true, force: true });
        });
        const another = async () => {
          const s = SqliteStore.open(location, { logger: opts.logger });
          stores.push(s);
          return s;
        };
        return { store: await another(), location, another };
      },
    },
  ];
  const server = await pgServer(t);
  if (server) {
    t.comment(`postgres: ${server.origin}`);
    kinds.push({
      kind: 'postgres',
      async open(t, opts = {}) {
        const location = await server.createDatabase();
        const stores: Store[] = [];
        t.teardown(async () => {
          for (const s of stores) await s.close();
        });
        const another = async () => {
          const s = await PostgresStore.open(location, { poolSize: 4, logger: opts.logger });
          stores.push(s);
          return s;
        };
        return { store: await another(), location, another };
      },
    });
  }
  return kinds;
}
