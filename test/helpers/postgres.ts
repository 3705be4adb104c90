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
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
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

/** The directory of initdb/pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else PATH. */
function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  for (const d of (process.env.PATH ?? '').split(':'))
    if (d && existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl'))) return d;
  return undefined;
}

/** uid/gid to run the cluster as: ours, or an unprivileged user's when we are root. */
function clusterUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {}
  }
  throw new Error('running as root and neither user postgres nor nobody exists to run PostgreSQL');
}

let counter = 0;
const dbName = () => `dk_test_${process.pid}_${++counter}`;

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Replaces the database of `url` with `db`. */
function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

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
  const adminUrl = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(cluster.dir)}`;
  return {
    origin: `throw-away cluster in ${cluster.dir}`,
    async createDatabase() {
      const db = dbName();
      await adminQuery(adminUrl, `CREATE DATABASE ${db}`);
      return withDatabase(adminUrl, db);
    },
  };
}

/** initdb + pg_ctl start in a fresh temp dir; `stop` stops the server and removes the dir. */
function startCluster(bin: string): { dir: string; stop: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dk-pg-'));
  const data = path.join(dir, 'data');
  const user = clusterUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (prog: string, args: string[]) => {
    const r = spawnSync(path.join(bin, prog), args, {
      ...user,
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    });
    if (r.status !== 0)
      throw new Error(`${prog} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr}`);
  };
  let started = false;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    if (started) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  try {
    run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    started = true;
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses='' -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
  } catch (err) {
    stop();
    throw err;
  }
  return { dir, stop };
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
