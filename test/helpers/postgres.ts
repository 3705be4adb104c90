/**
 * PostgreSQL for tests: the server named by DISK_KIOSK_PG_URL (a role that may CREATE
 * DATABASE), or else a throw-away cluster this helper starts itself: initdb in a temp dir
 * under os.tmpdir() as an unprivileged user (`postgres`, else `nobody`, when the tests run
 * as root), listening on a private Unix socket in that dir only (no TCP port), stopped and
 * removed at the test file's teardown, failures included (and at process exit as a last
 * resort). One cluster per test file at most; each test gets a fresh database.
 *
 * No PostgreSQL installed: the PostgreSQL tests skip, or FAIL when DISK_KIOSK_FULL_TESTS=1
 * (CI installs postgresql-15 with scripts/setup.sh).
 */
import { adminQuery, pgBinDir, startCluster, withDatabase } from '../../scripts/lib/pg-cluster.js';
import { fullTests } from './loop-device.js';

export interface PgServer {
  /** A URL of a new empty database on the server. */
  createDatabase(): Promise<string>;
  /** How the server was found: `DISK_KIOSK_PG_URL` or `throw-away cluster in <dir>`. */
  origin: string;
}

interface Tap {
  teardown(fn: () => unknown): void;
  fail(message: string, extra: object): unknown;
  comment(...args: unknown[]): void;
}

let counter = 0;
const dbName = () => `dk_test_${process.pid}_${++counter}`;

/**
 * The PostgreSQL server for this test file, or undefined when there is none and skipping is
 * allowed (the caller then runs SQLite only). Call once per file, at the top level.
 */
export async function pgServer(t: Tap): Promise<PgServer | undefined> {
  const external = process.env.DISK_KIOSK_PG_URL;
  if (external) {
    const made: string[] = [];
    t.teardown(async () => {
      for (const db of made)
        await adminQuery(external, `DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    });
    return {
      origin: 'DISK_KIOSK_PG_URL',
      async createDatabase() {
        const db = dbName();
        await adminQuery(external, `CREATE DATABASE ${db}`);
        made.push(db);
        return withDatabase(external, db);
      },
    };
  }
  const bin = pgBinDir();
  if (!bin) {
    const msg =
      'PostgreSQL is not installed (no initdb): the PostgreSQL store tests need it; scripts/setup.sh installs postgresql-15';
    if (fullTests())
      t.fail(`${msg}; DISK_KIOSK_FULL_TESTS=1 forbids skipping`, { stack: '', at: null });
    else t.comment(`skip postgres: ${msg}`);
    return undefined;
  }
  const cluster = startCluster(bin);
  t.teardown(cluster.stop);
  const adminUrl = cluster.adminUrl;
  return {
    origin: `throw-away cluster in ${cluster.dir}`,
    async createDatabase() {
      const db = dbName();
      await adminQuery(adminUrl, `CREATE DATABASE ${db}`);
      return withDatabase(adminUrl, db);
    },
  };
}

/**
 * The hub stores an integration test runs against: SQLite (the default configuration) and,
 * when a PostgreSQL server is available (or DISK_KIOSK_FULL_TESTS=1 demands it), PostgreSQL
 * on a fresh database per test. `config()` is what to merge into the hub's configuration.
 */
export async function hubStores(
  t: Tap,
): Promise<Array<{ kind: 'sqlite' | 'postgres'; config(): Promise<Record<string, unknown>> }>> {
  const server = await pgServer(t);
  return [
    { kind: 'sqlite', config: async () => ({}) },
    ...(server
      ? [
          {
            kind: 'postgres' as const,
            config: async () => ({
              store: { kind: 'postgres', url: await server.createDatabase() },
            }),
          },
        ]
      : []),
  ];
}
