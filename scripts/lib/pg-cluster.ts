/**
 * A throw-away PostgreSQL cluster: initdb in a fresh temp dir under os.tmpdir() as an
 * unprivileged user (`postgres`, else `nobody`, when we run as root), listening on a private
 * Unix socket in that dir only (no TCP port). `stop` stops the server and removes the dir
 * (also run at process exit as a last resort). Used by the tests (test/helpers/postgres.ts)
 * and by fleet-sim (`--store postgres`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PgCluster {
  dir: string;
  /** The superuser's URL of the `postgres` database, over the cluster's socket. */
  adminUrl: string;
  stop: () => void;
}

/** The directory of initdb/pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else PATH. */
export function pgBinDir(): string | undefined {
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

/** Runs one SQL statement as a fresh client of `url` (CREATE/DROP DATABASE and the like). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Replaces the database of `url` with `db`. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * initdb + pg_ctl start in a fresh temp dir (`bin`: pgBinDir()'s answer). By default without
 * fsync, synchronous commits or full-page writes (tests and simulations lose nothing they
 * keep); `durable`: PostgreSQL's defaults, as a production server runs (benchmarks).
 * `settings`: more server settings (`-c name=value`), e.g. max_connections.
 */
export function startCluster(
  bin: string,
  opts: { durable?: boolean; settings?: Record<string, string> } = {},
): PgCluster {
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
      ...(opts.durable ? [] : ['--no-sync']),
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
      `-c listen_addresses='' -k ${dir}${opts.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off'}${Object.entries(
        opts.settings ?? {},
      )
        .map(([k, v]) => ` -c ${k}=${v}`)
        .join('')}`,
      'start',
    ]);
  } catch (err) {
    stop();
    throw err;
  }
  const adminUrl = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(dir)}`;
  return { dir, adminUrl, stop };
}
